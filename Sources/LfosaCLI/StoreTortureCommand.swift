import ArgumentParser
import Foundation
import LfosaStore

/// `lfosa store-torture` (hidden): records verdicts in a loop, acknowledging each committed one.
///
/// For the durability test, which SIGKILLs it mid-run. Creates the session (items `t0…t<count-1>`,
/// a queue of all of them) unless it exists; otherwise resumes it. Prints `resume <labeled>
/// <pending>` first, then `ack <event id> <item> <verdict>` per committed verdict, flushed after
/// each, so every printed id must be in the database whatever happens next. Item `t<i>` gets
/// verdict `StoreTortureCommand.verdict(forItem: i)`.
struct StoreTortureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store-torture",
        abstract: "Durability test helper: records verdicts in a loop and acknowledges each commit.",
        shouldDisplay: false
    )

    @Option(help: "Session directory (created if absent).")
    var session: String

    @Option(help: "Items in a new session; verdicts to record (at most the pending ones).")
    var count: Int

    /// The verdict the torture gives item `t<i>`: known(0), known(1), unknown, skipped, repeating.
    static func verdict(forItem index: Int) -> Verdict {
        switch index % 4 {
        case 0: return .known(0)
        case 1: return .known(1)
        case 2: return .unknown
        default: return .skipped
        }
    }

    func run() throws {
        try StoreCommandSupport.failingOnStoreError(command: "store-torture") {
            let store: LabelStore
            if FileManager.default.fileExists(atPath: (session as NSString).appendingPathComponent(LabelStore.databaseFileName)) {
                store = try LabelStore.open(sessionDirectory: session, forLabeling: true)
            } else {
                store = try LabelStore.create(sessionDirectory: session, configuration: SessionConfiguration(
                    source: "torture", classNames: ["a", "b"], classKeys: ["a", "b"], strategy: "none",
                    seed: 1, annotator: "torture"))
                let identities = (0..<count).map { "t\($0)" }
                try store.upsertItems(identities.map { (identity: $0, path: nil) })
                try store.saveQueue(round: 0, identities: identities)
            }
            let resume = try store.resumeState()
            let labeled = resume.labeled.count + resume.invalid.count + resume.skipped.count
            emit("resume \(labeled) \(resume.pendingQueue.count)")
            for identity in resume.pendingQueue.prefix(count) {
                guard let index = Int(identity.dropFirst()) else { continue }
                let verdict = Self.verdict(forItem: index)
                let id = try store.record(verdict, item: identity, round: resume.queueRound ?? 0,
                                          annotator: "torture", at: Date())
                emit("ack \(id) \(identity) \(verdict)")
            }
            store.close()
            emit("done")
        }
    }

    private func emit(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))   // unbuffered write(2)
    }
}
