import Foundation
import Testing
@testable import LfosaData
#if canImport(Glibc)
import Glibc
#endif

/// A fresh temporary directory, removed when `body` returns.
func withTempDirectory<T>(_ body: (String) throws -> T) throws -> T {
    var template = Array((NSTemporaryDirectory() + "/lfosa-data-test-XXXXXX").utf8CString)
    guard let made = mkdtemp(&template) else { throw DataError(path: "mkdtemp", problem: "failed") }
    let dir = String(cString: made)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try body(dir)
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    let dir = (path as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// CRC-32 (IEEE), as PNG and gzip use it.
func crc32(_ bytes: some Sequence<UInt8>) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        c ^= UInt32(b)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }
    return ~c
}

func bigEndian32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
func littleEndian32(_ v: UInt32) -> [UInt8] { bigEndian32(v).reversed() }

/// Raw deflate data made of stored (uncompressed) blocks.
func storedDeflate(_ data: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    var i = 0
    repeat {
        let n = min(65535, data.count - i)
        let final: UInt8 = i + n == data.count ? 1 : 0
        out.append(final)
        out += [UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
        out += data[i..<(i + n)]
        i += n
    } while i < data.count
    return out
}

/// A gzip file holding `data` (stored blocks), independent of the code under test.
func gzipStored(_ data: [UInt8]) -> [UInt8] {
    [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255] + storedDeflate(data) + littleEndian32(crc32(data)) + littleEndian32(UInt32(data.count))
}

/// A PNG file written by hand (stored zlib stream, filter 0), independent of libpng.
///
/// `rows` holds the raw scanline bytes without filter bytes.
struct PNGFixture {
    var width: Int
    var height: Int
    var bitDepth: UInt8 = 8
    /// 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA.
    var colorType: UInt8
    var rows: [[UInt8]]
    var palette: [UInt8]? = nil
    var transparency: [UInt8]? = nil

    func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let t = Array(type.utf8)
        return bigEndian32(UInt32(data.count)) + t + data + bigEndian32(crc32(t + data))
    }

    var bytes: [UInt8] {
        var raw: [UInt8] = []
        for r in rows { raw.append(0); raw += r }
        var adlerA: UInt32 = 1, adlerB: UInt32 = 0
        for b in raw { adlerA = (adlerA + UInt32(b)) % 65521; adlerB = (adlerB + adlerA) % 65521 }
        let zlib: [UInt8] = [0x78, 0x01] + storedDeflate(raw) + bigEndian32(adlerB << 16 | adlerA)
        var out = PNGCodec.signature
        out += chunk("IHDR", bigEndian32(UInt32(width)) + bigEndian32(UInt32(height)) + [bitDepth, colorType, 0, 0, 0])
        if let palette { out += chunk("PLTE", palette) }
        if let transparency { out += chunk("tRNS", transparency) }
        out += chunk("IDAT", zlib)
        out += chunk("IEND", [])
        return out
    }
}

/// A w×h RGB image whose pixels encode their position (deterministic test content).
func patternImage(width: Int, height: Int, seed: Int = 0) -> RasterImage {
    var px: [UInt8] = []
    for y in 0..<height { for x in 0..<width {
        px += [UInt8((x * 37 + seed * 11) & 0xFF), UInt8((y * 53 + seed * 7) & 0xFF), UInt8((x * y + seed) & 0xFF)]
    } }
    return RasterImage(width: width, height: height, channels: 3, pixels: px)
}

/// A smooth image (JPEG-friendly).
func smoothImage(width: Int, height: Int) -> RasterImage {
    var px: [UInt8] = []
    for y in 0..<height { for x in 0..<width {
        px += [UInt8(x * 255 / max(1, width - 1)), UInt8(y * 255 / max(1, height - 1)), 128]
    } }
    return RasterImage(width: width, height: height, channels: 3, pixels: px)
}

/// Expects `body` to throw a `DataError` whose one-line description names `path` and contains `words`.
func expectDataError(naming path: String, containing words: String, sourceLocation: SourceLocation = #_sourceLocation,
                     _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected a DataError naming \(path)", sourceLocation: sourceLocation)
    } catch let error as DataError {
        #expect(error.description.contains(path), "\(error)", sourceLocation: sourceLocation)
        #expect(error.description.lowercased().contains(words.lowercased()), "\(error)", sourceLocation: sourceLocation)
        #expect(!error.description.contains("\n"), sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error type: \(error)", sourceLocation: sourceLocation)
    }
}

let cifar10Directory = "/work/shared/datasets/cifar-10-batches-bin"
let fashionDirectory = "/usr/share/datasets/fashion-mnist"
