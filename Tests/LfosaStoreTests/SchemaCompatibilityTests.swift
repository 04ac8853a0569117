import Foundation
import GRDB
import Testing
@testable import LfosaStore

/// Sessions written by earlier builds keep opening: a frozen schema-v1 session, byte for byte as
/// `sqlite3 .dump` printed it, must open with every label, round and queue intact.
///
/// Never edit the dump when the schema changes: add a migration instead, and a new frozen dump.
@Suite struct SchemaCompatibilityTests {
    static let v1Dump = #"""
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
INSERT INTO grdb_migrations VALUES('v1-session');
CREATE TABLE session (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    source TEXT NOT NULL,
    strategy TEXT NOT NULL,
    seed INTEGER NOT NULL,              -- UInt64 bit pattern
    annotator TEXT NOT NULL,
    createdAt REAL NOT NULL             -- seconds since 1970
);
INSERT INTO session VALUES(1,'/data/pets','lfosa',42,'ada',1700000000.0);
CREATE TABLE knownClass (
    classIndex INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    key TEXT NOT NULL
);
INSERT INTO knownClass VALUES(0,'cat','c');
INSERT INTO knownClass VALUES(1,'dog','d');
CREATE TABLE strategyParameter (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO strategyParameter VALUES('batch','2');
CREATE TABLE item (
    identity TEXT PRIMARY KEY,          -- content hash
    path TEXT,                          -- last known path
    addedAt REAL NOT NULL
);
INSERT INTO item VALUES('h0','a.png',1700000001.0);
INSERT INTO item VALUES('h1','b.png',1700000001.0);
INSERT INTO item VALUES('h2','c.png',1700000001.0);
CREATE TABLE event (
    id INTEGER PRIMARY KEY,              -- never deleted, so ids only grow
    itemIdentity TEXT NOT NULL REFERENCES item(identity),
    kind TEXT NOT NULL CHECK (kind IN ('known', 'unknown', 'skipped', 'retraction')),
    classIndex INTEGER REFERENCES knownClass(classIndex),
    retracts INTEGER REFERENCES event(id),
    round INTEGER NOT NULL,
    annotator TEXT NOT NULL,
    time REAL NOT NULL,
    CHECK ((kind = 'known') = (classIndex IS NOT NULL)),
    CHECK ((kind = 'retraction') = (retracts IS NOT NULL))
);
INSERT INTO event VALUES(1,'h0','known',1,NULL,0,'ada',1700000010.0);
INSERT INTO event VALUES(2,'h1','unknown',NULL,NULL,0,'ada',1700000020.0);
INSERT INTO event VALUES(3,'h1','retraction',NULL,2,0,'ada',1700000021.0);
INSERT INTO event VALUES(4,'h1','skipped',NULL,NULL,0,'ada',1700000030.0);
CREATE TABLE queryQueue (
    position INTEGER PRIMARY KEY,
    round INTEGER NOT NULL,
    itemIdentity TEXT NOT NULL
);
INSERT INTO queryQueue VALUES(0,1,'h2');
CREATE TABLE roundRecord (
    round INTEGER PRIMARY KEY,
    labeledCount INTEGER NOT NULL,      -- |D_L| after the round
    invalidCount INTEGER NOT NULL,      -- |D_I| after the round
    queriedCount INTEGER NOT NULL,
    knownQueriedCount INTEGER NOT NULL,
    metrics TEXT NOT NULL,              -- JSON object name -> number
    timings TEXT NOT NULL,              -- JSON object name -> seconds
    recordedAt REAL NOT NULL
);
INSERT INTO roundRecord VALUES(0,1,0,2,1,'{"accuracy":0.5}','{"training":2}',1700000040.0);
CREATE INDEX item_path ON item(path);
CREATE INDEX event_item ON event(itemIdentity);
CREATE UNIQUE INDEX event_retracts ON event(retracts) WHERE retracts IS NOT NULL;
CREATE TRIGGER event_no_update BEFORE UPDATE ON event
    BEGIN SELECT RAISE(ABORT, 'annotation history is append-only'); END;
CREATE TRIGGER event_no_delete BEFORE DELETE ON event
    BEGIN SELECT RAISE(ABORT, 'annotation history is append-only'); END;
CREATE TRIGGER roundRecord_no_update BEFORE UPDATE ON roundRecord
    BEGIN SELECT RAISE(ABORT, 'round records are never rewritten'); END;
COMMIT;
"""#

    @Test func aVersion1SessionOpensMigratesAndKeepsEverything() throws {
        let dir = TemporaryDirectory()
        let session = dir.sub("old.lfosa")
        try FileManager.default.createDirectory(atPath: session, withIntermediateDirectories: true)
        let writer = try DatabaseQueue(path: session + "/labels.sqlite")
        try writer.writeWithoutTransaction { db in try db.execute(sql: Self.v1Dump) }
        try writer.close()

        let store = try LabelStore.open(sessionDirectory: session, forLabeling: true)
        #expect(store.configuration == SessionConfiguration(
            source: "/data/pets", classNames: ["cat", "dog"], classKeys: ["c", "d"], strategy: "lfosa",
            strategyParameters: ["batch": "2"], seed: 42, annotator: "ada"))
        #expect(try store.currentLabels() == ["h0": .known(1), "h1": .skipped])
        #expect(try store.rounds().map(\.metrics) == [["accuracy": 0.5]])
        #expect(try store.resumeState().pendingQueue == ["h2"])
        let applied = try store.read { db in try Schema.migrator.appliedIdentifiers(db) }
        #expect(applied == Schema.identifiers)
        let next = try store.record(.known(0), item: "h2", round: 1, annotator: "ada", at: t(1_700_000_050))
        #expect(next.rawValue == 5)
    }
}
