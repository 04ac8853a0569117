import Foundation

/// Seed labels to start a session with more than nothing: from a CSV `path,label` or class folders.
///
/// Reading yields rows (path, label text, where it came from); `resolve` turns rows into verdicts
/// through the caller's path → identity lookup (the dataset module hashes files; this module does
/// not). Labels are configured class names or `unknown`. Resolution is all-or-nothing: any
/// problem throws `StoreError.invalidSeedLabels` and nothing is imported.
public enum SeedLabels {
    /// One seed label as read: `path` as written in the source, `label` text, `origin` for messages.
    public struct Row: Hashable, Sendable {
        public let path: String
        public let label: String
        public let origin: String
        public init(path: String, label: String, origin: String) {
            self.path = path; self.label = label; self.origin = origin
        }
    }

    /// One resolved seed label.
    public struct Resolved: Hashable, Sendable {
        public let identity: String
        public let path: String
        public let verdict: Verdict
    }

    /// Parses CSV text with records `path,label`; a first record `path,label` is taken as a header.
    ///
    /// `file` names the source in messages. Every other record must have exactly two fields.
    public static func parseCSV(_ text: String, file: String) throws -> [Row] {
        let records: [CSVFormat.Record]
        do { records = try CSVFormat.parse(text) } catch {
            switch error {
            case .unterminatedQuote(let line):
                throw StoreError.invalidSeedLabels(file: file, problemCount: 1, firstProblem: "line \(line): unterminated quote")
            case .strayQuote(let line):
                throw StoreError.invalidSeedLabels(file: file, problemCount: 1, firstProblem: "line \(line): stray quote inside a field")
            }
        }
        var rows: [Row] = []
        var problems: [String] = []
        for (n, record) in records.enumerated() {
            let fields = record.fields.map { $0.trimmingCharacters(in: .whitespaces) }
            if n == 0 && fields.map({ $0.lowercased() }) == ["path", "label"] { continue }
            guard fields.count == 2, !fields[0].isEmpty, !fields[1].isEmpty else {
                problems.append("line \(record.line): expected 'path,label', got \(record.fields.count) field(s)")
                continue
            }
            rows.append(Row(path: fields[0], label: fields[1], origin: "\(file):\(record.line)"))
        }
        if let first = problems.first {
            throw StoreError.invalidSeedLabels(file: file, problemCount: problems.count, firstProblem: first)
        }
        return rows
    }

    /// Reads `<root>/<label>/<file>`: one row per regular, non-hidden file, label = folder name.
    ///
    /// Paths are `<root>/<label>/<file>` as strings; files directly in `root` are ignored.
    public static func rowsFromClassFolders(root: String) throws -> [Row] {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw StoreError.invalidSeedLabels(file: root, problemCount: 1, firstProblem: "not a directory")
        }
        var rows: [Row] = []
        do {
            for label in try fm.contentsOfDirectory(atPath: root).sorted() where !label.hasPrefix(".") {
                let folder = (root as NSString).appendingPathComponent(label)
                guard fm.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
                for name in try fm.contentsOfDirectory(atPath: folder).sorted() where !name.hasPrefix(".") {
                    let path = (folder as NSString).appendingPathComponent(name)
                    guard fm.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
                    rows.append(Row(path: path, label: label, origin: path))
                }
            }
        } catch {
            throw StoreError.io(file: root, detail: error.localizedDescription)
        }
        return rows
    }

    /// Maps rows to verdicts: label → class index or `.unknown`, path → identity via `identity`.
    ///
    /// Problems (unknown label, path the lookup does not know, one item given two different
    /// labels) are collected; if any, throws naming the first and the count. Repeated identical
    /// rows collapse into one.
    public static func resolve(_ rows: [Row], configuration: SessionConfiguration, file: String,
                               identity: (String) -> String?) throws -> [Resolved] {
        var resolved: [Resolved] = []
        var byIdentity: [String: Verdict] = [:]
        var problems: [String] = []
        let allowed = (configuration.classNames + ["unknown"]).joined(separator: ", ")
        for row in rows {
            let verdict: Verdict
            if row.label == "unknown" {
                verdict = .unknown
            } else if let index = configuration.classIndex(named: row.label) {
                verdict = .known(index)
            } else {
                problems.append("\(row.origin): label '\(row.label)' is not one of \(allowed)")
                continue
            }
            guard let id = identity(row.path) else {
                problems.append("\(row.origin): no image '\(row.path)' in the source")
                continue
            }
            if let earlier = byIdentity[id] {
                if earlier != verdict {
                    problems.append("\(row.origin): '\(row.path)' has the same content as an image labeled \(configuration.labelName(earlier)) and is labeled \(row.label)")
                }
                continue
            }
            byIdentity[id] = verdict
            resolved.append(Resolved(identity: id, path: row.path, verdict: verdict))
        }
        if let first = problems.first {
            throw StoreError.invalidSeedLabels(file: file, problemCount: problems.count, firstProblem: first)
        }
        return resolved
    }
}

extension LabelStore {
    /// Records resolved seed labels in one transaction; returns how many verdict events it added.
    ///
    /// Items must already be stored (`upsertItems`). An item whose effective verdict already
    /// equals the seed label gets no new event, so importing the same file twice adds nothing.
    @discardableResult
    public func importSeedLabels(_ labels: [SeedLabels.Resolved], round: Int = 0, annotator: String,
                                 at time: Date) throws -> Int {
        try write { db in
            let current = try Self.currentLabels(db)
            var added = 0
            for label in labels where current[label.identity] != label.verdict {
                if case .known(let index) = label.verdict, !configuration.classNames.indices.contains(index) {
                    throw StoreError.classOutOfRange(index: index, classCount: configuration.classNames.count)
                }
                _ = try Self.insertVerdict(label.verdict, identity: label.identity, round: round,
                                           annotator: annotator, time: time, db)
                added += 1
            }
            return added
        }
    }
}
