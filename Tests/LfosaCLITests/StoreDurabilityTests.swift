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
        var acknowledged: [(id: Int64, item: String, verdict: String)] = []
        while acknowledged.count < 300, let line = lines.next() {
            let parts = line.split(separator: " ").map(String.init)
            guard parts.count == 4, parts[0] == "ack", let id = Int64(parts[1]) else {
                Issue.record("unexpected line '\(line)'")
                break
            }
            acknowledged.append((id, parts[2], parts[3]))
        }
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        #expect(child.terminationReason == .uncaughtSignal && child.terminationStatus == SIGKILL,
                "the child finished before it was killed; the test proved nothing")
        try #require(acknowledged.count == 300)

        // 2. Every acknowledged verdict is in the database, as acknowledged.
        let store = try LabelStore.open(sessionDirectory: session, forLabeling: true)  // dead holder does not block
        let events = Dictionary(uniqueKeysWithValues: try store.verdictEvents().map { ($0.id.rawValue, $0) })
        for ack in acknowledged {
            let event = try #require(events[ack.id], "acknowledged event \(ack.id) lost")
            #expect(event.itemIdentity == ack.item && event.verdict.description == ack.verdict)
            #expect(event.verdict == StoreTortureCommand.verdict(forItem: Int(ack.item.dropFirst())!))
        }
        // At most the verdict in flight may be beyond the acknowledgements.
        let stored = events.count
        #expect(stored >= 300 && stored <= 302)
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
