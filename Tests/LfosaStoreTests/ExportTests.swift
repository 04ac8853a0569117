import Foundation
import Testing
@testable import LfosaStore

@Suite struct ExportTests {
    /// A session whose source holds real files `pics/img<i>.png` with content "image i".
    private func labeledSession(_ dir: TemporaryDirectory) throws -> LabelStore {
        let source = dir.sub("source")
        try FileManager.default.createDirectory(atPath: source + "/pics", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: source + "/other", withIntermediateDirectories: true)
        for i in 0..<5 {
            _ = FileManager.default.createFile(atPath: source + "/pics/img\(i).png", contents: Data("image \(i)".utf8))
        }
        _ = FileManager.default.createFile(atPath: source + "/other/img0.png", contents: Data("other".utf8))
        let store = try makeSession(dir, items: 5, configuration: sampleConfiguration(source: source))
        try store.upsertItems((0..<5).map { (identity: "h\($0)", path: "pics/img\($0).png") }
                              + [(identity: "h5", path: "other/img0.png")])
        try store.record(.known(0), item: "h0", round: 0, annotator: "ada", at: t(1_000))
        try store.record(.known(1), item: "h1", round: 0, annotator: "ada", at: t(1_001.5))
        try store.record(.unknown, item: "h2", round: 1, annotator: "bob", at: t(1_002))
        try store.record(.skipped, item: "h3", round: 1, annotator: "bob", at: t(1_003))
        try store.record(.known(2), item: "h4", round: 1, annotator: "bob", at: t(1_004))
        try store.undoLast(annotator: "bob", at: t(1_005))         // h4 unlabeled again
        try store.record(.known(0), item: "h5", round: 1, annotator: "bob", at: t(1_006))
        return store
    }

    private func text(_ path: String) -> String {
        String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
    }

    @Test func csvHoldsEffectiveNonSkippedLabels() throws {
        let dir = TemporaryDirectory()
        let store = try labeledSession(dir)
        let summary = try LabelExport.run(store: store, format: .csv, out: dir.sub("labels.csv"))
        #expect(summary.rowCount == 4)
        #expect(text(dir.sub("labels.csv")) == """
            path,hash,label,annotator,time,round
            other/img0.png,h5,cat,bob,1970-01-01T00:16:46.000Z,1
            pics/img0.png,h0,cat,ada,1970-01-01T00:16:40.000Z,0
            pics/img1.png,h1,dog,ada,1970-01-01T00:16:41.500Z,0
            pics/img2.png,h2,unknown,bob,1970-01-01T00:16:42.000Z,1

            """)
    }

    @Test func jsonlHasOneObjectPerLabel() throws {
        let dir = TemporaryDirectory()
        let store = try labeledSession(dir)
        try LabelExport.run(store: store, format: .jsonl, out: dir.sub("labels.jsonl"))
        let lines = text(dir.sub("labels.jsonl")).split(separator: "\n")
        #expect(lines.count == 4)
        let first = try JSONSerialization.jsonObject(with: Data(lines[3].utf8)) as? [String: Any]
        #expect(first?["path"] as? String == "pics/img2.png")
        #expect(first?["hash"] as? String == "h2")
        #expect(first?["label"] as? String == "unknown")
        #expect(first?["annotator"] as? String == "bob")
        #expect(first?["time"] as? String == "1970-01-01T00:16:42.000Z")
        #expect(first?["round"] as? Int == 1)
    }

    @Test func folderLayoutSymlinksByDefaultAndCopiesOnRequest() throws {
        let dir = TemporaryDirectory()
        let store = try labeledSession(dir)
        let out = dir.sub("export")
        try LabelExport.run(store: store, format: .folder, out: out)
        let fm = FileManager.default
        #expect(try fm.contentsOfDirectory(atPath: out).sorted() == ["cat", "dog", "unknown"])
        #expect(try fm.contentsOfDirectory(atPath: out + "/cat").sorted() == ["img0-h0.png", "img0.png"])
        #expect(try fm.destinationOfSymbolicLink(atPath: out + "/dog/img1.png") == dir.sub("source/pics/img1.png"))
        #expect(text(out + "/cat/img0.png") == "other")          // other/img0.png sorts first
        #expect(text(out + "/cat/img0-h0.png") == "image 0")     // the clash gets a hash tag
        #expect(text(out + "/unknown/img2.png") == "image 2")

        let copied = dir.sub("copied")
        try LabelExport.run(store: store, format: .folder, out: copied, copy: true)
        #expect((try? fm.destinationOfSymbolicLink(atPath: copied + "/dog/img1.png")) == nil)
        #expect(text(copied + "/dog/img1.png") == "image 1")
        #expect(try fm.contentsOfDirectory(atPath: dir.path).filter { $0.contains("partial") }.isEmpty)
    }

    @Test func existingTargetIsRefusedAndKept() throws {
        let dir = TemporaryDirectory()
        let store = try labeledSession(dir)
        _ = FileManager.default.createFile(atPath: dir.sub("labels.csv"), contents: Data("precious".utf8))
        expectStoreError(.targetExists(path: dir.sub("labels.csv"))) {
            try LabelExport.run(store: store, format: .csv, out: dir.sub("labels.csv"))
        }
        #expect(text(dir.sub("labels.csv")) == "precious")
        try FileManager.default.createDirectory(atPath: dir.sub("out"), withIntermediateDirectories: false)
        expectStoreError(.targetExists(path: dir.sub("out"))) {
            try LabelExport.run(store: store, format: .folder, out: dir.sub("out"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.sub("out")).isEmpty)
    }

    @Test func vanishedSourceImagesStopAFolderExportButNotCSV() throws {
        let dir = TemporaryDirectory()
        let store = try labeledSession(dir)
        try FileManager.default.removeItem(atPath: dir.sub("source/pics/img1.png"))
        expectStoreError(.missingSourceFiles(count: 1, firstPath: dir.sub("source/pics/img1.png"))) {
            try LabelExport.run(store: store, format: .folder, out: dir.sub("out"))
        }
        #expect(!FileManager.default.fileExists(atPath: dir.sub("out")))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains("partial") }.isEmpty)
        #expect(try LabelExport.run(store: store, format: .csv, out: dir.sub("l.csv")).rowCount == 4)
    }

    @Test func classifierWeightsAndClassNamesLeaveWithTheLabels() throws {
        let dir = TemporaryDirectory()
        let store = try labeledSession(dir)
        try store.saveModel(name: LabelExport.weightsFileName, bytes: [9, 8, 7, 6])
        let folder = dir.sub("ds")
        try LabelExport.run(store: store, format: .folder, out: folder)
        #expect(FileManager.default.contents(atPath: folder + "/classifier.weights") == Data([9, 8, 7, 6]))
        let classes = try JSONSerialization.jsonObject(
            with: FileManager.default.contents(atPath: folder + "/classes.json") ?? Data()) as? [String: Any]
        #expect(classes?["classes"] as? [String] == ["cat", "dog", "bird"])

        let summary = try LabelExport.run(store: store, format: .jsonl, out: dir.sub("labels.jsonl"))
        #expect(summary.writtenPaths == [dir.sub("labels.jsonl"), dir.sub("labels.classifier.weights"),
                                         dir.sub("labels.classes.json")])
        #expect(FileManager.default.contents(atPath: dir.sub("labels.classifier.weights")) == Data([9, 8, 7, 6]))
        // A second export to the same place is refused before anything is written.
        try FileManager.default.removeItem(atPath: dir.sub("labels.jsonl"))
        expectStoreError(.targetExists(path: dir.sub("labels.classifier.weights"))) {
            try LabelExport.run(store: store, format: .jsonl, out: dir.sub("labels.jsonl"))
        }
        #expect(!FileManager.default.fileExists(atPath: dir.sub("labels.jsonl")))
    }

    @Test func clashingFileNamesGetDistinctHashTags() {
        func row(_ path: String, _ id: String) -> ExportRow {
            ExportRow(path: path, identity: id, label: "cat", verdict: .known(0), annotator: "a", time: t(0), round: 0)
        }
        let layout = ExportRows.folderLayout([row("a/x.png", "0000000000000"), row("b/x.png", "abcdefghijkl1"),
                                              row("c/x.png", "abcdefghijkl2"), row("d/x", "zz")])
        #expect(layout.entries.map(\.relativePath) == ["cat/x.png", "cat/x-abcdefghijkl.png",
                                                       "cat/x-abcdefghijkl-2.png", "cat/x"])
        #expect(layout.pathless.isEmpty)
    }
}
