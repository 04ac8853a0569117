import Foundation
import Testing
@testable import LfosaCLI
import LfosaData
import LfosaEngine
import LfosaNumerics

/// `lfosa simulate` end to end on a tiny synthetic dataset: the runner's rows, the reports
/// (CSV columns, JSON, table, SVG) and same-seed determinism.
@Suite struct SimulateTests {
    /// Four classes of 1×8×8 images: class c lights quadrant c (plus noise); classes 0–1 known.
    static func dataset(train count: Int, test testCount: Int) -> LoadedDataset {
        func pool(_ n: Int, seed: UInt64) -> ImagePool {
            var rng = SplitMix64(seed: seed)
            var pixels: [UInt8] = []
            var labels: [Int?] = []
            for i in 0..<n {
                let c = i % 4
                labels.append(c)
                for y in 0..<8 {
                    for x in 0..<8 {
                        let lit = (y / 4) * 2 + (x / 4) == c
                        pixels.append(UInt8(max(0, min(255, (lit ? 190 : 60) + Int(rng.nextNormal() * 25)))))
                    }
                }
            }
            return ImagePool(channels: 1, height: 8, width: 8, pixels: pixels, labels: labels,
                             classNames: ["a", "b", "c", "d"], identities: (0..<n).map { "s\(seed)-\($0)" },
                             paths: [String?](repeating: nil, count: n))
        }
        return LoadedDataset(train: pool(count, seed: 1), test: pool(testCount, seed: 2), format: "synthetic",
                             skipped: [], path: "synthetic", originalSizes: [], resize: nil)
    }

    static var tinyProfile: TrainingProfile {
        TrainingProfile(name: "tiny", architecture: .referenceCNN, epochsPerRound: 1, firstRoundEpochs: 2,
                        minStepsPerRound: 4, maxStepsPerRound: 6, batchSize: 16,
                        schedule: .oneCycle(max: 0.05, warmupFraction: 0.3), warmSchedule: .oneCycle(max: 0.02, warmupFraction: 0.3),
                        momentum: 0.9, weightDecay: 5e-4, augmentation: .none, warmStart: true, inferenceBatch: 64)
    }

    static func run(_ kind: StrategyKind, seed: UInt64) throws -> [SimulateRound] {
        let setting = SimulateSetting(dataset: dataset(train: 240, test: 40), known: .ids([0, 1]), initialPercent: 10,
                                      batch: 12, rounds: 2, profile: tinyProfile, temperature: 0.5, threshold: nil)
        return try SimulateRunner.run(setting, strategy: kind, seed: seed, report: { _ in })
    }

    /// The hypervisor's steal time around each selection: parsed from `/proc/stat`'s aggregate
    /// line (clock ticks → seconds), nil for text without it, and recorded for every query
    /// round where the file exists.
    @Test func stealTimeIsParsedAndRecorded() throws {
        let stat = "cpu  9095940 3 154347 7215405 11061 0 1683 46249 0 0\ncpu0 4502020 1 72023 3663317 1759 0 265 22966 0 0\n"
        #expect(StealTime.seconds(procStat: stat, ticksPerSecond: 100) == 462.49)
        #expect(StealTime.seconds(procStat: "cpu0 1 2 3 4 5 6 7 8\n", ticksPerSecond: 100) == nil)   // no aggregate line
        #expect(StealTime.seconds(procStat: "cpu  1 2 3 4 5 6 7\n", ticksPerSecond: 100) == nil)     // no steal field
        #expect(StealTime.seconds(procStat: "cpu  1 2 3 4 5 6 7 x\n", ticksPerSecond: 100) == nil)
        guard FileManager.default.fileExists(atPath: "/proc/stat"), let before = StealTime.now() else { return }
        #expect(before >= 0)
        let rows = try Self.run(.lfosa, seed: 5)
        for r in rows where r.precision != nil {
            let steal = try #require(r.selectStealSeconds)
            #expect(steal >= 0 && steal <= 10 * (r.selectSeconds ?? 0) + 0.05)
        }
        #expect(rows.last?.selectStealSeconds == nil, "the last round makes no query")
    }

    @Test func roundsReportsAndDeterminism() throws {
        let lfosa = try Self.run(.lfosa, seed: 3)
        let random = try Self.run(.random, seed: 3)
        #expect(lfosa.count == 3 && random.count == 3)   // rounds 0…2: two queries, one final accuracy
        for rows in [lfosa, random] {
            #expect(rows[0].labeled == 12)               // 10 % of the 120 known training images
            #expect(rows[0].labeled + rows[0].invalid + 12 == rows[1].labeled + rows[1].invalid)
            for r in rows.prefix(2) {
                let p = try #require(r.precision)
                #expect((0...1).contains(p))
            }
            #expect(rows[2].precision == nil)
            #expect(rows.allSatisfy { ($0.accuracy ?? -1) >= 0 && ($0.accuracy ?? 101) <= 100 })
        }
        // Same seed, same numbers (timings aside).
        let again = try Self.run(.lfosa, seed: 3)
        #expect(again.map(\.precision) == lfosa.map(\.precision))
        #expect(again.map(\.accuracy) == lfosa.map(\.accuracy))
        #expect(again.map(\.labeled) == lfosa.map(\.labeled))

        let rows = lfosa + random
        let csv = SimulateReport.csv(rows).split(separator: "\n")
        let header = csv[0].split(separator: ",").map(String.init)
        for column in ["strategy", "seed", "round", "labeled", "invalid", "precision", "recall", "recall_paper",
                       "accuracy", "train_s", "select_s", "select_steal_s"] {
            #expect(header.contains(column), "missing CSV column \(column)")
        }
        #expect(csv.count == rows.count + 1)
        let json = try JSONSerialization.jsonObject(with: SimulateReport.json(rows, settings: ["seeds": "3"]))
        #expect(json is [String: Any])
        let table = SimulateReport.table(rows)
        #expect(table.contains("lfosa") && table.contains("random") && table.contains("mean precision"))
        let svg = SimulatePlot.svg(title: "precision", yLabel: "precision",
                                   series: SimulateReport.strategies(rows).map { name in
                                       (name: name, points: SimulateReport.series(rows, strategy: name) { $0.precision })
                                   })
        #expect(svg.hasPrefix("<svg") || svg.hasPrefix("<?xml"))
        #expect(svg.contains("lfosa") && svg.contains("random"))
    }
}
