import ArgumentParser
import Foundation
import LfosaStore

/// `lfosa bench store`: verdict commit latency (p50/p99) in a temporary session.
struct BenchStoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Verdict commit latency over N verdicts in a temporary session; one JSON line per synchronous level."
    )

    @Option(help: "Verdicts to commit per level.")
    var count: Int = 10_000

    @Option(help: "Synchronous level: full, normal or both.")
    var synchronous: String = "both"

    @Option(help: "Directory for the temporary session (default: the current directory, where sessions normally live; /tmp may be a RAM disk).")
    var directory: String = "."

    func run() throws {
        guard ["full", "normal", "both"].contains(synchronous) else {
            throw StoreCommandSupport.fail(command: "bench store", "unknown --synchronous '\(synchronous)': use full, normal or both")
        }
        guard count > 0 else { throw StoreCommandSupport.fail(command: "bench store", "--count must be positive") }
        let levels: [LabelStore.Synchronous] = synchronous == "both" ? [.full, .normal]
            : [synchronous == "full" ? .full : .normal]
        try StoreCommandSupport.failingOnStoreError(command: "bench store") {
            for level in levels {
                let result = try StoreBenchmark.run(count: count, synchronous: level, in: directory)
                print("{\"bench\":\"store\",\"synchronous\":\"\(level.rawValue)\",\"verdicts\":\(count),"
                      + String(format: "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"mean_ms\":%.3f}",
                               result.p50, result.p99, result.max, result.mean))
            }
        }
    }
}

/// The timing loop of `lfosa bench store` (the clock lives here, not in the store).
enum StoreBenchmark {
    /// Commits `count` verdicts one by one, as an annotator would, and returns latency percentiles in ms.
    static func run(count: Int, synchronous: LabelStore.Synchronous,
                    in directory: String) throws -> (p50: Double, p99: Double, max: Double, mean: Double) {
        let session = (directory as NSString).appendingPathComponent(".lfosa-bench-\(getpid())-\(synchronous.rawValue).lfosa")
        defer { try? FileManager.default.removeItem(atPath: session) }
        let store = try LabelStore.create(sessionDirectory: session, configuration: SessionConfiguration(
            source: "bench", classNames: ["a", "b", "c"], classKeys: ["a", "b", "c"], strategy: "none",
            seed: 1, annotator: "bench"), synchronous: synchronous)
        defer { store.close() }
        let identities = (0..<count).map { String(format: "%064x", $0) }
        try store.upsertItems(identities.map { (identity: $0, path: "images/\($0).png") })
        var latencies: [Double] = []
        latencies.reserveCapacity(count)
        let clock = ContinuousClock()
        for (i, identity) in identities.enumerated() {
            let verdict: Verdict = i % 5 == 4 ? .unknown : .known(i % 3)
            let start = clock.now
            try store.record(verdict, item: identity, round: i / 100, annotator: "bench", at: Date())
            let elapsed = clock.now - start
            latencies.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1e3)
        }
        latencies.sort()
        func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int((p * Double(latencies.count)).rounded(.up)) - 1)] }
        return (percentile(0.50), percentile(0.99), latencies.last!, latencies.reduce(0, +) / Double(latencies.count))
    }
}
