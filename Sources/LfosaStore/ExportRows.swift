import Foundation

/// One exported label: the item's effective, non-skipped verdict with who gave it and when.
///
/// `label` is the class name or `unknown`; `path` is the item's last known path (nil when its
/// file's content changed and no file holds it any more).
public struct ExportRow: Hashable, Sendable {
    public let path: String?
    public let identity: String
    public let label: String
    public let verdict: Verdict
    public let annotator: String
    public let time: Date
    public let round: Int
}

/// The output formats of `lfosa export`.
public enum ExportFormat: String, CaseIterable, Sendable {
    case csv, jsonl, folder
}

/// The pure half of exporting: which rows, in which order, laid out where, encoded how.
///
/// Rows are the effective verdicts (latest non-retracted per item) except `.skipped`, sorted by
/// path then identity. Nothing here touches the file system.
public enum ExportRows {
    public static func compute(events: [VerdictEvent], items: [(identity: String, path: String?)],
                               configuration: SessionConfiguration) -> [ExportRow] {
        var effective: [String: VerdictEvent] = [:]
        for event in events where !event.isRetracted { effective[event.itemIdentity] = event }
        var paths: [String: String?] = [:]
        for item in items { paths[item.identity] = .some(item.path) }
        return effective.values.compactMap { event -> ExportRow? in
            if event.verdict == .skipped { return nil }
            return ExportRow(path: paths[event.itemIdentity] ?? nil, identity: event.itemIdentity,
                             label: configuration.labelName(event.verdict), verdict: event.verdict,
                             annotator: event.annotator, time: event.time, round: event.round)
        }.sorted { ($0.path ?? "", $0.identity) < ($1.path ?? "", $1.identity) }
    }

    /// ISO 8601 UTC with milliseconds, e.g. `2026-11-26T15:33:00.123Z`.
    public static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// CSV with header `path,hash,label,annotator,time,round`.
    public static func csv(_ rows: [ExportRow]) -> String {
        var text = CSVFormat.line(["path", "hash", "label", "annotator", "time", "round"])
        for row in rows {
            text += CSVFormat.line([row.path ?? "", row.identity, row.label, row.annotator,
                                    timestamp(row.time), String(row.round)])
        }
        return text
    }

    private struct JSONRow: Encodable {
        let path: String?, hash: String, label: String, annotator: String, time: String, round: Int
        func encode(to encoder: any Encoder) throws {
            enum Key: String, CodingKey { case path, hash, label, annotator, time, round }
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(path, forKey: .path)   // explicit null when unknown
            try c.encode(hash, forKey: .hash)
            try c.encode(label, forKey: .label)
            try c.encode(annotator, forKey: .annotator)
            try c.encode(time, forKey: .time)
            try c.encode(round, forKey: .round)
        }
    }

    /// One JSON object per line: path (or null), hash, label, annotator, time, round.
    public static func jsonl(_ rows: [ExportRow]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var text = ""
        for row in rows {
            let value = JSONRow(path: row.path, hash: row.identity, label: row.label, annotator: row.annotator,
                                time: timestamp(row.time), round: row.round)
            text += String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self) + "\n"
        }
        return text
    }

    /// The source file of an item path: absolute paths as they are, relative ones under `source`.
    public static func sourcePath(of path: String, source: String) -> String {
        path.hasPrefix("/") ? path : (source as NSString).appendingPathComponent(path)
    }

    /// Folder layout: `<label>/<file name>` per row; a clashing name gets `-<hash prefix>` before
    /// its extension. Rows without a path are returned in `pathless`.
    public static func folderLayout(_ rows: [ExportRow])
        -> (entries: [(relativePath: String, row: ExportRow)], pathless: [ExportRow]) {
        var entries: [(relativePath: String, row: ExportRow)] = []
        var pathless: [ExportRow] = []
        var used = Set<String>()
        for row in rows {
            guard let path = row.path else { pathless.append(row); continue }
            let name = (path as NSString).lastPathComponent
            var relative = "\(row.label)/\(name)"
            if used.contains(relative) {
                let ext = (name as NSString).pathExtension
                let stem = (name as NSString).deletingPathExtension
                var tag = String(row.identity.prefix(12))
                var counter = 1
                while true {
                    relative = "\(row.label)/\(stem)-\(tag)" + (ext.isEmpty ? "" : ".\(ext)")
                    if !used.contains(relative) { break }
                    counter += 1
                    tag = "\(row.identity.prefix(12))-\(counter)"
                }
            }
            used.insert(relative)
            entries.append((relativePath: relative, row: row))
        }
        return (entries, pathless)
    }

    /// The `classes.json` written beside exported weights: class names in index order.
    public static func classesJSON(_ configuration: SessionConfiguration) -> String {
        struct Classes: Encodable { let classes: [String]; let keys: [String]; let unknown: String; let weights: String }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let value = Classes(classes: configuration.classNames, keys: configuration.classKeys, unknown: "unknown",
                            weights: LabelExport.weightsFileName)
        return String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self) + "\n"
    }
}
