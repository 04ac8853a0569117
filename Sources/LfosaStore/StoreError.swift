import Foundation
import GRDB

/// Every way the store refuses or fails, each with a one-line message naming the file.
///
/// No case is raised after partially applying a change: a failed write leaves the database as it
/// was before the call (SQLite rolls the transaction back).
public enum StoreError: Error, Equatable, CustomStringConvertible, LocalizedError {
    case noSession(directory: String)
    case sessionExists(directory: String)
    case sessionInUse(directory: String, pid: Int32?)
    case notASession(file: String, reason: String)
    case corrupt(file: String, detail: String)
    case newerSchema(file: String, unknownMigrations: [String])
    case diskFull(file: String)
    case io(file: String, detail: String)
    case invalidConfiguration(String)
    case unknownItem(identity: String)
    case classOutOfRange(index: Int, classCount: Int)
    case roundAlreadyRecorded(round: Int)
    case invalidModelName(String)
    case targetExists(path: String)
    case missingSourceFiles(count: Int, firstPath: String)
    case invalidSeedLabels(file: String, problemCount: Int, firstProblem: String)
    case database(file: String, detail: String)

    public var description: String {
        switch self {
        case .noSession(let dir):
            return "no session at \(dir): \(dir)/labels.sqlite does not exist"
        case .sessionExists(let dir):
            return "a session already exists at \(dir) (labels.sqlite is there); open it instead of creating it"
        case .sessionInUse(let dir, let pid):
            let who = pid.map { "pid \($0)" } ?? "another process"
            return "session \(dir) in use by \(who) (\(dir)/session.lock); close that lfosa first"
        case .notASession(let file, let reason):
            return "\(file) is not an lfosa session database: \(reason); it was left untouched"
        case .corrupt(let file, let detail):
            return "\(file) is corrupt (\(detail)); it was left untouched — restore it from a backup"
        case .newerSchema(let file, let unknown):
            return "\(file) was written by a newer lfosa (unknown schema migrations: \(unknown.joined(separator: ", "))); upgrade lfosa to open it"
        case .diskFull(let file):
            return "disk full writing \(file); the last change was not saved, everything before it is intact"
        case .io(let file, let detail):
            return "I/O error on \(file): \(detail)"
        case .invalidConfiguration(let message):
            return "invalid session configuration: \(message)"
        case .unknownItem(let identity):
            return "unknown item \(identity): it was never added to this session"
        case .classOutOfRange(let index, let count):
            return "class index \(index) out of range: the session has \(count) known classes"
        case .roundAlreadyRecorded(let round):
            return "round \(round) is already recorded; round records are never rewritten"
        case .invalidModelName(let name):
            return "invalid model file name '\(name)': use a plain file name without '/'"
        case .targetExists(let path):
            return "\(path) already exists; choose another --out or remove it first"
        case .missingSourceFiles(let count, let first):
            return "\(count) labeled source image(s) vanished, first: \(first); nothing was exported"
        case .invalidSeedLabels(let file, let count, let first):
            return "\(file): \(count) problem(s), first: \(first); no seed label was imported"
        case .database(let file, let detail):
            return "\(file): \(detail)"
        }
    }

    public var errorDescription: String? { description }

    /// Maps a GRDB/SQLite error on `file` to the matching case.
    static func from(_ error: any Error, file: String) -> StoreError {
        if let error = error as? StoreError { return error }
        guard let db = error as? DatabaseError else {
            return .io(file: file, detail: "\(error)")
        }
        switch db.resultCode {
        case .SQLITE_FULL: return .diskFull(file: file)
        case .SQLITE_NOTADB: return .notASession(file: file, reason: "not an SQLite database")
        case .SQLITE_CORRUPT: return .corrupt(file: file, detail: db.message ?? "database disk image is malformed")
        case .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_PERM:
            return .io(file: file, detail: db.message ?? "\(db.resultCode)")
        default:
            return .database(file: file, detail: db.message ?? "\(db.resultCode)")
        }
    }
}

/// Runs `body`, turning any thrown error into a `StoreError` that names `file`.
@inline(__always)
func mappingErrors<T>(file: String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch { throw StoreError.from(error, file: file) }
}
