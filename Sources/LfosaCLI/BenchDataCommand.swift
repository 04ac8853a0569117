import ArgumentParser
import Foundation
import LfosaData

/// `lfosa bench data`: data-loading throughput, against Pillow for PNG decoding.
///
/// Measures (1) loading the CIFAR-10 binary directory into pools, (2) decoding a folder of
/// 32×32 PNG files (generated once from CIFAR images, or synthetic ones when CIFAR is
/// absent) and the same folder with Pillow through assets/bench/decode_pillow.py, (3) a
/// second start from the decode cache. Prints one JSON line; a summary goes to stderr.
struct BenchDataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Data loading: CIFAR-10 load time, PNG folder decode rate vs Pillow, cached second start."
    )

    @Option(help: "CIFAR-10 binary directory.")
    var cifar: String = "../shared/datasets/cifar-10-batches-bin"

    @Option(help: "Number of 32×32 PNG files in the decode benchmark folder.")
    var images: Int = 10_000

    @Option(help: "Working directory for the PNG folder and the cache (reused between runs).")
    var workdir: String = NSTemporaryDirectory() + "/lfosa-bench-data"

    @Option(help: "Python interpreter that has Pillow.")
    var python: String = "/usr/bin/python3"

    @Option(help: "The Pillow comparison script.")
    var script: String = "assets/bench/decode_pillow.py"

    @Option(help: "Repetitions per timing (the median is reported).")
    var repeats: Int = 3

    @Option(help: "Decoding threads (default: all online cores).")
    var threads: Int?

    @Flag(help: "Print JSON only.")
    var json = false

    mutating func run() throws {
        var fields: [(String, String)] = [("impl", "\"lfosa\"")]
        var summary: [String] = []
        let options = LoadOptions(workers: threads ?? 0)
        fields.append(("threads", "\(options.workers)"))

        var cifarImages: ImagePool? = nil
        if FileManager.default.fileExists(atPath: cifar + "/data_batch_1.bin") {
            var loaded: LoadedDataset? = nil
            let t = try median(repeats) { loaded = try DatasetLoader.load(Source(format: .cifar10, path: cifar), options: options) }
            let d = loaded!
            cifarImages = d.train
            fields += [("cifar10_train_items", "\(d.train.count)"), ("cifar10_test_items", "\(d.test?.count ?? 0)"),
                       ("cifar10_load_s", fmt(t, 4))]
            summary.append("CIFAR-10 (\(d.train.count) train + \(d.test?.count ?? 0) test) loaded in \(fmt(t, 3)) s")
        } else {
            summary.append("CIFAR-10 not found at \(cifar): skipped")
        }

        let folder = workdir + "/png32-\(images)"
        try makePNGFolder(folder, count: images, from: cifarImages)
        // lfosa and Pillow alternate, one run each per round, so a change in machine load
        // during the benchmark hits both alike; medians over the rounds are reported.
        var decodeTimes: [Double] = [], cpuPerImages: [Double] = []
        var pillowRates: [Double] = [], pillowCPUs: [Double] = []
        var n = 0
        for _ in 0..<max(1, repeats) {
            var decoded: LoadedDataset? = nil
            let cpuBefore = processCPUSeconds()
            decodeTimes.append(try median(1) { decoded = try DatasetLoader.load(Source(format: .imageFolder, path: folder), options: options) })
            n = decoded!.train.count
            cpuPerImages.append((processCPUSeconds() - cpuBefore) / Double(max(1, n)))
            if let pillow = runPillow(folder) { pillowRates.append(pillow.rate); pillowCPUs.append(pillow.cpuPerImage) }
        }
        let tDecode = middle(decodeTimes), cpuPerImage = middle(cpuPerImages)
        let rate = Double(n) / tDecode
        fields += [("png_items", "\(n)"), ("png_decode_s", fmt(tDecode, 4)), ("png_images_per_s", fmt(rate, 1)),
                   ("png_cpu_us_per_image", fmt(cpuPerImage * 1e6, 1))]
        summary.append("PNG folder: \(n) files in \(fmt(tDecode, 3)) s = \(Int(rate)) images/s (\(fmt(cpuPerImage * 1e6, 1)) µs CPU per image)")

        if pillowRates.count == max(1, repeats) {
            let pillowRate = middle(pillowRates), pillowCPU = middle(pillowCPUs)
            // Per round too: the ratio of runs taken next to each other.
            let roundRatios = zip(decodeTimes, pillowRates).map { Double(n) / $0.0 / $0.1 }
            fields += [("pillow_images_per_s", fmt(pillowRate, 1)), ("pillow_cpu_us_per_image", fmt(pillowCPU * 1e6, 1)),
                       ("ratio_vs_pillow", fmt(rate / pillowRate, 2)), ("round_ratios", "[" + roundRatios.map { fmt($0, 2) }.joined(separator: ",") + "]"),
                       ("cpu_ratio_vs_pillow", fmt(pillowCPU / cpuPerImage, 2))]
            summary.append("Pillow (1 process): \(Int(pillowRate)) images/s (\(fmt(pillowCPU * 1e6, 1)) µs CPU per image); "
                           + "lfosa is \(fmt(rate / pillowRate, 2))× faster in wall time (rounds: \(roundRatios.map { fmt($0, 2) }.joined(separator: ", "))), "
                           + "\(fmt(pillowCPU / cpuPerImage, 2))× less CPU per image")
        } else {
            summary.append("Pillow comparison unavailable (\(python) \(script) failed)")
        }

        let cacheDir = workdir + "/cache"
        var cached = options
        cached.cacheDirectory = cacheDir
        _ = try DatasetLoader.load(Source(format: .imageFolder, path: folder), options: cached)
        var second: LoadedDataset? = nil
        let tCache = try median(repeats) { second = try DatasetLoader.load(Source(format: .imageFolder, path: folder), options: cached) }
        fields += [("png_cached_start_s", fmt(tCache, 4)), ("png_cache_hit", "\(second!.fromCache)")]
        summary.append("second start from cache: \(fmt(tCache, 3)) s (hit: \(second!.fromCache))")
        print("{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
        if !json { FileHandle.standardError.write(Data((summary.joined(separator: "\n") + "\n").utf8)) }
    }

    private func median(_ n: Int, _ body: () throws -> Void) throws -> Double {
        var times: [Double] = []
        for _ in 0..<max(1, n) {
            let start = DispatchTime.now().uptimeNanoseconds
            do { try body() } catch {
                FileHandle.standardError.write(Data("lfosa bench data: \(error)\n".utf8))
                throw ExitCode.failure
            }
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }

    /// Writes `count` 32×32 PNGs (CIFAR images when available) unless the folder already has them.
    private func makePNGFolder(_ folder: String, count: Int, from pool: ImagePool?) throws {
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".png") }.count) ?? 0
        if existing == count { return }
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for i in 0..<count {
            let image: RasterImage
            if let pool, pool.count > 0 {
                image = pool.raster(at: i % pool.count)
            } else {
                var px = [UInt8](repeating: 0, count: 3072)
                var s = UInt32(truncatingIfNeeded: i &* 2654435761)
                for k in 0..<3072 { s = s &* 1664525 &+ 1013904223; px[k] = UInt8((k / 3 % 32) * 6 + Int(s >> 28)) }
                image = RasterImage(width: 32, height: 32, channels: 3, pixels: px)
            }
            do {
                try PNGCodec.write(image, to: folder + String(format: "/img%05d.png", i))
            } catch {
                FileHandle.standardError.write(Data("lfosa bench data: \(error)\n".utf8))
                throw ExitCode.failure
            }
        }
    }

    /// User + system CPU seconds this process has used so far (all threads).
    private func processCPUSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// Pillow's images/s and CPU seconds per image on `folder`, or nil when the script cannot run.
    private func runPillow(_ folder: String) -> (rate: Double, cpuPerImage: Double)? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, folder, "--size", "32", "--repeats", "1"]
        let pipe = Pipe()
        process.standardOutput = pipe
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let rate = object["images_per_s"] as? Double, let cpu = object["cpu_s_per_image"] as? Double else { return nil }
        return (rate, cpu)
    }

    private func middle(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    private func fmt(_ v: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", v) }
}
