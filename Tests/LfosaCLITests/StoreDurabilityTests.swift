import Foundation
import Testing
@testable import LfosaCLI
import LfosaStore

/// Kills a labeling `lfosa` process with SIGKILL and proves every acknowledged verdict survived.
///
/// Runs the real binary (`lfosa store-torture`, built next to the test bundle by `swift test`).
@Suite struct StoreDurabilityTests {
    /// The `lfosa` executable built alongside this test bundle.
    static func lfosaBinary() -> URL? {
        var candidates: [URL] = []
        if let exe = Bundle.main.executableURL { candidates.append(exe.deletingLastPathComponent()) }
        candidates.append(Bundle.main.bundleURL)
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        for dir in candidates {
            let url = dir.appendingPathComponent("lfosa")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    /// A watchdog: SIGKILLs `process` if it still runs after `seconds`, so a hung child fails the
    /// test (its output ends early) instead of hanging the suite.
    static func killIfStillRunning(_ process: Process, after seconds: Double) {
        let pid = process.processIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [process] in
            if process.isRunning && process.processIdentifier == pid { kill(pid, SIGKILL) }
        }
    }

    /// Reads stdout lines of a running process as they arrive.
    final class LineReader {
        let handle: FileHandle
        var buffer = Data()
        init(_ handle: FileHandle) { self.handle = handle }
        /// The next line, or nil at end of file.
        func next() -> String? {
            while true {
                if let newline = buffer.firstIndex(of: 0x0A) {
                    let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex...newline)
                    return line
                }
                let chunk = handle.availableData
                if chunk.isEmpty { return nil }
                buffer.append(chunk)
            }
        }
    }

    private func launch(_ binary: URL, _ arguments: [String]) throws -> (Process, LineReader) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        StoreDurabilityTests.killIfStillRunning(process, after: 120)
        return (process, LineReader(out.fileHandleForReading))
    }

    @Test func sigkillMidLabelingLosesNoAcknowledgedVerdictAndTheSessionResumes() throws {
        let binary = try #require(Self.lfosaBinary(), "lfosa binary not found next to the test bundle; run `swift build` first")
        let dir = NSTemporaryDirectory() + "lfosa-kill-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let session = dir + "/s.lfosa"
        let total = 20_000

        // 1. Label until 300 commits were acknowledged, then SIGKILL without warning.
        let (child, lines) = try launch(binary, ["store-torture", "--session", session, "--count", String(total)])
        #expect(lines.next() == "resume 0 \(total)")
        // While it labels, a second labeling open is refused with the holder's pid.
        do {
            _ = try LabelStore.open(sessionDirectory: session, forLabeling: true)
            Issue.record("a second labeling open succeeded while the child held the session")
        } catch let error as StoreError {
            #expect(error == .sessionInUse(directory: session, pid: child.processIdentifier))
            #expect(error.description.contains("in use by pid \(child.processIdentifier)"))
        }
        var acknowledged: [(id: Int64, item: String, verdict: String)] = []
        func parse(_ line: String) {
            let parts = line.split(separator: " ").map(String.init)
            guard parts.count == 4, parts[0] == "ack", let id = Int64(parts[1]) else {
                Issue.record("unexpected line '\(line)'")
                return
            }
            acknowledged.append((id, parts[2], parts[3]))
        }
        while acknowledged.count < 300, let line = lines.next() { parse(line) }
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        #expect(child.terminationReason == .uncaughtSignal && child.terminationStatus == SIGKILL,
                "the child finished before it was killed; the test proved nothing")
        // Acknowledgements already in the pipe when it died count too: drain them.
        while let line = lines.next() { parse(line) }
        try #require(acknowledged.count >= 300)

        // 2. Every acknowledged verdict is in the database, as acknowledged.
        let store = try LabelStore.open(sessionDirectory: session, forLabeling: true)  // dead holder does not block
        let events = Dictionary(uniqueKeysWithValues: try store.verdictEvents().map { ($0.id.rawValue, $0) })
        for ack in acknowledged {
            let event = try #require(events[ack.id], "acknowledged event \(ack.id) lost")
            #expect(event.itemIdentity == ack.item && event.verdict.description == ack.verdict)
            #expect(event.verdict == StoreTortureCommand.verdict(forItem: Int(ack.item.dropFirst())!))
        }
        // Beyond the acknowledgements, at most the one verdict committed as the kill landed.
        let stored = events.count
        #expect(stored == acknowledged.count || stored == acknowledged.count + 1)
        let resumeBefore = try store.resumeState()
        #expect(resumeBefore.pendingQueue.count == total - stored)
        #expect(resumeBefore.pendingQueue.first == "t\(stored)")
        store.close()

        // 3. A new process resumes exactly where the killed one stopped.
        let (resumed, resumedLines) = try launch(binary, ["store-torture", "--session", session, "--count", "50"])
        #expect(resumedLines.next() == "resume \(stored) \(total - stored)")
        var next: [String] = []
        while let line = resumedLines.next(), line != "done" { next.append(line.split(separator: " ")[2].description) }
        resumed.waitUntilExit()
        #expect(resumed.terminationStatus == 0)
        #expect(next == (stored..<(stored + 50)).map { "t\($0)" })
        let after = try LabelStore.open(sessionDirectory: session, forLabeling: false)
        #expect(try after.currentLabels().count == stored + 50)
    }
}

/// `lfosa status` and `lfosa export` run as a user would: real binary, real files, exit codes.
@Suite struct StoreCommandLineTests {
    typealias Outcome = CLIOutcome

    private func lfosa(_ arguments: [String]) throws -> Outcome { try runLfosa(arguments, timeout: 120) }

    /// A session over `<dir>/src` with three image files, two labels, one unknown and a round.
    private func session(in dir: String) throws -> String {
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/src", withIntermediateDirectories: true)
        for name in ["a.png", "b.png", "c.png"] {
            _ = fm.createFile(atPath: dir + "/src/" + name, contents: Data(name.utf8))
        }
        let store = try LabelStore.create(sessionDirectory: dir + "/s.lfosa", configuration: SessionConfiguration(
            source: dir + "/src", classNames: ["cat", "dog"], classKeys: ["c", "d"], strategy: "lfosa", seed: 3,
            annotator: "ada"))
        try store.upsertItems([(identity: "ha", path: "a.png"), (identity: "hb", path: "b.png"),
                               (identity: "hc", path: "c.png")])
        try store.record(.known(0), item: "ha", round: 0, annotator: "ada", at: Date(timeIntervalSince1970: 100))
        try store.record(.unknown, item: "hb", round: 0, annotator: "ada", at: Date(timeIntervalSince1970: 110))
        try store.record(.known(1), item: "hc", round: 0, annotator: "ada", at: Date(timeIntervalSince1970: 130))
        try store.recordRound(RoundRecord(round: 0, labeledCount: 2, invalidCount: 1, queriedCount: 3,
                                          knownQueriedCount: 2, recordedAt: Date(timeIntervalSince1970: 131)))
        try store.saveModel(name: LabelExport.weightsFileName, bytes: [1, 2, 3])
        store.close()
        return dir + "/s.lfosa"
    }

    @Test func statusShowsCountsPrecisionAndPaceAndWarnsOfVanishedImages() throws {
        let dir = NSTemporaryDirectory() + "lfosa-cli-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let s = try session(in: dir)
        let text = try lfosa(["status", "--session", s])
        #expect(text.status == 0 && text.stderr.isEmpty)
        #expect(text.stdout.contains("classes   cat 1 · dog 1"))
        #expect(text.stdout.contains("known     2   unknown 1   skipped 0"))
        #expect(text.stdout.contains("  0      3        2      0.667      2      1"))
        #expect(text.stdout.contains("labeling  30s active, 6.0 labels/min (ada)"))
        #expect(text.stdout.contains("labels    round 0: 2 known, 1 unknown, 0 skipped (precision 0.667)"))
        #expect(!text.stdout.contains("warning"))

        try FileManager.default.removeItem(atPath: dir + "/src/b.png")
        let json = try lfosa(["status", "--session", s, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["missing_source_files"] as? Int == 1)
        #expect(object["classes"] as? [String: Int] == ["cat": 1, "dog": 1])
        #expect(try lfosa(["status", "--session", s]).stdout.contains("warning   1 item(s) have no source file"))
    }

    @Test func errorsAreOneLineOnStderrWithNonZeroExit() throws {
        let dir = NSTemporaryDirectory() + "lfosa-cli-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let s = try session(in: dir)

        let missing = try lfosa(["status", "--session", dir + "/nope"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "lfosa status: no session at \(dir)/nope: \(dir)/nope/labels.sqlite does not exist\n")

        let export = try lfosa(["export", "--session", s, "--format", "folder", "--out", dir + "/out"])
        #expect(export.status == 0 && export.stderr.isEmpty)
        #expect(FileManager.default.fileExists(atPath: dir + "/out/unknown/b.png"))
        #expect(FileManager.default.contents(atPath: dir + "/out/classifier.weights") == Data([1, 2, 3]))

        let again = try lfosa(["export", "--session", s, "--format", "csv", "--out", dir + "/out"])
        #expect(again.status == 1)
        #expect(again.stderr == "lfosa export: \(dir)/out already exists; choose another --out or remove it first\n")

        let format = try lfosa(["export", "--session", s, "--format", "xml", "--out", dir + "/x"])
        #expect(format.status == 1 && format.stderr == "lfosa export: unknown --format 'xml': use csv, jsonl or folder\n")

        try Data("not a database".utf8).write(to: URL(fileURLWithPath: s + "/labels.sqlite"))
        let corrupt = try lfosa(["status", "--session", s])
        #expect(corrupt.status == 1)
        #expect(corrupt.stderr == "lfosa status: \(s)/labels.sqlite is not an lfosa session database: not an SQLite database; it was left untouched\n")
    }
}
