import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Makes `.normal` commits durable against power loss milliseconds later, off the annotator's path.
///
/// In WAL mode with `synchronous = NORMAL` a commit is in the OS once `write(2)` returns, so it
/// survives the process dying (SIGKILL, dropped SSH) but not a power cut until the WAL is fsynced.
/// After each commit this thread fsyncs the `-wal` file (fsync is per file, whatever descriptor
/// is used), coalescing bursts, and runs the WAL checkpoints on its own connection so the
/// labeling connection never pays for one (its auto-checkpoint is turned off). `stop()` does a
/// last fsync and checkpoint and joins the thread.
final class BackgroundSync: @unchecked Sendable {
    /// WAL size in bytes past which a passive checkpoint runs.
    static let checkpointThreshold = 4 << 20

    private let walPath: String
    private let checkpointQueue: DatabaseQueue
    private let condition = NSCondition()
    private var noted = 0        // commits noted
    private var synced = 0       // commits known to be fsynced
    private var stopping = false
    private var finished = false
    private(set) var lastError: String?

    init(databasePath: String) throws {
        walPath = databasePath + "-wal"
        var config = Configuration()
        config.busyMode = .timeout(5)
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        checkpointQueue = try DatabaseQueue(path: databasePath, configuration: config)
        let thread = Thread { [self] in loop() }
        thread.name = "lfosa-store-sync"
        thread.start()
    }

    /// Tells the thread a commit happened; returns at once.
    func noteCommit() {
        condition.lock()
        noted += 1
        condition.signal()
        condition.unlock()
    }

    /// Blocks until every commit noted so far is fsynced.
    func flush() {
        condition.lock()
        let target = noted
        while synced < target && !finished { condition.wait() }
        condition.unlock()
    }

    /// Final fsync and checkpoint; joins the thread. Idempotent.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
        try? checkpointQueue.close()
    }

    private func loop() {
        while true {
            condition.lock()
            while noted == synced && !stopping { condition.wait() }
            let target = noted
            let stop = stopping
            condition.unlock()

            syncWAL()
            if stop || walSize() > Self.checkpointThreshold { checkpoint() }

            condition.lock()
            synced = target
            if stop && noted == synced {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            condition.broadcast()
            condition.unlock()
        }
    }

    private func syncWAL() {
        let fd = open(walPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }   // no WAL yet (or already checkpointed away): nothing to sync
        if fsync(fd) != 0 { record("fsync \(walPath): \(String(cString: strerror(errno)))") }
        close(fd)
    }

    private func walSize() -> Int {
        var info = stat()
        return stat(walPath, &info) == 0 ? Int(info.st_size) : 0
    }

    private func checkpoint() {
        do {
            try checkpointQueue.writeWithoutTransaction { db in
                _ = try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")
            }
        } catch {
            record("checkpoint: \(error)")
        }
    }

    private func record(_ message: String) {
        condition.lock()
        lastError = message
        condition.unlock()
    }
}
