import Foundation
import Testing
@testable import LfosaStore

@Suite struct ItemSyncTests {
    @Test func movedFilesKeepTheirLabels() throws {
        let dir = TemporaryDirectory()
        let store = try makeSession(dir, items: 3)
        try store.record(.known(1), item: "h0", round: 0, annotator: "ada", at: t(1))
        let report = try store.upsertItems([
            (identity: "h0", path: "renamed/zero.png"),
            (identity: "h1", path: "pics/img1.png"),
            (identity: "h2", path: "pics/img2.png"),
        ])
        #expect(report.moved == [.init(identity: "h0", from: "pics/img0.png", to: "renamed/zero.png")])
        #expect(report.added.isEmpty && report.missing.isEmpty && report.changed.isEmpty)
        #expect(report.unchangedCount == 2)
        #expect(try store.currentLabels() == ["h0": .known(1)])
        let items = try store.items()
        #expect(items.first { $0.identity == "h0" }?.path == "renamed/zero.png")
    }

    @Test func changedContentIsReportedAndTheOldLabelStaysWithTheOldContent() throws {
        let dir = TemporaryDirectory()
        let store = try makeSession(dir, items: 2)
        try store.record(.unknown, item: "h1", round: 0, annotator: "ada", at: t(1))
        // pics/img1.png was edited: same path, new content hash.
        let report = try store.upsertItems([
            (identity: "h0", path: "pics/img0.png"),
            (identity: "h1-edited", path: "pics/img1.png"),
        ])
        #expect(report.added == ["h1-edited"])
        #expect(report.changed == [.init(path: "pics/img1.png", oldIdentity: "h1", newIdentity: "h1-edited")])
        #expect(report.missing == [.init(identity: "h1", lastPath: "pics/img1.png", isLabeled: true)])
        #expect(try store.currentLabels() == ["h1": .unknown])
        let items = Dictionary(uniqueKeysWithValues: try store.items().map { ($0.identity, $0.path) })
        #expect(items["h1"] == .some(nil))
        #expect(items["h1-edited"] == "pics/img1.png")
    }

    @Test func vanishedFilesAreMissingButNeverDeleted() throws {
        let dir = TemporaryDirectory()
        let store = try makeSession(dir, items: 3)
        try store.record(.known(0), item: "h2", round: 0, annotator: "ada", at: t(1))
        let report = try store.upsertItems([(identity: "h0", path: "pics/img0.png")])
        #expect(report.missing == [
            .init(identity: "h1", lastPath: "pics/img1.png", isLabeled: false),
            .init(identity: "h2", lastPath: "pics/img2.png", isLabeled: true),
        ])
        #expect(try store.items().count == 3)
        #expect(try store.currentLabels() == ["h2": .known(0)])
        // They come back when the files do.
        let back = try store.upsertItems((0..<3).map { (identity: "h\($0)", path: "pics/img\($0).png") })
        #expect(back.missing.isEmpty && back.unchangedCount == 3)
    }

    @Test func duplicateContentKeepsTheFirstPath() throws {
        let dir = TemporaryDirectory()
        let store = try makeSession(dir, items: 0)
        let report = try store.upsertItems([
            (identity: "same", path: "a.png"), (identity: "same", path: "copy-of-a.png"),
        ])
        #expect(report.added == ["same"])
        #expect(report.duplicates == [.init(identity: "same", path: "copy-of-a.png", keptPath: "a.png")])
        #expect(try store.items().map(\.path) == ["a.png"])
    }
}
