import Foundation
import Testing
import GRDB
@testable import LfosaStore

@Suite struct LabelStoreTests {
    @Test func createdConfigurationRoundTripsThroughReopen() throws {
        let dir = TemporaryDirectory()
        let created = try makeSession(dir)
        #expect(created.configuration == sampleConfiguration())
        created.close()
        let reopened = try LabelStore.open(sessionDirectory: dir.sub("s.lfosa"), forLabeling: false)
        #expect(reopened.configuration == sampleConfiguration())
        #expect(reopened.configuration.seed == UInt64.max - 7)
        #expect(FileManager.default.fileExists(atPath: dir.sub("s.lfosa/labels.sqlite")))
        #expect(!FileManager.default.fileExists(atPath: dir.sub("s.lfosa/labels.sqlite.creating")))
    }

    @Test func databaseIsInWALModeAtTheChosenSynchronousLevel() throws {
        let dir = TemporaryDirectory()
        let store = try makeSession(dir)
        let mode = try store.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        #expect(try store.read { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 1)  // NORMAL
        // The background thread owns checkpoints, so commits never pay for one.
        #expect(try store.read { db in try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") } == 0)
        store.close()
        let full = try LabelStore.open(sessionDirectory: dir.sub("s.lfosa"), forLabeling: true, synchronous: .full)
        #expect(try full.read { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 2)  // FULL
        #expect(try full.read { db in try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") } == 1000)
    }

    @Test func backgroundSyncCheckpointsIntoTheMainFile() throws {
        let dir = TemporaryDirectory()
        let store = try makeSession(dir, items: 1_500)
        for i in 0..<1_500 {
            try store.record(.known(i % 3), item: "h\(i)", round: 0, annotator: "ada", at: t(Double(i)))
        }
        store.flush()  // returns after the WAL fsync and, the WAL being large, a checkpoint
        // A copy of the main file alone (no -wal) must already hold every verdict.
        let copy = dir.sub("copy.sqlite")
        try FileManager.default.copyItem(atPath: dir.sub("s.lfosa/labels.sqlite"), toPath: copy)
        let alone = try DatabaseQueue(path: copy)
        #expect(try alone.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event") } == 1_500)
    }

    @Test func invalidConfigurationIsRefused() {
        let dir = TemporaryDirectory()
        var c = sampleConfiguration()
        c.classNames = ["cat", "unknown", "bird"]
        expectStoreError(.invalidConfiguration("class name 'unknown' is reserved for the open-set verdict")) {
            try LabelStore.create(sessionDirectory: dir.sub("x"), configuration: c)
        }
        c = sampleConfiguration()
        c.classKeys = ["a"]
        expectStoreError(.invalidConfiguration("3 class names but 1 class keys")) {
            try LabelStore.create(sessionDirectory: dir.sub("x"), configuration: c)
        }
        #expect(!FileManager.default.fileExists(atPath: dir.sub("x/labels.sqlite")))
    }

    @Test func creatingOverAnExistingSessionIsRefused() throws {
        let dir = TemporaryDirectory()
        let store = try makeSession(dir)
        try store.record(.known(1), item: "h1", round: 0, annotator: "ada", at: t(2_000))
        store.close()
        expectStoreError(.sessionExists(directory: dir.sub("s.lfosa"))) {
            try LabelStore.create(sessionDirectory: dir.sub("s.lfosa"), configuration: sampleConfiguration())
        }
        let reopened = try LabelStore.open(sessionDirectory: dir.sub("s.lfosa"), forLabeling: true)
        #expect(try reopened.currentLabels() == ["h1": .known(1)])
    }

    @Test func recordedVerdictsAreTheCurrentLabelsAndLaterOnesWin() throws {
        let dir = TemporaryDirectory()
        let store = try makeSession(dir)
        let a = try store.record(.known(0), item: "h0", round: 0, annotator: "ada", at: t(2_000))
        let b = try store.record(.unknown, item: "h1", round: 0, annotator: "ada", at: t(2_001))
        let c = try store.record(.skipped, item: "h2", round: 0, annotator: "ada", at: t(2_002))
        let d = try store.record(.known(2), item: "h0", round: 1, annotator: "bob", at: t(2_003))
        #expect(a < b && b < c && c < d)
        #expect(try store.currentLabels() == ["h0": .known(2), "h1": .unknown, "h2": .skipped])
        let events = try store.verdictEvents()
        #expect(events.map(\.id) == [a, b, c, d])
        #expect(events[3].annotator == "bob" && events[3].round == 1 && events[3].time == t(2_003))
    }

    @Test func recordRefusesUnknownItemsAndClassesWithoutWriting() throws {
        let dir = TemporaryDirectory()
        let store = try makeSession(dir)
        expectStoreError(.unknownItem(identity: "nope")) {
            try store.record(.unknown, item: "nope", round: 0, annotator: "ada", at: t(1))
        }
        expectStoreError(.classOutOfRange(index: 3, classCount: 3)) {
            try store.record(.known(3), item: "h0", round: 0, annotator: "ada", at: t(1))
        }
        #expect(try store.verdictEvents().isEmpty)
    }

    @Test func undoAppendsRetractionsAndWalksBackAcrossReopen() throws {
        let dir = TemporaryDirectory()
        var store = try makeSession(dir)
        try store.record(.known(0), item: "h0", round: 0, annotator: "ada", at: t(1))
        try store.record(.known(1), item: "h1", round: 0, annotator: "bob", at: t(2))
        try store.record(.unknown, item: "h0", round: 1, annotator: "ada", at: t(3))

        let first = try #require(try store.undoLast(annotator: "ada", at: t(4)))
        #expect(first.retracted.itemIdentity == "h0" && first.retracted.verdict == .unknown)
        #expect(try store.currentLabels() == ["h0": .known(0), "h1": .known(1)])

        store.close()
        store = try LabelStore.open(sessionDirectory: dir.sub("s.lfosa"), forLabeling: true)
        let second = try #require(try store.undoLast(annotator: nil, at: t(5)))
        #expect(second.retracted.itemIdentity == "h1")  // bob's, the latest non-retracted overall
        let third = try #require(try store.undoLast(annotator: nil, at: t(6)))
        #expect(third.retracted.verdict == .known(0))
        #expect(try store.currentLabels().isEmpty)
        #expect(try store.undoLast(annotator: nil, at: t(7)) == nil)
        // History kept: three verdicts, all flagged retracted, plus three retraction rows.
        let events = try store.verdictEvents()
        #expect(events.count == 3 && events.allSatisfy(\.isRetracted))
        let rows = try store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event") }
        #expect(rows == 6)
    }

    @Test func historyIsAppendOnlyInTheDatabaseItself() throws {
        let dir = TemporaryDirectory()
        let store = try makeSession(dir)
        try store.record(.known(0), item: "h0", round: 0, annotator: "ada", at: t(1))
        let update = storeError { try store.write { db in try db.execute(sql: "UPDATE event SET kind = 'unknown'") } }
        #expect(update?.description.contains("append-only") == true)
        let delete = storeError { try store.write { db in try db.execute(sql: "DELETE FROM event") } }
        #expect(delete?.description.contains("append-only") == true)
        #expect(try store.currentLabels() == ["h0": .known(0)])
    }

    @Test func queueSurvivesReopenAndResumeSkipsWhatWasLabeled() throws {
        let dir = TemporaryDirectory()
        var store = try makeSession(dir)
        try store.record(.known(0), item: "h9", round: 0, annotator: "ada", at: t(1))
        try store.recordRound(RoundRecord(round: 0, labeledCount: 1, invalidCount: 0, queriedCount: 1,
                                          knownQueriedCount: 1, recordedAt: t(2)))
        try store.saveQueue(round: 1, identities: ["h3", "h1", "h4", "h2"])
        try store.record(.known(2), item: "h3", round: 1, annotator: "ada", at: t(3))
        try store.record(.unknown, item: "h1", round: 1, annotator: "ada", at: t(4))
        store.close()

        store = try LabelStore.open(sessionDirectory: dir.sub("s.lfosa"), forLabeling: true)
        let queue = try #require(try store.loadQueue())
        #expect(queue.round == 1 && queue.identities == ["h3", "h1", "h4", "h2"])
        let resume = try store.resumeState()
        #expect(resume.labeled == ["h9": 0, "h3": 2])
        #expect(resume.invalid == ["h1"])
        #expect(resume.queueRound == 1)
        #expect(resume.pendingQueue == ["h4", "h2"])
        #expect(resume.lastRecordedRound == 0)

        try store.saveQueue(round: 2, identities: [])
        #expect(try store.loadQueue() == nil)
    }

    @Test func roundRecordsAreStoredOnceWithPrecision() throws {
        let dir = TemporaryDirectory()
        let store = try makeSession(dir)
        let r0 = RoundRecord(round: 0, labeledCount: 8, invalidCount: 2, queriedCount: 10, knownQueriedCount: 8,
                             metrics: ["accuracy": 0.5], timings: ["training": 12.5], recordedAt: t(100))
        try store.recordRound(r0)
        expectStoreError(.roundAlreadyRecorded(round: 0)) {
            try store.recordRound(RoundRecord(round: 0, labeledCount: 0, invalidCount: 0, queriedCount: 0,
                                              knownQueriedCount: 0, recordedAt: t(101)))
        }
        #expect(try store.rounds() == [r0])
        #expect(r0.selectionPrecision == 0.8)
    }

    @Test func modelCheckpointsAreWrittenWholeAndReadBack() throws {
        let dir = TemporaryDirectory()
        let store = try makeSession(dir)
        #expect(try store.loadModel(name: "classifier.weights") == nil)
        try store.saveModel(name: "classifier.weights", bytes: [1, 2, 3])
        try store.saveModel(name: "classifier.weights", bytes: Array(repeating: 7, count: 100_000))
        #expect(try store.loadModel(name: "classifier.weights") == Array(repeating: 7, count: 100_000))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.sub("s.lfosa"))
            .filter { $0.contains("partial") }
        #expect(leftovers.isEmpty)
        expectStoreError(.invalidModelName("../x")) { try store.saveModel(name: "../x", bytes: []) }
        expectStoreError(.invalidModelName("labels.sqlite")) { try store.saveModel(name: "labels.sqlite", bytes: []) }
    }

    @Test func defaultSessionDirectoryIsNamedAfterTheSource() {
        #expect(LabelStore.defaultSessionDirectory(forSource: "/data/pets/") == "./pets.lfosa")
        #expect(LabelStore.defaultSessionDirectory(forSource: "cifar10") == "./cifar10.lfosa")
    }
}
