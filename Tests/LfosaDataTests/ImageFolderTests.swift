import Foundation
import Testing
@testable import LfosaData
#if canImport(Glibc)
import Glibc
#endif

@Suite("Image folder and CSV sources")
struct ImageFolderTests {
    /// root/cat/{a.png,b.jpg,notes.txt}, root/dog/c.png, root/loose.png
    func makeClassFolder(_ dir: String) throws {
        try writeFile(dir + "/cat/a.png", PNGCodec.encode(patternImage(width: 40, height: 40, seed: 1)))
        try writeFile(dir + "/cat/b.jpg", JPEGCodec.encode(smoothImage(width: 64, height: 48)))
        try writeFile(dir + "/cat/notes.txt", Array("hello".utf8))
        try writeFile(dir + "/dog/c.png", PNGCodec.encode(patternImage(width: 32, height: 32, seed: 2)))
        try writeFile(dir + "/loose.png", PNGCodec.encode(patternImage(width: 8, height: 8, seed: 3)))
    }

    @Test func subfoldersBecomeClasses() throws {
        try withTempDirectory { dir in
            try makeClassFolder(dir)
            let d = try DatasetLoader.load(spec: dir)
            #expect(d.format == "image-folder")
            #expect(d.train.classNames == ["cat", "dog"])
            #expect(d.train.count == 4)
            #expect(d.train.channels == 3 && d.train.width == 32 && d.train.height == 32)
            #expect(d.train.pixels.count == 4 * 3 * 32 * 32)
            let byName = Dictionary(uniqueKeysWithValues: zip(d.train.paths.map { ($0! as NSString).lastPathComponent }, d.train.labels))
            #expect(byName["a.png"] == .some(0) && byName["b.jpg"] == .some(0) && byName["c.png"] == .some(1) && byName["loose.png"] == .some(nil))
            #expect(d.skipped.count == 1 && d.skipped[0].reason.contains("not an image file (.txt)"))
            #expect(Set(d.train.identities).count == 4)
            #expect(d.originalSizes.contains(SizeCount(width: 64, height: 48, count: 1)))
            #expect(d.test == nil)
        }
    }

    @Test func a32x32PNGIsStoredExactlyAsCHW() throws {
        try withTempDirectory { dir in
            let image = patternImage(width: 32, height: 32, seed: 5)
            try writeFile(dir + "/x.png", PNGCodec.encode(image))
            let d = try DatasetLoader.load(spec: dir)
            let chw = Array(d.train.image(at: 0))
            #expect(chw[0] == image.pixels[0] && chw[1024] == image.pixels[1] && chw[2048] == image.pixels[2])
            #expect(d.train.raster(at: 0) == image)
            #expect(d.train.identities[0] == ContentHash.hex(ContentHash.xxh64(try PNGCodec.encode(image))))
        }
    }

    @Test func badFilesAreSkippedAndCounted() throws {
        try withTempDirectory { dir in
            try writeFile(dir + "/good.png", PNGCodec.encode(patternImage(width: 4, height: 4)))
            try writeFile(dir + "/zero.png", [])
            try writeFile(dir + "/trunc.png", Array(PNGCodec.encode(patternImage(width: 16, height: 16)).prefix(40)))
            try writeFile(dir + "/text.jpg", Array("not a jpeg at all".utf8))
            try writeFile(dir + "/anim.gif", Array("GIF89a".utf8))
            try writeFile(dir + "/.DS_Store", [1, 2, 3])
            // A name that is not valid UTF-8.
            let bad: [UInt8] = Array((dir + "/bad-").utf8) + [0xFF, 0xFE] + Array(".png".utf8) + [0]
            let fd = bad.withUnsafeBufferPointer { open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_CREAT | O_WRONLY, 0o644) }
            #expect(fd >= 0); close(fd)
            // A dangling symlink, a self-loop and a directory loop.
            symlink(dir + "/nowhere.png", dir + "/dangling.png")
            symlink(dir + "/self.png", dir + "/self.png")
            try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
            symlink(dir, dir + "/sub/up")
            let d = try DatasetLoader.load(spec: dir)
            #expect(d.train.count == 1)
            let reasons = Dictionary(d.skipped.map { (($0.path as NSString).lastPathComponent, $0.reason) }, uniquingKeysWith: { a, _ in a })
            #expect(reasons["zero.png"]?.contains("empty file") == true)
            #expect(reasons["trunc.png"]?.contains("invalid PNG") == true)
            #expect(reasons["text.jpg"]?.contains("not a PNG or JPEG") == true)
            #expect(reasons["anim.gif"]?.contains("GIF images are not supported") == true)
            #expect(reasons[".DS_Store"] == "hidden entry")
            #expect(d.skipped.contains { $0.reason == "file name is not valid UTF-8" })
            #expect(reasons["dangling.png"]?.contains("dangling") == true)
            #expect(reasons["self.png"]?.contains("symlink loop") == true)
            #expect(reasons["up"]?.contains("symlink loop") == true)
            #expect(d.skipped.allSatisfy { !$0.description.contains("\n") })
        }
    }

    @Test(.enabled(if: getuid() != 0, "root reads everything")) func unreadableFileIsSkipped() throws {
        try withTempDirectory { dir in
            try writeFile(dir + "/a.png", PNGCodec.encode(patternImage(width: 4, height: 4)))
            try writeFile(dir + "/b.png", PNGCodec.encode(patternImage(width: 4, height: 4)))
            chmod(dir + "/b.png", 0)
            let d = try DatasetLoader.load(spec: dir)
            #expect(d.train.count == 1 && d.skipped.first?.reason.contains("Permission denied") == true)
        }
    }

    @Test func fifoIsRefusedWithoutWaiting() throws {
        try withTempDirectory { dir in
            #expect(mkfifo(dir + "/pipe.csv", 0o644) == 0)
            #expect(mkfifo(dir + "/pipe.png", 0o644) == 0)
            try writeFile(dir + "/ok.png", PNGCodec.encode(patternImage(width: 4, height: 4)))
            expectDataError(naming: dir + "/pipe.csv", containing: "not a regular file") { _ = try DatasetLoader.load(spec: dir + "/pipe.csv") }
            let d = try DatasetLoader.load(spec: dir)
            #expect(d.train.count == 1 && d.skipped.first?.reason == "not a regular file or directory")
        }
    }

    @Test func unreadableFileGivesAClearError() {
        expectDataError(naming: "/nonexistent/x.png", containing: "cannot open") { _ = try FileAccess.read("/nonexistent/x.png") }
    }

    @Test func directoryWithoutImagesIsAnError() throws {
        try withTempDirectory { dir in
            expectDataError(naming: dir, containing: "no PNG or JPEG images found (empty directory)") { _ = try DatasetLoader.load(spec: dir) }
            try writeFile(dir + "/readme.md", Array("# hi".utf8))
            expectDataError(naming: dir, containing: "1 other entry skipped") { _ = try DatasetLoader.load(spec: dir) }
            try writeFile(dir + "/broken.png", [0x89, 0x50])
            expectDataError(naming: dir, containing: "none of the 1 image files could be decoded") { _ = try DatasetLoader.load(spec: dir) }
        }
    }

    @Test func missingSourceIsAnError() {
        expectDataError(naming: "/no/such/dir", containing: "no such file") { _ = try Source.parse("/no/such/dir") }
        expectDataError(naming: "/no/such/dir", containing: "no such file") { _ = try Source.parse("cifar10:/no/such/dir") }
    }

    @Test func letterboxAndSizeAreConfigurable() throws {
        try withTempDirectory { dir in
            try writeFile(dir + "/wide.png", PNGCodec.encode(RasterImage(width: 20, height: 10, channels: 3, pixels: [UInt8](repeating: 200, count: 600))))
            let d = try DatasetLoader.load(spec: dir, options: LoadOptions(resize: ResizePolicy(width: 16, height: 16, fit: .letterbox)))
            #expect(d.train.width == 16 && d.train.height == 16)
            let red = Array(d.train.image(at: 0).prefix(256))
            #expect(red[0] == 0 && red[8 * 16 + 8] == 200)
        }
    }

    @Test func csvManifestWithLabelsAndGaps() throws {
        try withTempDirectory { dir in
            try writeFile(dir + "/img/a.png", PNGCodec.encode(patternImage(width: 32, height: 32, seed: 1)))
            try writeFile(dir + "/img/b.png", PNGCodec.encode(patternImage(width: 32, height: 32, seed: 2)))
            try writeFile(dir + "/img/c.png", PNGCodec.encode(patternImage(width: 32, height: 32, seed: 3)))
            let csv = "path,label\nimg/a.png,zebra\n\"img/b.png\",ant\nimg/c.png,\nimg/missing.png,ant\nx,y,z\n"
            try writeFile(dir + "/list.csv", Array(csv.utf8))
            let d = try DatasetLoader.load(spec: dir + "/list.csv")
            #expect(d.format == "csv")
            #expect(d.train.classNames == ["ant", "zebra"])
            #expect(d.train.labels == [1, 0, nil])
            #expect(d.skipped.count == 2)
            #expect(d.skipped.contains { $0.path.hasSuffix("list.csv:6") && $0.reason.contains("3 fields") })
            #expect(d.skipped.contains { $0.path.hasSuffix("missing.png") && $0.reason.contains("cannot open") })
        }
    }

    @Test func emptyManifestIsAnError() throws {
        try withTempDirectory { dir in
            try writeFile(dir + "/list.csv", Array("path,label\n".utf8))
            expectDataError(naming: dir + "/list.csv", containing: "lists no images") { _ = try DatasetLoader.load(spec: dir + "/list.csv") }
        }
    }

    @Test func displayImageDecodesTheOriginalAgain() throws {
        try withTempDirectory { dir in
            try writeFile(dir + "/big.png", PNGCodec.encode(patternImage(width: 200, height: 100)))
            let d = try DatasetLoader.load(spec: dir)
            let shown = try d.train.displayImage(at: 0, maxWidth: 80, maxHeight: 80)
            #expect(shown.width == 80 && shown.height == 40 && shown.channels == 3)
            let tiny = try d.train.displayImage(at: 0, maxWidth: 1000, maxHeight: 1000)
            #expect(tiny.width == 200 && tiny.height == 100)
            unlink(dir + "/big.png")
            expectDataError(naming: dir + "/big.png", containing: "cannot open") { _ = try d.train.displayImage(at: 0, maxWidth: 80, maxHeight: 80) }
        }
    }
}
