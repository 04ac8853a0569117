import Foundation
import GRDB

/// What `LabelStore.upsertItems` found when matching a source listing against stored items.
///
/// Items are matched by content identity, never by path: a file that moved keeps its labels.
/// - `added`: identities seen for the first time.
/// - `moved`: known identities now at a different path (labels kept).
/// - `changed`: a path whose content changed: the stored item that lived there is absent from
///   the listing, a new identity is there now. The old item keeps its labels and loses its path.
/// - `missing`: stored items absent from the listing (vanished or changed); their labels are kept.
/// - `duplicates`: listing entries whose content equals an earlier entry's; the first path is kept.
public struct ItemSyncReport: Hashable, Sendable {
    public struct Move: Hashable, Sendable { public let identity: String; public let from: String?; public let to: String }
    public struct Change: Hashable, Sendable { public let path: String; public let oldIdentity: String; public let newIdentity: String }
    public struct Missing: Hashable, Sendable { public let identity: String; public let lastPath: String?; public let isLabeled: Bool }
    public struct Duplicate: Hashable, Sendable { public let identity: String; public let path: String; public let keptPath: String? }

    public var added: [String] = []
    public var moved: [Move] = []
    public var changed: [Change] = []
    public var missing: [Missing] = []
    public var duplicates: [Duplicate] = []
    public var unchangedCount = 0
}

extension LabelStore {
    /// Matches the complete current listing of the source against stored items, in one transaction.
    ///
    /// `items` must list every item the source holds now (identity = content hash, path as the
    /// caller will later resolve it, relative to the configured source or absolute). New
    /// identities are added, moved ones get their new path; nothing is ever deleted, no verdict is
    /// touched. See `ItemSyncReport` for what is reported.
    @discardableResult
    public func upsertItems(_ items: [(identity: String, path: String?)],
                            at time: Date = Date()) throws -> ItemSyncReport {
        try write { db in
            var stored: [String: String?] = [:]
            var identityAtPath: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT identity, path FROM item") {
                let identity: String = row["identity"]
                let path: String? = row["path"]
                stored[identity] = .some(path)
                if let path { identityAtPath[path] = identity }
            }
            let labeled = Set(try Self.currentLabels(db).keys)
            var report = ItemSyncReport()
            var seen: [String: String?] = [:]
            let insert = try db.cachedStatement(sql: "INSERT INTO item (identity, path, addedAt) VALUES (?, ?, ?)")
            let move = try db.cachedStatement(sql: "UPDATE item SET path = ? WHERE identity = ?")
            for (identity, path) in items {
                if let kept = seen[identity] {
                    report.duplicates.append(.init(identity: identity, path: path ?? "", keptPath: kept))
                    continue
                }
                seen[identity] = .some(path)
                if let old = stored[identity] {
                    if let path, old != path {
                        try move.execute(arguments: [path, identity])
                        report.moved.append(.init(identity: identity, from: old, to: path))
                    } else {
                        report.unchangedCount += 1
                    }
                } else {
                    try insert.execute(arguments: [identity, path, time.timeIntervalSince1970])
                    report.added.append(identity)
                }
            }
            let listed = Set(seen.keys)
            let addedSet = Set(report.added)
            for (identity, path) in items where addedSet.contains(identity) {
                guard let path, seen[identity] == .some(path), let previous = identityAtPath[path], previous != identity,
                      !listed.contains(previous) else { continue }
                report.changed.append(.init(path: path, oldIdentity: previous, newIdentity: identity))
                try move.execute(arguments: [nil as String?, previous])
            }
            for (identity, path) in stored.sorted(by: { $0.key < $1.key }) where !listed.contains(identity) {
                report.missing.append(.init(identity: identity, lastPath: path, isLabeled: labeled.contains(identity)))
            }
            return report
        }
    }

    /// Every stored item: identity and last known path (nil after its file's content changed).
    public func items() throws -> [(identity: String, path: String?)] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT identity, path FROM item ORDER BY identity").map {
                (identity: $0["identity"], path: $0["path"])
            }
        }
    }
}
