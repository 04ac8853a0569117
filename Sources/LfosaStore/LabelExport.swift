import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file-writing half of exporting: labels as CSV, JSONL or class folders, plus the classifier.
///
/// Never overwrites: an existing target (or weights/classes file) gives `StoreError.targetExists`
/// before anything is written. Output is built under `<out>.partial-<pid>` and renamed into place,
/// so a failure (disk full included) leaves no half export and removes the partial. The folder
/// format refuses (`.missingSourceFiles`) when a labeled source file has vanished. The session
/// is only read.
public enum LabelExport {
    /// The classifier weights file name, in a session directory and in an export.
    public static let weightsFileName = "classifier.weights"
    public static let classesFileName = "classes.json"

    /// What an export wrote.
    public struct Summary: Sendable {
        public let rowCount: Int
        public let countsByLabel: [String: Int]
        public let writtenPaths: [String]
    }

    /// Exports `store`'s labels to `out` in `format`; `copy` copies images instead of symlinking.
    ///
    /// For `folder`, `out` is a directory holding `<class>/…`, `unknown/…` and, when the session
    /// has `classifier.weights`, that file and `classes.json`. For `csv`/`jsonl`, `out` is the file
    /// and the weights go beside it as `<out minus extension>.classifier.weights` / `.classes.json`.
    @discardableResult
    public static func run(store: LabelStore, format: ExportFormat, out: String,
                           copy: Bool = false) throws -> Summary {
        let rows = ExportRows.compute(events: try store.verdictEvents(), items: try store.items(),
                                      configuration: store.configuration)
        let weightsSource = (store.sessionDirectory as NSString).appendingPathComponent(weightsFileName)
        let hasWeights = FileManager.default.fileExists(atPath: weightsSource)
        let sidecarBase = format == .folder ? nil : (out as NSString).deletingPathExtension
        let weightsTarget = sidecarBase.map { "\($0).\(weightsFileName)" }
        let classesTarget = sidecarBase.map { "\($0).\(classesFileName)" }
        for target in [out] + (hasWeights ? [weightsTarget, classesTarget].compactMap { $0 } : []) where exists(target) {
            throw StoreError.targetExists(path: target)
        }
        var counts: [String: Int] = [:]
        for row in rows { counts[row.label, default: 0] += 1 }
        var written: [String] = []
        switch format {
        case .csv:
            try AtomicFile.write(Array(ExportRows.csv(rows).utf8), to: out, replacing: false)
            written.append(out)
        case .jsonl:
            try AtomicFile.write(Array(ExportRows.jsonl(rows).utf8), to: out, replacing: false)
            written.append(out)
        case .folder:
            try writeFolder(rows: rows, source: store.configuration.source, out: out, copy: copy,
                            weights: hasWeights ? weightsSource : nil, configuration: store.configuration)
            written.append(out)
        }
        if hasWeights, let weightsTarget, let classesTarget {
            try copyFile(from: weightsSource, to: weightsTarget)
            try AtomicFile.write(Array(ExportRows.classesJSON(store.configuration).utf8), to: classesTarget,
                                 replacing: false)
            written += [weightsTarget, classesTarget]
        }
        return Summary(rowCount: rows.count, countsByLabel: counts, writtenPaths: written)
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    private static func writeFolder(rows: [ExportRow], source: String, out: String, copy: Bool,
                                    weights: String?, configuration: SessionConfiguration) throws {
        let layout = ExportRows.folderLayout(rows)
        let base = source.hasPrefix("/") ? source
            : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(source)
        let sources = layout.entries.map { ExportRows.sourcePath(of: $0.row.path!, source: base) }
        let missing = sources.filter { !FileManager.default.fileExists(atPath: $0) }
            + layout.pathless.map { "\($0.identity) (its file's content changed; no path holds it)" }
        if let first = missing.first {
            throw StoreError.missingSourceFiles(count: missing.count, firstPath: first)
        }
        let partial = "\(out).partial-\(getpid())"
        try? FileManager.default.removeItem(atPath: partial)
        do {
            try makeDirectory(partial)
            var made = Set<String>()
            for (entry, sourceFile) in zip(layout.entries, sources) {
                let folder = entry.row.label
                if made.insert(folder).inserted {
                    try makeDirectory((partial as NSString).appendingPathComponent(folder))
                }
                let target = (partial as NSString).appendingPathComponent(entry.relativePath)
                if copy {
                    try copyFile(from: sourceFile, to: target)
                } else if symlink(sourceFile, target) != 0 {
                    throw AtomicFile.error(errno, out)
                }
            }
            if let weights {
                try copyFile(from: weights, to: (partial as NSString).appendingPathComponent(weightsFileName))
                try AtomicFile.write(Array(ExportRows.classesJSON(configuration).utf8),
                                     to: (partial as NSString).appendingPathComponent(classesFileName))
            }
            if exists(out) { throw StoreError.targetExists(path: out) }
            if rename(partial, out) != 0 { throw AtomicFile.error(errno, out) }
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw (error as? StoreError) ?? .io(file: out, detail: "\(error)")
        }
    }

    private static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o755) != 0 { throw AtomicFile.error(errno, path) }
    }

    /// Copies a file's bytes to a new file (refusing to replace one), mapping ENOSPC to disk full.
    static func copyFile(from source: String, to target: String) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw AtomicFile.error(errno, source) }
        defer { close(input) }
        let output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard output >= 0 else {
            throw errno == EEXIST ? .targetExists(path: target) : AtomicFile.error(errno, target)
        }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        do {
            while true {
                let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw AtomicFile.error(errno, source)
                }
                if count == 0 { break }
                try AtomicFile.writeAll(fd: output, Array(buffer[0..<count]), path: target)
            }
            if fsync(output) != 0 { throw AtomicFile.error(errno, target) }
            close(output)
        } catch {
            close(output)
            unlink(target)
            throw error
        }
    }
}
