import ArgumentParser
import Foundation
import LfosaData
import LfosaEngine
import LfosaNumerics

/// One round's measurements of a simulated run (one CSV row).
///
/// Round q holds the training on the data before query q (`labeled`, `invalid`, `accuracy`,
/// `trainSeconds`) and query q itself (`precision`, recalls after it, `selectSeconds`). The
/// last round (q = rounds) only trains and measures accuracy; its query fields are nil.
struct SimulateRound: Codable, Equatable {
    var strategy: String
    var seed: UInt64
    var round: Int
    var labeled: Int
    var invalid: Int
    var precision: Double?
    var recall: Double?
    var recallPaper: Double?
    var accuracy: Double?
    var trainSeconds: Double
    var selectSeconds: Double?
    var queried: Int?
    /// CPU seconds the hypervisor took from this machine's CPUs during the selection
    /// (`StealTime`; nil where unknown): a VM's stall, not the tool's work.
    var selectStealSeconds: Double? = nil
}

/// The open-set experiment a simulation runs (shared by every strategy × seed).
struct SimulateSetting {
    var dataset: LoadedDataset
    var known: KnownClasses
    var initialPercent: Double
    var batch: Int
    var rounds: Int
    var profile: TrainingProfile
    var temperature: Float
    var threshold: Float?
    /// What the LfOSA variants rank by.
    var score: LfOSAStrategy.Score = .margin
    /// Self-supervised trunk that seeds the networks (nil: random initialisation).
    var trunk: PretrainedTrunk? = nil
    /// When set, every round's ranking of the whole pool is written to
    /// `<dir>/ranking-<strategy>-s<seed>-r<round>.csv` (diagnostics; scoring then ranks the whole pool).
    var rankingDirectory: String? = nil
}

/// Drives an `ActiveLearningLoop` with a ground-truth oracle and measures every round.
enum SimulateRunner {
    /// Runs `strategy` with `seed`; `report` gets progress (phase, round, fraction of the round).
    static func run(_ setting: SimulateSetting, strategy kind: StrategyKind, seed: UInt64,
                    report: (SimulateProgress.Event) -> Void) throws -> [SimulateRound] {
        let data = setting.dataset
        let split = try OpenSetSplit.make(data, known: setting.known, initialPercent: setting.initialPercent, seed: seed)
        let knownIndex = Dictionary(uniqueKeysWithValues: split.known.enumerated().map { ($1, $0) })
        let train = data.train
        let labels = train.labels.map { $0! }
        let source = ImageBatchSource(channels: train.channels, height: train.height, width: train.width, pixels: train.pixels)
        let totalKnown = labels.filter { knownIndex[$0] != nil }.count
        let initial = split.initialLabeled.map { LabeledSets.Item(index: $0, label: knownIndex[labels[$0]]!) }
        let knownInPool = totalKnown - initial.count
        let strategy = kind.make(temperature: setting.temperature, threshold: setting.threshold, mcDropout: setting.profile.mcDropout,
                                 score: setting.score)
        let loop = ActiveLearningLoop(source: source, knownClasses: split.known.count, candidates: Array(0..<train.count),
                                      labeled: initial, strategy: strategy, profile: setting.profile, seed: seed)
        loop.pretrainedTrunk = setting.trunk
        var testSource: ImageBatchSource? = nil
        var testLabels: [Int] = []
        if let test = data.test, !split.testKnown.isEmpty {
            testSource = ImageBatchSource(channels: test.channels, height: test.height, width: test.width, pixels: test.pixels)
            testLabels = split.testKnown.map { knownIndex[test.labels[$0]!]! }
        }
        var rows: [SimulateRound] = []
        let networks = setting.profile.networks(for: strategy.requirements)
        for q in 0...setting.rounds {
            report(.phase(round: q, phase: "train", fraction: 0))
            let t0 = Date()
            // After the last query: the final fit (fresh networks, longer training) when the profile has one.
            let finalFit = q == setting.rounds && setting.profile.finalFitSteps > 0
            let onProgress = { (p: TrainingProgress) in
                report(.phase(round: q, phase: "\(finalFit ? "final fit" : "train") \(p.role.rawValue) loss \(String(format: "%.3f", p.loss))",
                              fraction: networks.fraction(at: p)))
            }
            if finalFit { try loop.finalFit(progress: onProgress) } else { try loop.retrain(progress: onProgress) }
            let trainSeconds = Date().timeIntervalSince(t0)
            var accuracy: Double? = nil
            if let ts = testSource {
                report(.phase(round: q, phase: "test", fraction: 1))
                let predicted = loop.predictKnownClasses(ts, indices: split.testKnown)
                accuracy = Double(zip(predicted, testLabels).filter { $0 == $1 }.count) / Double(testLabels.count)
            }
            var row = SimulateRound(strategy: kind.rawValue, seed: seed, round: q, labeled: loop.labeled.count,
                                    invalid: loop.invalid.count, accuracy: accuracy, trainSeconds: trainSeconds)
            if q < setting.rounds {
                report(.phase(round: q, phase: "score/select", fraction: 1))
                let t1 = Date(), steal1 = StealTime.now()
                let ranked = try loop.nextQuery(batch: setting.rankingDirectory == nil ? setting.batch : Int.max,
                                                queryBatch: setting.batch)
                row.selectSeconds = Date().timeIntervalSince(t1)
                if let steal1, let steal2 = StealTime.now() { row.selectStealSeconds = max(0, steal2 - steal1) }
                let query = Array(ranked.prefix(setting.batch))
                if let dir = setting.rankingDirectory {
                    var csv = "rank,index,class,known,predicted,score,mav\n"
                    for (r, item) in ranked.enumerated() {
                        csv += "\(r),\(item.index),\(labels[item.index]),\(knownIndex[labels[item.index]] != nil ? 1 : 0),"
                            + "\(item.predictedClass.map(String.init) ?? ""),\(item.score),\(item.maxActivation.map { "\($0)" } ?? "")\n"
                    }
                    let file = "\(dir)/ranking-\(kind.rawValue)-s\(seed)-r\(q).csv"
                    do { try csv.write(toFile: file, atomically: true, encoding: .utf8) } catch {
                        throw ValidationError("\(file): cannot write the ranking (\(error.localizedDescription))")
                    }
                }
                let verdicts = query.map { item -> (index: Int, verdict: Verdict) in
                    if let k = knownIndex[labels[item.index]] { return (item.index, .known(k)) }
                    return (item.index, .unknown)
                }
                let knownHits = verdicts.filter { if case .known = $0.verdict { return true } else { return false } }.count
                try loop.record(verdicts)
                row.queried = query.count
                row.precision = Double(knownHits) / Double(max(1, setting.batch))
                row.recall = Double(loop.labeled.count) / Double(max(1, totalKnown))
                row.recallPaper = Double(loop.labeled.count - initial.count) / Double(max(1, knownInPool))
            }
            rows.append(row)
            report(.roundDone(round: q))
        }
        return rows
    }
}
