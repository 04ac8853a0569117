import ArgumentParser
import Foundation
import LfosaData
import LfosaEngine
import LfosaNumerics
import LfosaStore
import LfosaTerminal

/// `lfosa demo [SOURCE]`: LfOSA live on a labeled dataset, a simulated annotator answering.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Watch LfOSA query a labeled dataset while a simulated annotator answers from ground truth.",
        discussion: """
            Without SOURCE: Fashion-MNIST from Debian's dataset-fashion-mnist package, K = 2 known \
            classes (20% mismatch), a seeded subset of --pool training images. + / - change the \
            simulated annotator's pace, p pauses it; any class key takes over (p hands back). The \
            side panel compares LfOSA's precision per batch with a random query of the same size \
            on the same pool, and shows recall. Labels go to --session (default: a new directory \
            under /tmp).
            """
    )

    @Argument(help: "Labeled dataset (default: fashion-mnist).")
    var source: String = "fashion-mnist"

    @Option(help: "Mismatch ratio: the first round(ratio × classes) class ids are known.")
    var mismatch: Double = 0.2

    @Option(help: "Known class ids, comma separated (overrides --mismatch).")
    var known: String?

    @Option(help: "Training images in the pool (a seeded subset; 0 = all).")
    var pool: Int = 4000

    @Option(help: "Images per batch.")
    var batch: Int = 20

    @Option(name: .customLong("init-percent"), help: "Initially labeled percentage of the known-class images.")
    var initPercent: Double = 2

    @Option(help: "Seed of the subset, the split, the networks and the random baseline.")
    var seed: UInt64 = 1

    @Option(help: "Simulated annotator: milliseconds per label.")
    var pace: Int = 200






    @OptionGroup(title: "Training")
    var training: InteractiveTrainingOptions

    @OptionGroup(title: "Scoring")
    var scoring: ScoringOptions

    @Option(help: "Session directory (default: a new directory under /tmp).")
    var session: String?

    @Option(name: .customLong("headless-rounds"),
            help: ArgumentHelp("Run N batches without a terminal (simulated annotator, no pauses) and print timings.",
                               visibility: .hidden))
    var headlessRounds: Int?

    mutating func run() throws {
        // option values first: a bad one stops before any dataset is read or session touched
        let scoreValue = try LfOSAStrategy.Score.parse(scoring.score)
        let matmulPrecision = try MatmulPrecision.parse(scoring.precision)
        let trainingPrecision = try scoring.trainingPrecision(for: matmulPrecision)
        guard batch > 0, training.isValid, pace >= 0, pool >= 0 else {
            throw AnnotationSetup.fail("demo", "--batch, --train-steps and --train-batch must be positive, --pace, --pool and --pretrain-steps not negative, --unknown-weight at least 1, --mixup between 0 and 1, --temperature positive")
        }
        var dataset: LoadedDataset
        do { dataset = try DatasetLoader.load(spec: source, options: LoadOptions(cacheDirectory: DatasetLoadingOptions.defaultCacheDirectory(ProcessInfo.processInfo.environment))) } catch { throw AnnotationSetup.fail("demo", error.description) }
        if pool > 0 && pool < dataset.train.count {
            var order = Array(0..<dataset.train.count)
            var rng = SplitMix64(seed: seed ^ 0x5EED_D3E0)
            seededShuffle(&order, using: &rng)
            dataset.train = dataset.train.subset(Array(order.prefix(pool)).sorted())
        }
        let train = dataset.train
        let spec: KnownClasses
        if let known {
            let ids = known.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            spec = .ids(ids)
        } else {
            spec = .mismatchRatio(mismatch)
        }
        let split: OpenSetSplit
        do {
            split = try OpenSetSplit.make(trainLabels: train.labels, testLabels: [], classNames: train.classNames, known: spec,
                                          initialPercent: initPercent, seed: seed)
        } catch {
            throw AnnotationSetup.fail("demo", error.description)
        }
        let knownIndex = Dictionary(uniqueKeysWithValues: split.known.enumerated().map { ($1, $0) })
        let labels = train.labels
        let truth: (Int) -> Int? = { i in labels[i].flatMap { knownIndex[$0] } }
        let names = split.known.map { Self.className(train.classNames.indices.contains($0) ? train.classNames[$0] : "class\($0)") }
        let keys = KeyMap.standard(classCount: names.count)

        let directory = session ?? NSTemporaryDirectory() + "lfosa-demo-\(getpid())-\(Int(Date().timeIntervalSince1970))"
        let annotator = "demo"
        let config = SessionConfiguration(source: AnnotationSession.absolutePath(dataset.path), classNames: names, classKeys: keys.classKeys.map(\.name),
                                          strategy: StrategyKind.lfosa.rawValue,
                                          strategyParameters: ["batch": "\(batch)", "pool": "\(train.count)", "mismatch": "\(mismatch)"],
                                          seed: seed, annotator: annotator)
        let (store, created) = try AnnotationSetup.openStore(directory: directory, configuration: config, classesGiven: true,
                                                             command: "demo")
        do {
            if created {
                // The initial labeled set of the open-set protocol, as verdicts of "initial".
                try store.upsertItems(train.identities.indices.map { (identity: train.identities[$0], path: train.paths[$0]) })
                for i in split.initialLabeled {
                    try store.record(.known(truth(i)!), item: train.identities[i], round: 0, annotator: "initial", at: Date())
                }
            }
        } catch let error as StoreError {
            store.close()
            throw AnnotationSetup.fail("demo", error.description)
        }
        Runtime.prepareForNumerics(threads: nil)
        var settings = AnnotationSettings()
        settings.batch = batch
        settings.seed = seed
        settings.annotator = annotator
        settings.profile = try training.profile(poolSize: dataset.train.count, scoring: scoring, matmul: matmulPrecision,
                                                training: trainingPrecision)
        settings.score = scoreValue
        settings.trunkCacheDirectory = DatasetLoadingOptions.defaultCacheDirectory(ProcessInfo.processInfo.environment)
        let annotation = try AnnotationSession(pool: train, store: store, settings: settings, groundTruth: truth,
                                               seedItems: Set(split.initialLabeled))
        if let rounds = headlessRounds {
            try runHeadless(annotation, keys: keys, rounds: rounds)
            return
        }
        try AnnotationSetup.runOnTerminal(annotation, keyMap: keys, demo: DemoControl(pace: .milliseconds(pace)), command: "demo")
    }

    /// Store class names may not contain "/" (they name export folders).
    static func className(_ name: String) -> String {
        name.replacingOccurrences(of: "/", with: "-")
    }

    /// The demo without a terminal: the simulated annotator at full speed for `rounds` batches.
    private func runHeadless(_ session: AnnotationSession, keys: KeyMap, rounds: Int) throws {
        let terminal = HeadlessTerminal(size: TerminalSize(width: 120, height: 40))
        let loop = AnnotationRunLoop(session: session, terminal: terminal, keyMap: keys, demo: DemoControl(pace: .milliseconds(20)))
        let wall = Date()
        var lastReport = 0
        let exit = try loop.run(stopWhenIdle: {
            if session.isTraining { usleep(5000) }   // the headless clock does not wait: leave the cores to training
            if session.jobTimings.count > lastReport {
                lastReport = session.jobTimings.count
                let t = session.jobTimings.last!
                let p = session.precisionHistory.last
                let line = String(format: "round %d: retrain %.2f s, score %.2f s", lastReport, t.train, t.score)
                    + (p.map { String(format: ", precision %.2f (random %.2f)", $0.lfosa, $0.random) } ?? "")
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
            return session.jobTimings.count >= rounds && !session.isTraining
        })
        session.shutdown()
        session.store.close()
        let train = session.jobTimings.map(\.train), score = session.jobTimings.map(\.score)
        let precision = session.precisionHistory
        let latency = loop.keyLatencies.sorted()
        let p50 = latency.isEmpty ? 0 : latency[latency.count / 2]
        let p99 = latency.isEmpty ? 0 : latency[min(latency.count - 1, latency.count * 99 / 100)]
        func f(_ v: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", v) }
        let fields: [(String, String)] = [
            ("rounds", "\(train.count)"), ("retrain_mean_s", f(train.reduce(0, +) / Double(max(1, train.count)))),
            ("retrain_max_s", f(train.max() ?? 0)), ("score_mean_s", f(score.reduce(0, +) / Double(max(1, score.count)))),
            ("verdict_to_frame_ms_p50", f(p50)), ("verdict_to_frame_ms_p99", f(p99)), ("verdicts", "\(latency.count)"),
            ("precision", "[" + precision.map { f($0.lfosa, 2) }.joined(separator: ",") + "]"),
            ("random", "[" + precision.map { f($0.random, 2) }.joined(separator: ",") + "]"),
            ("recall", f(session.recall ?? 0, 4)), ("wall_s", f(Date().timeIntervalSince(wall), 1)),
            ("pool", "\(session.candidates.count)"), ("profile", "\"\(session.settings.profile.name)\""),
            ("matmul_precision", "\"\(session.settings.profile.matmulPrecision.rawValue)\""),
            ("train_precision", "\"\(session.settings.profile.trainingPrecision.rawValue)\""),
            ("flip_scoring", "\"\(session.settings.profile.flipScoring.rawValue)\""),
            ("candidate_shifts", "\(session.settings.profile.candidateShiftsInUse)"),
            ("class_balanced", "\(session.settings.profile.classBalanced)"),
            ("unknown_weight", "\(session.settings.profile.unknownWeight)"),
            ("mixup", "\(session.settings.profile.mixup)"),
            ("temperature", (session.loop.strategy as? LfOSAStrategy).map { "\($0.temperature)" } ?? "null"),   // what the strategy trains at
            ("score", "\"\(session.settings.score.rawValue)\""),
            ("exit", "\"\(exit)\""),
        ]
        print("{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
    }
}
