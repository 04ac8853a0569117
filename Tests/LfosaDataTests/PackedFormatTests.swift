import Foundation
import Testing
@testable import LfosaData

@Suite("CIFAR and IDX sources")
struct PackedFormatTests {
    func cifar10Records(_ labels: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for (i, l) in labels.enumerated() { out.append(l); out += (0..<3072).map { UInt8(($0 + i * 31) & 0xFF) } }
        return out
    }

    @Test func cifar10DirectoryLoads() throws {
        try withTempDirectory { dir in
            try writeFile(dir + "/data_batch_1.bin", cifar10Records([3, 9]))
            try writeFile(dir + "/data_batch_2.bin", cifar10Records([0]))
            try writeFile(dir + "/test_batch.bin", cifar10Records([5]))
            try writeFile(dir + "/batches.meta.txt", Array("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n".utf8))
            let d = try DatasetLoader.load(spec: dir)
            #expect(d.format == "cifar10")
            #expect(d.train.count == 3 && d.test?.count == 1)
            #expect(d.train.labels == [3, 9, 0] && d.test?.labels == [5])
            #expect(d.train.classNames.first == "a" && d.train.classNames.count == 10)
            #expect(Array(d.train.image(at: 1).prefix(3)) == [31, 32, 33])
            #expect(d.train.paths.allSatisfy { $0 == nil })
            #expect(try d.train.displayImage(at: 0, maxWidth: 100, maxHeight: 100).width == 32)
        }
    }

    @Test func cifar100KeepsCoarseAndFine() throws {
        try withTempDirectory { dir in
            var rec: [UInt8] = [4, 77] + [UInt8](repeating: 1, count: 3072)
            rec += [19, 99] + [UInt8](repeating: 2, count: 3072)
            try writeFile(dir + "/train.bin", rec)
            try writeFile(dir + "/test.bin", Array(rec.prefix(3074)))
            let d = try DatasetLoader.load(spec: dir)
            #expect(d.format == "cifar100" && d.train.labels == [77, 99] && d.train.coarseLabels == [4, 19])
            #expect(d.train.classNames.count == 100 && d.train.coarseClassNames?.count == 20)
        }
    }

    @Test func cifarBadSizesAndLabelsAreErrors() throws {
        try withTempDirectory { dir in
            try writeFile(dir + "/data_batch_1.bin", Array(cifar10Records([1, 2]).dropLast(5)))
            expectDataError(naming: dir + "/data_batch_1.bin", containing: "not a multiple of the cifar10 record size 3073") { _ = try DatasetLoader.load(spec: dir) }
            try writeFile(dir + "/data_batch_1.bin", cifar10Records([1, 12]))
            expectDataError(naming: dir + "/data_batch_1.bin", containing: "record 1 has label 12") { _ = try DatasetLoader.load(spec: dir) }
            try writeFile(dir + "/data_batch_1.bin", [])
            expectDataError(naming: dir + "/data_batch_1.bin", containing: "empty file") { _ = try DatasetLoader.load(spec: dir) }
            expectDataError(naming: dir, containing: "no data_batch") { _ = try DatasetLoader.load(spec: "cifar10:" + dir + "/..") }
        }
    }

    func idx(_ magicType: UInt8, dims: [Int], data: [UInt8]) -> [UInt8] {
        [0, 0, magicType, UInt8(dims.count)] + dims.flatMap { bigEndian32(UInt32($0)) } + data
    }

    @Test func idxGzippedAndPlainLoad() throws {
        try withTempDirectory { dir in
            let pixels = (0..<(3 * 28 * 28)).map { UInt8($0 & 0xFF) }
            try writeFile(dir + "/train-images-idx3-ubyte.gz", gzipStored(idx(8, dims: [3, 28, 28], data: pixels)))
            try writeFile(dir + "/train-labels-idx1-ubyte.gz", gzipStored(idx(8, dims: [3], data: [7, 0, 2])))
            try writeFile(dir + "/t10k-images-idx3-ubyte", idx(8, dims: [1, 28, 28], data: Array(pixels.prefix(784))))
            try writeFile(dir + "/t10k-labels-idx1-ubyte", idx(8, dims: [1], data: [4]))
            let d = try DatasetLoader.load(spec: dir)
            #expect(d.format == "idx" && d.train.channels == 1 && d.train.width == 28 && d.train.height == 28)
            #expect(d.train.labels == [7, 0, 2] && d.test?.labels == [4])
            #expect(d.train.pixels == pixels)
            #expect(d.train.classNames == (0..<8).map(String.init))
            let single = try DatasetLoader.load(spec: dir + "/t10k-images-idx3-ubyte")
            #expect(single.train.count == 1 && single.train.labels == [4])
        }
    }

    @Test func idxBadInputIsAnError() throws {
        try withTempDirectory { dir in
            let img = dir + "/train-images-idx3-ubyte", lab = dir + "/train-labels-idx1-ubyte"
            try writeFile(img, [0, 1, 8, 3] + [UInt8](repeating: 0, count: 12))
            try writeFile(lab, idx(8, dims: [2], data: [1, 2]))
            expectDataError(naming: img, containing: "wrong magic") { _ = try DatasetLoader.load(spec: dir) }
            try writeFile(img, idx(8, dims: [3, 2, 2], data: [UInt8](repeating: 0, count: 12)))
            expectDataError(naming: lab, containing: "holds 2 labels but") { _ = try DatasetLoader.load(spec: dir) }
            try writeFile(img, idx(8, dims: [3, 2, 2], data: [UInt8](repeating: 0, count: 11)))
            expectDataError(naming: img, containing: "truncated or corrupt") { _ = try DatasetLoader.load(spec: dir) }
            try writeFile(img, idx(0x0D, dims: [3, 2, 2], data: []))
            expectDataError(naming: img, containing: "only unsigned bytes") { _ = try DatasetLoader.load(spec: dir) }
            try writeFile(img, idx(8, dims: [0xFFFFFF, 0xFFFFFF, 0xFFFFFF], data: []))
            expectDataError(naming: img, containing: "absurd") { _ = try DatasetLoader.load(spec: dir) }
            let gz = gzipStored(idx(8, dims: [3, 2, 2], data: [UInt8](repeating: 0, count: 12)))
            try FileManager.default.removeItem(atPath: img)
            try writeFile(img + ".gz", Array(gz.prefix(gz.count - 10)))
            expectDataError(naming: img + ".gz", containing: "gzip") { _ = try DatasetLoader.load(spec: dir) }
        }
    }

    @Test func formatPrefixesAndDetection() throws {
        try withTempDirectory { dir in
            try writeFile(dir + "/x.bin", [UInt8](repeating: 0, count: 3073))
            #expect(try Source.parse("cifar10:" + dir + "/x.bin") == Source(format: .cifar10, path: dir + "/x.bin"))
            #expect(try Source.parse("folder:" + dir) == Source(format: .imageFolder, path: dir))
            #expect(try Source.parse(dir) == Source(format: .imageFolder, path: dir))
            expectDataError(naming: dir + "/x.bin", containing: "cannot tell the dataset format") { _ = try Source.parse(dir + "/x.bin") }
            let d = try DatasetLoader.load(spec: "cifar10:" + dir + "/x.bin")
            #expect(d.train.count == 1 && d.train.labels == [0])
        }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: cifar10Directory + "/test_batch.bin")))
    func realCIFAR10TestBatch() throws {
        let d = try DatasetLoader.load(spec: "cifar10:" + cifar10Directory + "/test_batch.bin")
        #expect(d.train.count == 10_000)
        #expect(d.train.classCounts() == [Int](repeating: 1000, count: 10))
        #expect(CIFARReader.readNames(cifar10Directory + "/batches.meta.txt", expected: 10) == CIFARReader.cifar10Names)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: fashionDirectory + "/t10k-images-idx3-ubyte.gz")))
    func realFashionMNISTTestSet() throws {
        let d = try DatasetLoader.load(spec: "fashion-mnist:" + fashionDirectory + "/t10k-images-idx3-ubyte.gz")
        #expect(d.train.count == 10_000 && d.train.channels == 1 && d.train.width == 28)
        #expect(d.train.classNames == IDXReader.fashionNames)
        #expect(d.train.classCounts() == [Int](repeating: 1000, count: 10))
        #expect(try Source.parse("fashion-mnist") == Source(format: .idx, path: fashionDirectory))
    }
}

@Suite("Fuzzer findings (regressions)")
struct FuzzFindingTests {
    /// libFuzzer, run 1: zero images of 3099936839×4059170321 pixels overflowed `rows * cols`.
    @Test func idxWithZeroCountAndHugeSidesIsAnError() {
        let bytes: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 0, 0xB8, 0xB8, 0x48, 0x47, 0xF1, 0xF2, 0x06, 0x11]
        expectDataError(naming: "f-idx3", containing: "each side must be") { _ = try IDXReader.pool(images: bytes, imagesPath: "f-idx3", labels: nil, labelsPath: nil) }
        let empty: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28]
        expectDataError(naming: "e-idx3", containing: "no images") { _ = try IDXReader.pool(images: empty, imagesPath: "e-idx3", labels: nil, labelsPath: nil) }
    }
}
