import ArgumentParser
import Foundation
import LfosaStore

/// `lfosa status`: what a session holds and how labeling went.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Per-class counts, unknowns, skipped, rounds, selection precision, labeling time and pace."
    )

    @Option(help: "Session directory (holds labels.sqlite).")
    var session: String

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        try StoreCommandSupport.failingOnStoreError(command: "status") {
            let store = try LabelStore.open(sessionDirectory: session, forLabeling: false)
            defer { store.close() }
            let status = try store.status()
            let missing = StatusReport.missingSourceFiles(store: store, items: try store.items())
            print(json ? StatusReport.json(status, configuration: store.configuration, missing: missing)
                       : StatusReport.text(status, session: session, configuration: store.configuration, missing: missing))
        }
    }
}

/// Formatting of `lfosa status` (pure, apart from the source-file check).
enum StatusReport {
    /// Items whose last known source file is gone (or whose content changed away from any path).
    static func missingSourceFiles(store: LabelStore, items: [(identity: String, path: String?)]) -> Int {
        let source = store.configuration.source
        return items.filter { item in
            guard let path = item.path else { return true }
            return !FileManager.default.fileExists(atPath: ExportRows.sourcePath(of: path, source: source))
        }.count
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return "\(s / 3600)h \(s % 3600 / 60)m" }
        if s >= 60 { return "\(s / 60)m \(s % 60)s" }
        return "\(s)s"
    }

    static func text(_ st: SessionStatus, session: String, configuration c: SessionConfiguration, missing: Int) -> String {
        var lines: [String] = []
        lines.append("session   \(session)  (source \(c.source), strategy \(c.strategy), seed \(c.seed))")
        lines.append("items     \(st.itemCount) (\(st.unlabeledCount) unlabeled)")
        if missing > 0 {
            lines.append("warning   \(missing) item(s) have no source file any more (moved away, deleted or changed); their labels are kept")
        }
        lines.append("classes   " + st.perClass.map { "\($0.name) \($0.count)" }.joined(separator: " · "))
        lines.append("known     \(st.knownCount)   unknown \(st.unknownCount)   skipped \(st.skippedCount)   undone \(st.retractedCount)")
        lines.append("rounds    \(st.rounds.count)")
        if !st.rounds.isEmpty {
            lines.append("  round  queried  known  precision  |D_L|  |D_I|")
            for r in st.rounds {
                let precision = r.selectionPrecision.map { String(format: "%.3f", $0) } ?? "-"
                lines.append("  " + [String(r.round).padding(toLength: 5, withPad: " ", startingAt: 0),
                                     String(r.queriedCount).padding(toLength: 7, withPad: " ", startingAt: 0),
                                     String(r.knownQueriedCount).padding(toLength: 5, withPad: " ", startingAt: 0),
                                     precision.padding(toLength: 9, withPad: " ", startingAt: 0),
                                     String(r.labeledCount).padding(toLength: 5, withPad: " ", startingAt: 0),
                                     String(r.invalidCount)].joined(separator: "  "))
            }
        }
        for a in st.activityByRound {
            let precision = a.precision.map { String(format: "%.3f", $0) } ?? "-"
            lines.append("labels    round \(a.round): \(a.known) known, \(a.unknown) unknown, \(a.skipped) skipped (precision \(precision))")
        }
        let pace = st.labelsPerMinute.map { String(format: "%.1f labels/min", $0) } ?? "no pace yet"
        let who = st.annotators.isEmpty ? "" : " (\(st.annotators.joined(separator: ", ")))"
        lines.append("labeling  \(duration(st.labelingSeconds)) active, \(pace)\(who)")
        return lines.joined(separator: "\n")
    }

    static func json(_ st: SessionStatus, configuration c: SessionConfiguration, missing: Int) -> String {
        var object: [String: Any] = [
            "source": c.source, "items": st.itemCount, "unlabeled": st.unlabeledCount,
            "classes": Dictionary(uniqueKeysWithValues: st.perClass.map { ($0.name, $0.count) }),
            "unknown": st.unknownCount, "skipped": st.skippedCount, "retracted": st.retractedCount,
            "missing_source_files": missing, "labeling_seconds": st.labelingSeconds,
            "annotators": st.annotators,
            "labels_by_round": st.activityByRound.map { a -> [String: Any] in
                ["round": a.round, "known": a.known, "unknown": a.unknown, "skipped": a.skipped,
                 "precision": a.precision as Any? ?? NSNull()]
            },
            "rounds": st.rounds.map { r -> [String: Any] in
                ["round": r.round, "queried": r.queriedCount, "known_queried": r.knownQueriedCount,
                 "precision": r.selectionPrecision as Any? ?? NSNull(), "labeled": r.labeledCount,
                 "invalid": r.invalidCount, "metrics": r.metrics, "timings": r.timings]
            },
        ]
        object["labels_per_minute"] = st.labelsPerMinute ?? NSNull()
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
