import Foundation
import Testing
@testable import LfosaData

@Suite("Decode cache")
struct DecodeCacheTests {
    func cacheFiles(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("pool-") && $0.hasSuffix(".bin") }.map { dir + "/" + $0 }
    }

    @Test func secondLoadComesFromCacheAndEqualsTheFirst() throws {
        try withTempDirectory { dir in
            try writeFile(dir + "/src/a/1.png", PNGCodec.encode(patternImage(width: 32, height: 32, seed: 1)))
            try writeFile(dir + "/src/b/2.jpg", JPEGCodec.encode(smoothImage(width: 50, height: 40)))
            try writeFile(dir + "/src/b/junk.txt", [1])
            let options = LoadOptions(cacheDirectory: dir + "/cache")
            let first = try DatasetLoader.load(spec: dir + "/src", options: options)
            #expect(!first.fromCache)
            let second = try DatasetLoader.load(spec: dir + "/src", options: options)
            #expect(second.fromCache)
            var expected = first; expected.fromCache = true
            #expect(second == expected)
            // A different size is a different slot.
            let other = try DatasetLoader.load(spec: dir + "/src", options: LoadOptions(resize: ResizePolicy(width: 8, height: 8), cacheDirectory: dir + "/cache"))
            #expect(!other.fromCache && other.train.width == 8)
            #expect(try cacheFiles(dir + "/cache").count == 2)
        }
    }

    @Test func staleCacheIsRebuilt() throws {
        try withTempDirectory { dir in
            try writeFile(dir + "/src/1.png", PNGCodec.encode(patternImage(width: 32, height: 32, seed: 1)))
            let options = LoadOptions(cacheDirectory: dir + "/cache")
            _ = try DatasetLoader.load(spec: dir + "/src", options: options)
            try writeFile(dir + "/src/2.png", PNGCodec.encode(patternImage(width: 32, height: 32, seed: 2)))
            let after = try DatasetLoader.load(spec: dir + "/src", options: options)
            #expect(!after.fromCache && after.train.count == 2)
            #expect(try DatasetLoader.load(spec: dir + "/src", options: options).fromCache)
        }
    }

    @Test func corruptOrTruncatedCacheIsRebuilt() throws {
        try withTempDirectory { dir in
            try writeFile(dir + "/src/1.png", PNGCodec.encode(patternImage(width: 32, height: 32, seed: 1)))
            let options = LoadOptions(cacheDirectory: dir + "/cache")
            let first = try DatasetLoader.load(spec: dir + "/src", options: options)
            let file = try #require(try cacheFiles(dir + "/cache").first)
            var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
            bytes[bytes.count / 2] ^= 0x55
            try writeFile(file, bytes)
            let rebuilt = try DatasetLoader.load(spec: dir + "/src", options: options)
            #expect(!rebuilt.fromCache && rebuilt.train == first.train)
            try writeFile(file, Array(bytes.prefix(20)))
            #expect(!(try DatasetLoader.load(spec: dir + "/src", options: options).fromCache))
            try writeFile(file, [])
            #expect(!(try DatasetLoader.load(spec: dir + "/src", options: options).fromCache))
            #expect(try DatasetLoader.load(spec: dir + "/src", options: options).fromCache)
        }
    }

    @Test func archiveRejectsEveryTruncation() throws {
        let pool = ImagePool(channels: 1, height: 2, width: 2, pixels: [1, 2, 3, 4, 5, 6, 7, 8], labels: [0, nil], classNames: ["x"],
                             identities: ["a", "b"], paths: [nil, "p"])
        let d = LoadedDataset(train: pool, test: pool, format: "idx", skipped: [SkippedFile(path: "q", reason: "r")], path: "/x",
                              originalSizes: [SizeCount(width: 2, height: 2, count: 2)], resize: ResizePolicy(width: 2, height: 2, fit: .letterbox))
        let bytes = PoolArchive.encode(d)
        var expected = d; expected.fromCache = true
        #expect(PoolArchive.decode(bytes[...]) == expected)
        for cut in 0..<bytes.count { #expect(PoolArchive.decode(bytes[0..<cut]) == nil) }
    }

    @Test func unwritableCacheDirectoryStillLoads() throws {
        try withTempDirectory { dir in
            try writeFile(dir + "/src/1.png", PNGCodec.encode(patternImage(width: 32, height: 32, seed: 1)))
            try writeFile(dir + "/file", [0])
            let d = try DatasetLoader.load(spec: dir + "/src", options: LoadOptions(cacheDirectory: dir + "/file/cache"))
            #expect(d.train.count == 1 && !d.fromCache)
        }
    }
}
