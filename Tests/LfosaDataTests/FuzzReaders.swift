#if !LFOSA_FUZZ
import Testing
@testable import LfosaData
#endif

/// Feeds arbitrary bytes to one of the readers; the first byte picks which.
///
/// The property under test: any input gives a value or a `DataError`, never a crash, a
/// hang or unbounded memory. Used by the libFuzzer target below and by the regression
/// test that replays hand-made inputs.
///
/// Fuzz build (from the package root; libFuzzer + AddressSanitizer):
///
///     swiftc -sanitize=fuzzer,address -parse-as-library -D LFOSA_FUZZ -O -module-name LfosaFuzz \
///       -I Sources/CPNG -I Sources/CTurboJPEG -I Sources/CZlib -Xcc -I/usr/include/libpng16 \
///       Sources/LfosaData/*.swift Tests/LfosaDataTests/FuzzReaders.swift -o /tmp/lfosa-fuzz
///     /tmp/lfosa-fuzz -max_total_time=300 -rss_limit_mb=1024 -max_len=65536 CORPUS_DIR
func fuzzReaders(_ input: UnsafeRawBufferPointer) {
    guard let selector = input.first else { return }
    let data = UnsafeRawBufferPointer(rebasing: input[1...])
    let bytes = Array(data)
    let limits = DecodeLimits(maxPixels: 4_000_000, maxFileBytes: 1 << 20, maxInflatedBytes: 16 << 20)
    switch selector % 8 {
    case 0:
        if let image = try? PNGCodec.decode(data, path: "fuzz.png", limits: limits) {
            precondition(image.pixels.count == image.width * image.height * 3)
            _ = Resampler.resize(image, to: ResizePolicy(width: 7, height: 5, fit: selector & 8 == 0 ? .centreCrop : .letterbox))
        }
    case 1:
        if let decoder = try? JPEGDecoder() {
            let target: DecodeTarget = selector & 8 == 0 ? .full : (selector & 16 == 0 ? .cover(width: 16, height: 16) : .fit(width: 20, height: 9))
            if let image = try? decoder.decode(data, path: "fuzz.jpg", limits: limits, target: target) {
                precondition(image.pixels.count == image.width * image.height * 3)
            }
        }
    case 2:
        let raw = Gzip.isGzip(bytes) ? ((try? Gzip.inflate(bytes, path: "fuzz.gz", maxBytes: limits.maxInflatedBytes)) ?? []) : bytes
        if let pool = try? IDXReader.pool(images: raw, imagesPath: "fuzz-idx3", labels: nil, labelsPath: nil) {
            precondition(pool.pixels.count == pool.count * pool.imageSize)
        }
    case 3:
        // Images file and labels file split at a byte given by the second byte.
        let cut = bytes.isEmpty ? 0 : min(bytes.count, Int(bytes[0]) * 4)
        _ = try? IDXReader.pool(images: Array(bytes[cut...]), imagesPath: "i", labels: Array(bytes[..<cut]), labelsPath: "l")
    case 4:
        if let pool = try? CIFARReader.parse(bytes, path: "fuzz.bin", variant: .cifar10) { precondition(pool.count == bytes.count / 3073) }
    case 5:
        if let pool = try? CIFARReader.parse(bytes, path: "fuzz.bin", variant: .cifar100) { precondition(pool.coarseLabels?.count == pool.count) }
    case 6:
        _ = PoolArchive.decode(bytes[...])
    default:
        if let text = String(validating: bytes, as: UTF8.self) { _ = CSVManifest.parse(text, manifestPath: "fuzz.csv") }
        if let decoder = try? JPEGDecoder(), let image = try? decoder.decode(data, path: "x", limits: limits) {
            _ = Resampler.fit(image, maxWidth: 9, maxHeight: 9)
        }
    }
}

#if LFOSA_FUZZ
@_cdecl("LLVMFuzzerTestOneInput")
public func lfosaFuzzOne(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzReaders(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}
#else
@Suite("Reader robustness")
struct ReaderRobustnessTests {
    /// Every prefix and some bit flips of valid files, through every reader: no crash.
    @Test func truncationsAndBitFlipsNeverCrash() throws {
        let png = try PNGCodec.encode(patternImage(width: 9, height: 7))
        let palette = PNGFixture(width: 3, height: 1, colorType: 3, rows: [[0, 1, 2]], palette: [1, 2, 3, 4, 5, 6, 7, 8, 9]).bytes
        let jpeg = try JPEGCodec.encode(smoothImage(width: 20, height: 12))
        let idx: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2] + [UInt8](repeating: 9, count: 8)
        let cifar: [UInt8] = [3] + [UInt8](repeating: 1, count: 3072)
        let gz = gzipStored(idx)
        var seeds: [(UInt8, [UInt8])] = [(0, png), (0, palette), (1, jpeg), (9, jpeg), (2, idx), (2, gz), (4, cifar), (5, cifar + [0]), (7, Array("a.png,x\n\"b".utf8))]
        if let archive = Optional(PoolArchive.encode(LoadedDataset(train: ImagePool.empty(channels: 3, height: 1, width: 1), test: nil, format: "f", skipped: [], path: "p", originalSizes: [], resize: nil))) {
            seeds.append((6, archive))
        }
        var runs = 0
        for (selector, file) in seeds {
            let step = max(1, file.count / 64)
            for cut in stride(from: 0, through: file.count, by: step) {
                ([selector] + file.prefix(cut)).withUnsafeBytes { fuzzReaders($0) }
                runs += 1
            }
            for k in stride(from: 0, to: file.count, by: max(1, file.count / 32)) {
                var flipped = file
                flipped[k] ^= 0xA5
                ([selector] + flipped).withUnsafeBytes { fuzzReaders($0) }
                runs += 1
            }
        }
        #expect(runs > 500)
    }
}
#endif
