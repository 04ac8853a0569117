import ArgumentParser
import Foundation
import LfosaData

/// `lfosa dataset SOURCE`: what a dataset source holds, and what could not be read.
///
/// Exit 0 with a report on stdout when the source loads (bad files inside it are listed
/// as skipped); exit 1 with one line `lfosa dataset: PATH: problem` on stderr when the
/// source cannot be used at all.
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Show what a dataset source holds: format, items, classes, image sizes, skipped files.",
        discussion: """
        SOURCE is an image folder (flat or one subfolder per class), a CSV manifest (path,label), \
        a CIFAR-10/100 binary directory, an IDX file or directory (MNIST, Fashion-MNIST), or \
        `fashion-mnist` for Debian's dataset-fashion-mnist files. Force a format with a prefix: \
        folder:, csv:, cifar10:, cifar100:, idx:, mnist:, fashion-mnist:.
        """
    )

    @Argument(help: "The dataset source (path, optionally with a format prefix).")
    var source: String

    @OptionGroup var loading: DatasetLoadingOptions

    @Option(help: "How many skipped files to list before summarising the rest.")
    var showSkipped: Int = 20

    mutating func run() throws {
        let dataset: LoadedDataset
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            dataset = try DatasetLoader.load(spec: source, options: loading.checkedLoadOptions())
        } catch {
            FileHandle.standardError.write(Data("lfosa dataset: \(error)\n".utf8))
            throw ExitCode.failure
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print(DatasetReport.render(dataset, maxSkipped: showSkipped, seconds: seconds), terminator: "")
    }
}

/// Source-loading options shared by every command that reads a dataset (use with `@OptionGroup`).
struct DatasetLoadingOptions: ParsableArguments {
    @Option(help: "Network input size for image folders and CSV manifests (square; packed formats keep theirs).")
    var size: Int = 32

    @Option(help: "Aspect policy when resizing: crop (centre crop) or letterbox.")
    var fit: String = ImageFit.centreCrop.rawValue

    @Option(help: "Refuse images with more pixels than this (decompression bombs).")
    var maxPixels: Int = DecodeLimits.default.maxPixels

    @Option(help: "Decode cache directory (default: $XDG_CACHE_HOME/lfosa or ~/.cache/lfosa).")
    var cache: String?

    @Flag(help: "Do not read or write the decode cache.")
    var noCache = false

    @Option(help: "Decoding threads (default: all online cores).")
    var threads: Int?

    /// The options as `LoadOptions`; throws one line naming the bad option.
    ///
    /// Checked here rather than in `validate()` so a bad value is one line on stderr
    /// (ArgumentParser's validation prints the usage too).
    func checkedLoadOptions(environment: [String: String] = ProcessInfo.processInfo.environment) throws(DataError) -> LoadOptions {
        guard size > 0 && size <= 4096 else { throw DataError(path: "--size", problem: "must be between 1 and 4096, got \(size)") }
        guard let policy = ImageFit(rawValue: fit) else { throw DataError(path: "--fit", problem: "must be crop or letterbox, got '\(fit)'") }
        guard maxPixels > 0 else { throw DataError(path: "--max-pixels", problem: "must be positive, got \(maxPixels)") }
        if let threads, threads <= 0 { throw DataError(path: "--threads", problem: "must be positive, got \(threads)") }
        return LoadOptions(resize: ResizePolicy(width: size, height: size, fit: policy),
                           limits: DecodeLimits(maxPixels: maxPixels),
                           cacheDirectory: noCache ? nil : (cache ?? DatasetLoadingOptions.defaultCacheDirectory(environment)),
                           workers: threads ?? 0)
    }

    /// `$XDG_CACHE_HOME/lfosa`, else `$HOME/.cache/lfosa`; nil when neither is set.
    static func defaultCacheDirectory(_ environment: [String: String]) -> String? {
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/lfosa" }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.cache/lfosa" }
        return nil
    }
}

/// The text `lfosa dataset` prints.
enum DatasetReport {
    static func render(_ d: LoadedDataset, maxSkipped: Int, seconds: Double? = nil) -> String {
        var out = ""
        func line(_ s: String = "") { out += s + "\n" }
        line("source:  \(d.path)")
        line("format:  \(d.format)" + (d.fromCache ? " (from cache)" : "") + (seconds.map { String(format: ", loaded in %.3f s", $0) } ?? ""))
        let pools = [("train", d.train)] + (d.test.map { [("test", $0)] } ?? [])
        for (name, pool) in pools {
            line("\(name): \(pool.count) items, \(pool.channels)×\(pool.height)×\(pool.width)" + (d.test == nil ? " (no train/test split)" : ""))
        }
        if let r = d.resize { line("resize:  \(r.width)×\(r.height), \(r.fit == .centreCrop ? "centre crop" : "letterbox")") }
        let names = d.train.classNames
        line("classes: \(names.count)" + (names.isEmpty ? " (no ground truth)" : ""))
        if !names.isEmpty {
            let train = d.train.classCounts(), test = d.test?.classCounts()
            let width = min(24, names.map(\.count).max() ?? 0)
            for (id, name) in names.enumerated() {
                let padded = name.count < width ? name + String(repeating: " ", count: width - name.count) : name
                line(String(format: "  %3d  ", id) + padded + "  \(train[id])" + (test.map { "  test \($0[id])" } ?? ""))
            }
        }
        let unlabeled = d.train.unlabeledCount
        if unlabeled > 0 { line("  unlabeled: \(unlabeled)") }
        let shown = d.originalSizes.prefix(8).map { "\($0.width)×\($0.height) (\($0.count))" }.joined(separator: ", ")
        line("image sizes: " + (shown.isEmpty ? "none" : shown) + (d.originalSizes.count > 8 ? ", and \(d.originalSizes.count - 8) other sizes" : ""))
        line("skipped: \(d.skipped.count) file\(d.skipped.count == 1 ? "" : "s")")
        for s in d.skipped.prefix(max(0, maxSkipped)) { line("  \(s)") }
        if d.skipped.count > maxSkipped { line("  … and \(d.skipped.count - max(0, maxSkipped)) more") }
        return out
    }
}
