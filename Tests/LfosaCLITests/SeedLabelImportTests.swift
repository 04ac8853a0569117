import Foundation
import Testing
@testable import LfosaCLI
import LfosaData
import LfosaStore

/// `lfosa label --seed-labels`: CSV files and class folders, matched by content.
@Suite struct SeedLabelImportTests {
    /// A source folder with four distinct 8×8 PNGs, a session with classes a, b.
    static func fixture() throws -> (root: String, pool: ImagePool, store: LabelStore, files: [String]) {
        let root = NSTemporaryDirectory() + "lfosa-seed-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/images", withIntermediateDirectories: true)
        var files: [String] = []
        for i in 0..<4 {
            let pixels = (0..<(8 * 8 * 3)).map { UInt8(($0 * (i + 3) + i * 50) & 0xFF) }
            let path = root + "/images/img\(i).png"
            try PNGCodec.write(RasterImage(width: 8, height: 8, channels: 3, pixels: pixels), to: path)
            files.append(path)
        }
        let dataset = try DatasetLoader.load(spec: root + "/images", options: LoadOptions(resize: ResizePolicy(width: 8, height: 8)))
        let store = try LabelStore.create(sessionDirectory: root + "/s.lfosa",
                                          configuration: SessionConfiguration(source: root + "/images", classNames: ["a", "b"],
                                                                              classKeys: ["1", "2"], strategy: "lfosa",
                                                                              seed: 1, annotator: "t"))
        return (root, dataset.train, store, files)
    }

    static func identity(_ path: String) -> String {
        let bytes = FileManager.default.contents(atPath: path)!
        return bytes.withUnsafeBytes { ContentHash.hex(ContentHash.xxh64($0)) }
    }

    @Test func classFoldersOfCopiesAreMatchedByContent() throws {
        let f = try Self.fixture()
        defer { f.store.close() }
        let seeds = f.root + "/seeds"
        for (folder, file) in [("a", 0), ("unknown", 2)] {
            try FileManager.default.createDirectory(atPath: seeds + "/" + folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: f.files[file], toPath: seeds + "/\(folder)/renamed\(file).png")
        }
        let added = try SeedLabelImport.run(path: seeds, pool: f.pool, sourceRoot: f.root + "/images", store: f.store, annotator: "t")
        #expect(added == 2)
        let labels = try f.store.currentLabels()
        #expect(labels == [Self.identity(f.files[0]): .known(0), Self.identity(f.files[2]): .unknown])
        // importing the same seeds again adds nothing
        #expect(try SeedLabelImport.run(path: seeds, pool: f.pool, sourceRoot: f.root + "/images", store: f.store, annotator: "t") == 0)
    }

    @Test func csvWithRelativePaths() throws {
        let f = try Self.fixture()
        defer { f.store.close() }
        let csv = f.root + "/seeds.csv"
        try "path,label\nimages/img1.png,b\nimg3.png,a\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let added = try SeedLabelImport.run(path: csv, pool: f.pool, sourceRoot: f.root + "/images", store: f.store, annotator: "t")
        #expect(added == 2)
        let labels = try f.store.currentLabels()
        #expect(labels[Self.identity(f.files[1])] == .known(1))
        #expect(labels[Self.identity(f.files[3])] == .known(0))
    }

    @Test func badSeedsImportNothingAndNameTheFile() throws {
        let f = try Self.fixture()
        defer { f.store.close() }
        let csv = f.root + "/bad.csv"
        try "images/img0.png,a\nimages/img1.png,zebra\nimages/missing.png,b\n".write(toFile: csv, atomically: true, encoding: .utf8)
        do {
            _ = try SeedLabelImport.run(path: csv, pool: f.pool, sourceRoot: f.root + "/images", store: f.store, annotator: "t")
            Issue.record("bad seeds were accepted")
        } catch let error as StoreError {
            let message = error.description
            #expect(message.contains("bad.csv"))
            #expect(message.contains("zebra"))
            #expect(!message.contains("\n"))
        }
        #expect(try f.store.currentLabels().isEmpty)
        #expect(throws: StoreError.self) {
            try SeedLabelImport.run(path: f.root + "/nope.csv", pool: f.pool, sourceRoot: f.root, store: f.store, annotator: "t")
        }
    }
}
