import GRDB

/// The versioned schema of `labels.sqlite`.
///
/// Migrations are append-only: a released migration is never edited or removed; a new version
/// adds a new identifier at the end. A database that lists an identifier this build does not know
/// was written by a newer lfosa and is refused (`StoreError.newerSchema`). The `event` table is
/// append-only, enforced by triggers: history is never rewritten, undo appends a retraction.
enum Schema {
    /// Every migration identifier this build knows, in order.
    static let identifiers: Set<String> = ["v1-session"]

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-session") { db in
            try db.execute(sql: """
                CREATE TABLE session (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    source TEXT NOT NULL,
                    strategy TEXT NOT NULL,
                    seed INTEGER NOT NULL,              -- UInt64 bit pattern
                    annotator TEXT NOT NULL,
                    createdAt REAL NOT NULL             -- seconds since 1970
                );
                CREATE TABLE knownClass (
                    classIndex INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    key TEXT NOT NULL
                );
                CREATE TABLE strategyParameter (
                    name TEXT PRIMARY KEY,
                    value TEXT NOT NULL
                );
                CREATE TABLE item (
                    identity TEXT PRIMARY KEY,          -- content hash
                    path TEXT,                          -- last known path
                    addedAt REAL NOT NULL
                );
                CREATE INDEX item_path ON item(path);
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
                CREATE INDEX event_item ON event(itemIdentity);
                CREATE UNIQUE INDEX event_retracts ON event(retracts) WHERE retracts IS NOT NULL;
                CREATE TRIGGER event_no_update BEFORE UPDATE ON event
                    BEGIN SELECT RAISE(ABORT, 'annotation history is append-only'); END;
                CREATE TRIGGER event_no_delete BEFORE DELETE ON event
                    BEGIN SELECT RAISE(ABORT, 'annotation history is append-only'); END;
                CREATE TABLE queryQueue (
                    position INTEGER PRIMARY KEY,
                    round INTEGER NOT NULL,
                    itemIdentity TEXT NOT NULL
                );
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
                CREATE TRIGGER roundRecord_no_update BEFORE UPDATE ON roundRecord
                    BEGIN SELECT RAISE(ABORT, 'round records are never rewritten'); END;
                """)
        }
        return migrator
    }
}
