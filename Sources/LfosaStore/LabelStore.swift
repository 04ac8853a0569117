import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One open session database: `<session>/labels.sqlite` plus checkpoint files beside it.
///
/// Every write is one SQLite transaction, committed in WAL mode before the call returns, so a
/// returned `EventID` survives the process dying at any moment (SIGKILL, a dropped SSH session).
/// Against power loss: with the default `.normal` level a background thread fsyncs the WAL right
/// after each commit (a window of one fsync, a few ms; `flush()` waits for it); with `.full` the
/// commit itself fsyncs. `.normal` is the default because on this project's disks `.full` costs
/// p99 7–10 ms per verdict while `.normal` stays under 1 ms (see `lfosa bench store`).
/// History is append-only: verdicts and retractions are only ever inserted. A store opened
/// `forLabeling` (or created) holds `session.lock` until `close()` or deallocation; a second
/// labeling open fails with `StoreError.sessionInUse`. Calls are serialised by GRDB's queue.
public final class LabelStore {
    /// The database file name inside a session directory.
    public static let databaseFileName = "labels.sqlite"

    /// How a commit reaches the disk.
    ///
    /// `.full`: SQLite fsyncs the WAL inside every commit. `.normal`: the commit returns once the
    /// WAL is written to the OS (durable against process death, SIGKILL included); for a labeling
    /// store a background thread then fsyncs it and runs checkpoints off the commit path.
    public enum Synchronous: String, Sendable { case full = "FULL", normal = "NORMAL" }

    public let sessionDirectory: String
    public let databasePath: String
    public let configuration: SessionConfiguration
    let dbQueue: DatabaseQueue
    private var lock: SessionLock?
    private var syncer: BackgroundSync?

    private init(directory: String, databasePath: String, queue: DatabaseQueue,
                 configuration: SessionConfiguration, lock: SessionLock?,
                 synchronous: Synchronous) throws {
        self.sessionDirectory = directory
        self.databasePath = databasePath
        self.dbQueue = queue
        self.configuration = configuration
        self.lock = lock
        if lock != nil && synchronous == .normal {
            syncer = try mappingErrors(file: databasePath) {
                try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
                return try BackgroundSync(databasePath: databasePath)
            }
        }
    }

    deinit {
        syncer?.stop()
        lock?.release()
    }

    /// The default session directory for a source: `./<source-name>.lfosa`.
    ///
    /// `<source-name>` is the last path component of `source` without trailing slashes.
    public static func defaultSessionDirectory(forSource source: String) -> String {
        var trimmed = source
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        let name = (trimmed as NSString).lastPathComponent
        return "./\(name.isEmpty ? "session" : name).lfosa"
    }

    // MARK: Opening

    /// Opens an existing session; with `forLabeling`, also takes the session lock.
    ///
    /// Never creates or rewrites anything before validating: a missing database gives
    /// `.noSession`; a file that is not SQLite, or SQLite without the lfosa schema, gives
    /// `.notASession`; a failing integrity check gives `.corrupt`; a schema with migrations this
    /// build does not know gives `.newerSchema`. Only then are this build's pending migrations
    /// (additions only) applied.
    public static func open(sessionDirectory: String, forLabeling: Bool,
                            synchronous: Synchronous = .normal) throws -> LabelStore {
        let path = (sessionDirectory as NSString).appendingPathComponent(databaseFileName)
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError.noSession(directory: sessionDirectory)
        }
        let lock = forLabeling ? try SessionLock(directory: sessionDirectory) : nil
        try checkHeader(path: path)
        try validate(path: path)
        let queue = try openQueue(path: path, synchronous: synchronous)
        let configuration: SessionConfiguration = try mappingErrors(file: path) {
            try Schema.migrator.migrate(queue)
            return try queue.read { db in
                guard let configuration = try loadConfiguration(db) else {
                    throw StoreError.notASession(file: path, reason: "it has no session configuration")
                }
                return configuration
            }
        }
        return try LabelStore(directory: sessionDirectory, databasePath: path, queue: queue,
                              configuration: configuration, lock: lock, synchronous: synchronous)
    }

    /// Creates a new session directory and database, and opens it for labeling.
    ///
    /// Refuses (`.sessionExists`) when the directory already holds a database. The database is
    /// built under a temporary name and renamed into place, so a crash during creation leaves
    /// no half-made session.
    public static func create(sessionDirectory: String, configuration: SessionConfiguration,
                              synchronous: Synchronous = .normal,
                              at time: Date = Date()) throws -> LabelStore {
        try configuration.validate()
        let path = (sessionDirectory as NSString).appendingPathComponent(databaseFileName)
        do {
            try FileManager.default.createDirectory(atPath: sessionDirectory,
                                                    withIntermediateDirectories: true)
        } catch {
            throw StoreError.io(file: sessionDirectory, detail: "cannot create the session directory: \(error.localizedDescription)")
        }
        let lock = try SessionLock(directory: sessionDirectory)
        if FileManager.default.fileExists(atPath: path) {
            throw StoreError.sessionExists(directory: sessionDirectory)
        }
        let temporary = path + ".creating"
        for suffix in ["", "-wal", "-shm", "-journal"] { unlink(temporary + suffix) }
        defer { for suffix in ["", "-wal", "-shm", "-journal"] { unlink(temporary + suffix) } }
        try mappingErrors(file: path) {
            let queue = try DatabaseQueue(path: temporary)
            try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
            try Schema.migrator.migrate(queue)
            try queue.write { db in try storeConfiguration(configuration, at: time, db) }
            try queue.close()
        }
        guard rename(temporary, path) == 0 else {
            throw StoreError.io(file: path, detail: "cannot rename \(temporary): \(String(cString: strerror(errno)))")
        }
        AtomicFile.syncDirectory(sessionDirectory)
        let queue = try openQueue(path: path, synchronous: synchronous)
        return try LabelStore(directory: sessionDirectory, databasePath: path, queue: queue,
                              configuration: configuration, lock: lock, synchronous: synchronous)
    }

    /// Waits until every commit so far is fsynced (immediate with `.full`).
    public func flush() { syncer?.flush() }

    /// Releases the session lock and closes the database. Later calls fail.
    public func close() {
        syncer?.stop()
        syncer = nil
        try? dbQueue.close()
        lock?.release()
        lock = nil
    }

    /// Refuses files that are not SQLite before SQLite touches them.
    private static func checkHeader(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StoreError.io(file: path, detail: "cannot read it (permissions?)")
        }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        if header.isEmpty { throw StoreError.notASession(file: path, reason: "the file is empty") }
        if header != Data("SQLite format 3\0".utf8) {
            throw StoreError.notASession(file: path, reason: "not an SQLite database")
        }
    }

    /// Checks schema identity, version and integrity through a read-only connection.
    ///
    /// Read-only, so that a refused file is not changed by a single byte.
    private static func validate(path: String) throws {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(5)
        try mappingErrors(file: path) {
            let queue = try DatabaseQueue(path: path, configuration: config)
            defer { try? queue.close() }
            try queue.read { db in
                guard try db.tableExists("grdb_migrations"), try db.tableExists("session") else {
                    throw StoreError.notASession(file: path, reason: "it has no lfosa schema")
                }
                let applied = try Schema.migrator.appliedIdentifiers(db)
                let unknown = applied.subtracting(Schema.identifiers)
                if !unknown.isEmpty {
                    throw StoreError.newerSchema(file: path, unknownMigrations: unknown.sorted())
                }
                let check = try String.fetchAll(db, sql: "PRAGMA quick_check")
                if check != ["ok"] {
                    throw StoreError.corrupt(file: path, detail: check.first ?? "integrity check failed")
                }
            }
        }
    }

    /// Opens the labeling connection: WAL journal (a no-op once set), the chosen synchronous level.
    ///
    /// GRDB's own WAL setup is not used: it writes to the file to materialise the WAL.
    private static func openQueue(path: String, synchronous: Synchronous) throws -> DatabaseQueue {
        var config = Configuration()
        config.busyMode = .timeout(5)
        let level = synchronous.rawValue
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL; PRAGMA synchronous = \(level)")
        }
        return try mappingErrors(file: path) { try DatabaseQueue(path: path, configuration: config) }
    }

    // MARK: Configuration rows

    private static func storeConfiguration(_ c: SessionConfiguration, at time: Date, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO session (id, source, strategy, seed, annotator, createdAt) VALUES (1, ?, ?, ?, ?, ?)
            """, arguments: [c.source, c.strategy, Int64(bitPattern: c.seed), c.annotator, time.timeIntervalSince1970])
        for (index, name) in c.classNames.enumerated() {
            try db.execute(sql: "INSERT INTO knownClass (classIndex, name, key) VALUES (?, ?, ?)",
                           arguments: [index, name, c.classKeys[index]])
        }
        for (name, value) in c.strategyParameters.sorted(by: { $0.key < $1.key }) {
            try db.execute(sql: "INSERT INTO strategyParameter (name, value) VALUES (?, ?)",
                           arguments: [name, value])
        }
    }

    private static func loadConfiguration(_ db: Database) throws -> SessionConfiguration? {
        guard let row = try Row.fetchOne(db, sql: "SELECT source, strategy, seed, annotator FROM session WHERE id = 1") else {
            return nil
        }
        let classes = try Row.fetchAll(db, sql: "SELECT name, key FROM knownClass ORDER BY classIndex")
        let parameters = try Row.fetchAll(db, sql: "SELECT name, value FROM strategyParameter")
        var parameterMap: [String: String] = [:]
        for p in parameters { parameterMap[p["name"]] = (p["value"] as String) }
        let seed: Int64 = row["seed"]
        return SessionConfiguration(
            source: row["source"], classNames: classes.map { $0["name"] }, classKeys: classes.map { $0["key"] },
            strategy: row["strategy"], strategyParameters: parameterMap,
            seed: UInt64(bitPattern: seed), annotator: row["annotator"])
    }

    // MARK: Internal access

    /// Runs a write transaction, mapping failures to `StoreError` naming the database.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        let result = try mappingErrors(file: databasePath) { try dbQueue.write(body) }
        syncer?.noteCommit()
        return result
    }

    /// Runs a read, mapping failures to `StoreError` naming the database.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try mappingErrors(file: databasePath) { try dbQueue.read(body) }
    }

    // MARK: Verdicts

    /// Appends a verdict event; returns once it is committed.
    ///
    /// The item must have been added with `upsertItems`; a `.known` index must be a configured
    /// class. A later verdict on the same item supersedes earlier ones (nothing is overwritten).
    @discardableResult
    public func record(_ verdict: Verdict, item identity: String, round: Int, annotator: String,
                       at time: Date) throws -> EventID {
        if case .known(let index) = verdict, !configuration.classNames.indices.contains(index) {
            throw StoreError.classOutOfRange(index: index, classCount: configuration.classNames.count)
        }
        return try write { db in
            try Self.insertVerdict(verdict, identity: identity, round: round, annotator: annotator, time: time, db)
        }
    }

    static func insertVerdict(_ verdict: Verdict, identity: String, round: Int, annotator: String,
                              time: Date, _ db: Database) throws -> EventID {
        let exists = try db.cachedStatement(sql: "SELECT 1 FROM item WHERE identity = ?")
        guard try Int.fetchOne(exists, arguments: [identity]) != nil else {
            throw StoreError.unknownItem(identity: identity)
        }
        let insert = try db.cachedStatement(sql: """
            INSERT INTO event (itemIdentity, kind, classIndex, round, annotator, time) VALUES (?, ?, ?, ?, ?, ?)
            """)
        try insert.execute(arguments: [identity, verdict.kindName, verdict.classIndex, round, annotator,
                                       time.timeIntervalSince1970])
        return EventID(rawValue: db.lastInsertedRowID)
    }

    /// Retracts the latest non-retracted verdict (of `annotator`, if given) by appending a retraction.
    ///
    /// Returns nil when there is nothing left to retract. Repeated calls walk back through the
    /// history, across rounds and sessions; the item falls back to its previous verdict, if any.
    @discardableResult
    public func undoLast(annotator: String? = nil, at time: Date = Date()) throws -> RetractedEvent? {
        try write { db in
            var sql = Self.verdictSelect + " WHERE e.kind != 'retraction' AND r.id IS NULL"
            var arguments: StatementArguments = []
            if let annotator {
                sql += " AND e.annotator = ?"
                arguments = [annotator]
            }
            sql += " ORDER BY e.id DESC LIMIT 1"
            guard let row = try Row.fetchOne(db, sql: sql, arguments: arguments) else { return nil }
            let target = try Self.verdictEvent(row)
            try db.execute(sql: """
                INSERT INTO event (itemIdentity, kind, retracts, round, annotator, time)
                VALUES (?, 'retraction', ?, ?, ?, ?)
                """, arguments: [target.itemIdentity, target.id.rawValue, target.round,
                                 annotator ?? target.annotator, time.timeIntervalSince1970])
            let retracted = VerdictEvent(id: target.id, itemIdentity: target.itemIdentity, verdict: target.verdict,
                                         round: target.round, annotator: target.annotator, time: target.time,
                                         isRetracted: true)
            return RetractedEvent(retraction: EventID(rawValue: db.lastInsertedRowID), retracted: retracted)
        }
    }

    static let verdictSelect = """
        SELECT e.id, e.itemIdentity, e.kind, e.classIndex, e.round, e.annotator, e.time, r.id AS retractedBy
        FROM event e LEFT JOIN event r ON r.retracts = e.id
        """

    static func verdictEvent(_ row: Row) throws -> VerdictEvent {
        let id: Int64 = row["id"]
        guard let verdict = Verdict.stored(kind: row["kind"], classIndex: row["classIndex"]) else {
            throw StoreError.corrupt(file: "event \(id)", detail: "event \(id) has no valid verdict")
        }
        let retractedBy: Int64? = row["retractedBy"]
        return VerdictEvent(id: EventID(rawValue: id), itemIdentity: row["itemIdentity"], verdict: verdict,
                            round: row["round"], annotator: row["annotator"],
                            time: Date(timeIntervalSince1970: row["time"]), isRetracted: retractedBy != nil)
    }

    /// Every verdict event in commit order, retracted ones flagged (retraction rows themselves omitted).
    public func verdictEvents() throws -> [VerdictEvent] {
        try read { db in
            try Row.fetchAll(db, sql: Self.verdictSelect + " WHERE e.kind != 'retraction' ORDER BY e.id")
                .map(Self.verdictEvent)
        }
    }

    /// The effective verdict per item: its latest verdict that no retraction cancelled.
    ///
    /// Items never labeled, or whose every verdict was retracted, are absent.
    public func currentLabels() throws -> [String: Verdict] {
        try read { db in try Self.currentLabels(db) }
    }

    static func currentLabels(_ db: Database) throws -> [String: Verdict] {
        var labels: [String: Verdict] = [:]
        let rows = try Row.fetchCursor(db, sql: """
            SELECT e.itemIdentity, e.kind, e.classIndex FROM event e
            WHERE e.kind != 'retraction' AND NOT EXISTS (SELECT 1 FROM event r WHERE r.retracts = e.id)
            ORDER BY e.id
            """)
        while let row = try rows.next() {
            if let verdict = Verdict.stored(kind: row["kind"], classIndex: row["classIndex"]) {
                labels[row["itemIdentity"]] = verdict
            }
        }
        return labels
    }

    // MARK: Query queue and resume

    /// Replaces the saved query queue (the items selected for `round`, in showing order).
    public func saveQueue(round: Int, identities: [String]) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM queryQueue")
            let insert = try db.cachedStatement(sql: "INSERT INTO queryQueue (position, round, itemIdentity) VALUES (?, ?, ?)")
            for (position, identity) in identities.enumerated() {
                try insert.execute(arguments: [position, round, identity])
            }
        }
    }

    /// The saved query queue, all of it (labeled or not), or nil if none was saved or it was empty.
    public func loadQueue() throws -> (round: Int, identities: [String])? {
        try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT round, itemIdentity FROM queryQueue ORDER BY position")
            guard let first = rows.first else { return nil }
            return (round: first["round"], identities: rows.map { $0["itemIdentity"] })
        }
    }

    /// Everything needed to continue where a session stopped: D_L, D_I, skipped, the queue's remainder.
    public func resumeState() throws -> ResumeState {
        let labels = try currentLabels()
        let queue = try loadQueue()
        let lastRound: Int? = try read { db in try Int.fetchOne(db, sql: "SELECT MAX(round) FROM roundRecord") }
        return ResumeState(labels: labels, queue: queue, lastRecordedRound: lastRound)
    }

    // MARK: Rounds

    /// Stores the record of a finished round. Each round is recorded once and never rewritten.
    public func recordRound(_ record: RoundRecord) throws {
        try write { db in
            if try Int.fetchOne(db, sql: "SELECT 1 FROM roundRecord WHERE round = ?", arguments: [record.round]) != nil {
                throw StoreError.roundAlreadyRecorded(round: record.round)
            }
            try db.execute(sql: """
                INSERT INTO roundRecord (round, labeledCount, invalidCount, queriedCount, knownQueriedCount,
                                         metrics, timings, recordedAt) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [record.round, record.labeledCount, record.invalidCount, record.queriedCount,
                                 record.knownQueriedCount, RoundRecord.encode(record.metrics),
                                 RoundRecord.encode(record.timings), record.recordedAt.timeIntervalSince1970])
        }
    }

    /// All round records, by round.
    public func rounds() throws -> [RoundRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM roundRecord ORDER BY round").map { row in
                RoundRecord(round: row["round"], labeledCount: row["labeledCount"], invalidCount: row["invalidCount"],
                            queriedCount: row["queriedCount"], knownQueriedCount: row["knownQueriedCount"],
                            metrics: RoundRecord.decode(row["metrics"]), timings: RoundRecord.decode(row["timings"]),
                            recordedAt: Date(timeIntervalSince1970: row["recordedAt"]))
            }
        }
    }

    // MARK: Model checkpoints

    /// Writes a checkpoint file `<session>/<name>` atomically (temporary file, fsync, rename).
    ///
    /// A crash leaves either the previous checkpoint or the new one, never a torn file.
    public func saveModel(name: String, bytes: [UInt8]) throws {
        try AtomicFile.write(bytes, to: try modelPath(name: name))
    }

    /// The bytes of checkpoint `name`, or nil if the session has none by that name.
    public func loadModel(name: String) throws -> [UInt8]? {
        let path = try modelPath(name: name)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StoreError.io(file: path, detail: "cannot read it")
        }
        return [UInt8](data)
    }

    /// The path of checkpoint `name` inside the session directory.
    public func modelPath(name: String) throws -> String {
        if name.isEmpty || name.contains("/") || name.hasPrefix(".") || name.hasPrefix(Self.databaseFileName)
            || name == "session.lock" {
            throw StoreError.invalidModelName(name)
        }
        return (sessionDirectory as NSString).appendingPathComponent(name)
    }

    /// Sets SQLite's page limit so writes beyond it fail as if the disk were full (tests only).
    func limitPages(to count: Int) throws {
        try write { db in _ = try Int.fetchOne(db, sql: "PRAGMA max_page_count = \(count)") }
    }

    /// The page count of the database file (tests only).
    func pageCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0 }
    }
}

/// Where a stopped session resumes: D_L, D_I, skipped items and the rest of the query queue.
///
/// `pendingQueue` is the saved queue minus items that already have an effective verdict, in the
/// saved order; `queueRound` is the round that queue belongs to.
public struct ResumeState: Sendable {
    public let labeled: [String: Int]
    public let invalid: Set<String>
    public let skipped: Set<String>
    public let queueRound: Int?
    public let pendingQueue: [String]
    public let lastRecordedRound: Int?

    init(labels: [String: Verdict], queue: (round: Int, identities: [String])?, lastRecordedRound: Int?) {
        var labeled: [String: Int] = [:], invalid = Set<String>(), skipped = Set<String>()
        for (identity, verdict) in labels {
            switch verdict {
            case .known(let index): labeled[identity] = index
            case .unknown: invalid.insert(identity)
            case .skipped: skipped.insert(identity)
            }
        }
        self.labeled = labeled
        self.invalid = invalid
        self.skipped = skipped
        self.queueRound = queue?.round
        self.pendingQueue = queue?.identities.filter { labels[$0] == nil } ?? []
        self.lastRecordedRound = lastRecordedRound
    }
}
