import ArgumentParser
import Foundation
import LfosaStore

/// `lfosa export`: a session's labels (and classifier) as CSV, JSONL or class folders.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export labels as CSV, JSONL or one folder per class (plus unknown/), with the classifier weights.",
        discussion: """
            csv/jsonl: path, hash, label (class name or unknown), annotator, time, round; skipped \
            items are left out. folder: <out>/<class>/<file> and <out>/unknown/<file>, symlinks to \
            the source images unless --copy (the layout torchvision's ImageFolder reads). When the \
            session has classifier.weights, it is exported with classes.json. An existing --out is \
            never overwritten.
            """
    )

    @Option(help: "Session directory (holds labels.sqlite).")
    var session: String

    @Option(help: "Output format: csv, jsonl or folder.")
    var format: String

    @Option(help: "Output file (csv, jsonl) or directory (folder); must not exist.")
    var out: String

    @Flag(help: "folder format: copy images instead of symlinking them.")
    var copy = false

    func run() throws {
        guard let exportFormat = ExportFormat(rawValue: format) else {
            throw StoreCommandSupport.fail(command: "export", "unknown --format '\(format)': use csv, jsonl or folder")
        }
        if copy && exportFormat != .folder {
            throw StoreCommandSupport.fail(command: "export", "--copy applies to --format folder only")
        }
        try StoreCommandSupport.failingOnStoreError(command: "export") {
            let store = try LabelStore.open(sessionDirectory: session, forLabeling: false)
            defer { store.close() }
            let summary = try LabelExport.run(store: store, format: exportFormat, out: out, copy: copy)
            let counts = summary.countsByLabel.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            print("exported \(summary.rowCount) labels (\(counts.joined(separator: ", "))) to \(summary.writtenPaths.joined(separator: ", "))")
        }
    }
}

/// What the store commands share: turning a `StoreError` into one stderr line and exit code 1.
enum StoreCommandSupport {
    /// Runs `body`; a `StoreError` becomes `lfosa <command>: <message>` on stderr and exit status 1.
    static func failingOnStoreError(command: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as StoreError {
            throw fail(command: command, error.description)
        }
    }

    /// Writes `lfosa <command>: <message>` to stderr; returns the exit code to throw.
    static func fail(command: String, _ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("lfosa \(command): \(message)\n".utf8))
        return ExitCode(1)
    }
}
