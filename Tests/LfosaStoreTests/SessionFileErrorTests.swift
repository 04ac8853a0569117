import Foundation
import GRDB
import Testing
@testable import LfosaStore

/// Bad sessions on disk: each refused with one clear line, and nothing stored is changed.
@Suite struct SessionFileErrorTests {
    private func bytes(_ path: String) -> Data { FileManager.default.contents(atPath: path) ?? Data() }

    @Test func missingDatabaseIsNoSessionAndNothingIsCreated() {
        let dir = TemporaryDirectory()
        expectStoreError(.noSession(directory: dir.sub("gone"))) {
            try LabelStore.open(sessionDirectory: dir.sub("gone"), forLabeling: true)
        }
        #expect(!FileManager.default.fileExists(atPath: dir.sub("gone")))
        #expect(StoreError.noSession(directory: "d").description == "no session at d: d/labels.sqlite does not exist")
    }

    @Test func nonSQLiteAndEmptyFilesAreRefusedUntouched() throws {
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.sub("a"), withIntermediateDirectories: true)
        let garbage = dir.sub("a/labels.sqlite")
        try Data("path,label\nx.png,cat\n".utf8).write(to: URL(fileURLWithPath: garbage))
        expectStoreError(.notASession(file: garbage, reason: "not an SQLite database")) {
            try LabelStore.open(sessionDirectory: dir.sub("a"), forLabeling: true)
        }
        #expect(bytes(garbage) == Data("path,label\nx.png,cat\n".utf8))

        try Data().write(to: URL(fileURLWithPath: garbage))
        expectStoreError(.notASession(file: garbage, reason: "the file is empty")) {
            try LabelStore.open(sessionDirectory: dir.sub("a"), forLabeling: false)
        }
        #expect(bytes(garbage).isEmpty)
    }

    @Test func foreignSQLiteDatabaseIsNotASession() throws {
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.sub("b"), withIntermediateDirectories: true)
        let path = dir.sub("b/labels.sqlite")
        let other = try DatabaseQueue(path: path)
        try other.write { db in try db.execute(sql: "CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine')") }
        try other.close()
        expectStoreError(.notASession(file: path, reason: "it has no lfosa schema")) {
            try LabelStore.open(sessionDirectory: dir.sub("b"), forLabeling: true)
        }
        let check = try DatabaseQueue(path: path)
        #expect(try check.read { db in try db.tableExists("grdb_migrations") } == false)
        #expect(try check.read { db in try String.fetchAll(db, sql: "SELECT text FROM notes") } == ["mine"])
    }

    @Test func damagedPagesAreReportedAsCorruptAndLeftAlone() throws {
        let dir = TemporaryDirectory()
        let store = try makeSession(dir, items: 300)
        for i in 0..<300 { try store.record(.known(i % 3), item: "h\(i)", round: 0, annotator: "ada", at: t(Double(i))) }
        store.close()  // checkpoints the WAL into labels.sqlite
        let path = dir.sub("s.lfosa/labels.sqlite")
        var data = bytes(path)
        #expect(data.count > 8 * 4096)
        for offset in stride(from: 4 * 4096, to: 6 * 4096, by: 1) { data[offset] = UInt8(truncatingIfNeeded: offset &* 31) }
        try data.write(to: URL(fileURLWithPath: path))
        let error = storeError { try LabelStore.open(sessionDirectory: dir.sub("s.lfosa"), forLabeling: true) }
        guard case .corrupt(let file, _)? = error else {
            Issue.record("expected .corrupt, got \(String(describing: error))")
            return
        }
        #expect(file == path)
        #expect(error!.description.hasPrefix("\(path) is corrupt ("))
        let unchanged = bytes(path) == data
        #expect(unchanged, "the refused file was modified")
    }

    @Test func newerSchemaIsRefusedWithoutMigratingOrRewriting() throws {
        let dir = TemporaryDirectory()
        let store = try makeSession(dir)
        try store.record(.unknown, item: "h1", round: 0, annotator: "ada", at: t(5))
        try store.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v9-from-the-future')")
        }
        store.close()
        let path = dir.sub("s.lfosa/labels.sqlite")
        let before = bytes(path)
        expectStoreError(.newerSchema(file: path, unknownMigrations: ["v9-from-the-future"])) {
            try LabelStore.open(sessionDirectory: dir.sub("s.lfosa"), forLabeling: true)
        }
        #expect(StoreError.newerSchema(file: "f", unknownMigrations: ["x"]).description
                    .contains("was written by a newer lfosa"))
        let unchanged = bytes(path) == before
        #expect(unchanged, "the refused file was modified")
    }

    @Test func secondLabelingOpenIsRefusedWithThePid() throws {
        let dir = TemporaryDirectory()
        let first = try makeSession(dir)
        let session = dir.sub("s.lfosa")
        expectStoreError(.sessionInUse(directory: session, pid: getpid())) {
            try LabelStore.open(sessionDirectory: session, forLabeling: true)
        }
        #expect(StoreError.sessionInUse(directory: "d", pid: 42).description.contains("session d in use by pid 42"))
        // Readers (status, export) are not blocked.
        let reader = try LabelStore.open(sessionDirectory: session, forLabeling: false)
        #expect(reader.configuration == first.configuration)
        first.close()
        let second = try LabelStore.open(sessionDirectory: session, forLabeling: true)
        try second.record(.skipped, item: "h0", round: 0, annotator: "ada", at: t(1))
    }

    @Test func diskFullLosesOnlyTheFailedVerdict() throws {
        let dir = TemporaryDirectory()
        let store = try makeSession(dir, items: 2_000)
        try store.record(.known(0), item: "h0", round: 0, annotator: "ada", at: t(1))
        try store.limitPages(to: try store.pageCount())
        var failure: StoreError?
        var recorded = 1
        for i in 1..<2_000 {
            do {
                try store.record(.known(i % 3), item: "h\(i)", round: 0, annotator: "ada", at: t(Double(i)))
                recorded += 1
            } catch {
                failure = error as? StoreError
                break
            }
        }
        #expect(failure == .diskFull(file: dir.sub("s.lfosa/labels.sqlite")))
        #expect(failure?.description.hasPrefix("disk full writing") == true)
        #expect(try store.currentLabels().count == recorded)
        try store.limitPages(to: 1_000_000)
        try store.record(.unknown, item: "h1999", round: 0, annotator: "ada", at: t(9_999))
        store.close()
        let reopened = try LabelStore.open(sessionDirectory: dir.sub("s.lfosa"), forLabeling: true)
        #expect(try reopened.currentLabels().count == recorded + 1)
    }

    @Test func writingToAFullDeviceIsReportedAsDiskFull() throws {
        let fd = open("/dev/full", O_WRONLY)
        try #require(fd >= 0, "/dev/full is not available")
        defer { close(fd) }
        expectStoreError(.diskFull(file: "out.csv")) {
            try AtomicFile.writeAll(fd: fd, Array(repeating: 1, count: 10), path: "out.csv")
        }
    }
}
