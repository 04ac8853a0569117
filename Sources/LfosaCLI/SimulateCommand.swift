import ArgumentParser
import Foundation
import LfosaData
import LfosaEngine
import LfosaNumerics

/// `lfosa simulate SOURCE`: open-set active learning with a ground-truth oracle, per strategy and seed.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate open-set active learning on a labeled dataset and compare strategies.",
        discussion: """
        The dataset's labels play the annotator. Known classes are the first K ids (--mismatch) or \
        the ids given (--known); --init-percent of their training images start labeled. Each query \
        asks for --batch images. Writes results.csv, results.json and precision/recall/accuracy SVG \
        plots to --out. Strategies: \(StrategyKind.allCases.map(\.rawValue).joined(separator: ", ")).
        """
    )

    @Argument(help: "Dataset source (e.g. /work/shared/datasets/cifar-10-batches-bin, fashion-mnist, cifar10:PATH).")
    var source: String

    @Option(help: "Known class ids, comma separated (e.g. 0,1,2,3).")
    var known: String?

    @Option(help: "Mismatch ratio: the first round(ratio × classes) ids are known (default 0.4 without --known).")
    var mismatch: Double?

    @Option(name: .customLong("init-percent"), help: "Initially labeled percentage of the known-class training images.")
    var initPercent: Double = 1

    @Option(help: "Images per query (b).")
    var batch: Int = 1500

    @Option(help: "Number of queries.")
    var rounds: Int = 10

    @Option(help: "Strategies, comma separated.")
    var strategies: String = "lfosa,random"

    @Option(help: "Seeds, comma separated (each seeds the split, the networks and the strategy).")
    var seeds: String = "1"

    @Option(help: "Training profile: fast or paper.")
    var profile: String = "fast"

    @Option(help: "Override the profile's network architecture (\(Architecture.allCases.map(\.rawValue).joined(separator: ", "))).")
    var architecture: String?

    @Option(name: .customLong("epochs-per-round"), help: "Override the profile's epochs per round after the first (then clamped to the step range).")
    var epochsPerRound: Int?

    @Option(name: .customLong("first-round-epochs"), help: "Override the profile's epochs of the first round (then clamped to the step range).")
    var firstRoundEpochs: Int?

    @Option(name: .customLong("min-steps"), help: "Override the profile's minimum SGD steps per network and round.")
    var minSteps: Int?

    @Option(name: .customLong("max-steps"), help: "Override the profile's maximum SGD steps per network and round (0 = no bound).")
    var maxSteps: Int?

    @Option(name: .customLong("rotation"), help: "Training augmentation: random rotation of at most this many degrees on top of crop and flip (default: the profile's; fast: 0, paper: 15).")
    var rotation: Float?

    @Option(name: .customLong("cutout"), help: "Training augmentation: cutout, a random square of this many pixels a side set to the mean (default: the profile's; 0 = none).")
    var cutout: Int?

    @Option(name: .customLong("weight-decay"), help: "SGD weight decay of the detector and classifier (default: the profile's, 5e-4).")
    var weightDecay: Float?

    @Option(name: .customLong("final-fit-steps"), help: "After the last query, train the networks afresh (from the trunk) for this many steps on everything labeled instead of one more warm round; the final accuracy is theirs (default: the profile's; fast: 4000, paper: 0 = none).")
    var finalFitSteps: Int?

    @Option(name: .customLong("final-fit-lr"), help: "Peak learning rate of the final fit's schedule, the shape kept (default: the profile's; fast: one-cycle max 0.1).")
    var finalFitLR: Float?

    @Option(name: .customLong("lr"), help: "Peak learning rate of the first round's schedule, the shape kept (default: the profile's; fast: one-cycle max 0.05, paper: StepLR base 0.01).")
    var firstRoundLR: Float?

    @Option(name: .customLong("warm-lr"), help: "Peak learning rate of the warm-started rounds' schedule (default: the profile's; fast: one-cycle max 0.03).")
    var warmLR: Float?

    @Option(name: .customLong("pretrain-steps"), help: "Steps of self-supervised rotation pretraining of the shared trunk on the pool, cached per pool (0 = none; default: the profile's).")
    var pretrainSteps: Int?

    @Flag(name: .customLong("balanced"), inversion: .prefixedNo,
          help: "Class-balanced training batches (default: the profile's).")
    var balanced: Bool?

    @Option(name: .customLong("unknown-weight"), help: "Under class-balanced batches, how many known classes' shares of every detector batch the queried unknowns fill (default: the profile's; 1 = one share, like each known class).")
    var unknownWeight: Int?

    @Flag(name: .customLong("unknowns-by-query"), inversion: .prefixedNo,
          help: "Under class-balanced batches, share the unknown class's draws evenly between the queries its samples came from, so the latest query's few unknowns are drawn as often as the first's many (default: the profile's).")
    var unknownsByQuery: Bool?

    @Flag(name: .customLong("pool-unknowns"), inversion: .prefixedNo,
          help: "Under class-balanced batches, the detector's unknown class also draws from the unlabeled pool, labeled unknown, as much as from the queried unknowns (default: the profile's).")
    var poolUnknowns: Bool?

    @Option(name: .customLong("mixup"), help: "Probability that a round's training batch is mixed (mixup: each image blended with another of the batch by a uniform λ, the loss blended alike; default: the profile's; 0 = none).")
    var mixup: Float?

    @Option(name: .customLong("final-fit-mixup"), help: "The same for the final fit's batches (default: the profile's; 0 = none).")
    var finalFitMixup: Float?

    @Option(name: .customLong("mix-style"), help: "How a mixed batch is mixed: blend (mixup: whole images blended by λ) or cutmix (a box of 1 − λ of the image pasted from the other image, the loss weighted by the areas) (default: the profile's).")
    var mixStyle: MixStyle?

    @Flag(name: .customLong("detector-classifies"), inversion: .prefixedNo,
          help: "The (K+1)-way detector's first K logits classify instead of a separate K-way classifier (default: the profile's; fast: yes, paper: no).")
    var detectorClassifies: Bool?

    @Flag(name: .customLong("warm-start"), inversion: .prefixedNo,
          help: "Continue each round from the previous round's weights instead of re-initialising (from the pretrained trunk when there is one) with the first round's schedule (default: the profile's).")
    var warmStart: Bool?

    @Flag(name: .customLong("flip-classification"), inversion: .prefixedNo,
          help: "Classify the test images (the reported accuracy) by each image's and its mirror image's averaged logits (default: the profile's; fast: yes, paper: no).")
    var flipClassification: Bool?

    @Option(help: "Under --flip-classification, how many one-pixel diagonal shifts (0-4) also classify each test image, on the plain and the mirrored image, all views' logits averaged (default: the profile's; fast: 2, paper: 0).")
    var classificationShifts: Int?

    @Flag(name: .customLong("pretrain-dense"), help: "Transfer the pretrained dense layers too, not only the convolutions.")
    var pretrainDense = false

    @Option(help: "Detector temperature T for the LfOSA variants that do not fix it (default: the profile's; fast 0.25, paper 0.5).")
    var temperature: Float?

    @Option(help: "Query only samples whose LfOSA weight w ≥ τ (at most --batch); default: top-b.")
    var threshold: Float?

    @OptionGroup(title: "Scoring")
    var scoring: ScoringOptions

    @Option(help: "Use a seeded random subset of this many training images (quick experiments).")
    var subset: Int?

    @Option(name: .customLong("dump-rankings"),
            help: ArgumentHelp("Write every round's ranking of the whole pool as CSV into this directory (diagnostics; ranking the whole pool is cheap for the LfOSA variants, Random and the softmax strategies, slow for coreset's greedy selection).", visibility: .hidden))
    var dumpRankings: String?

    @Option(help: "Output directory.")
    var out: String = "simulate-out"

    @Option(help: "Worker threads (default: all online cores).")
    var threads: Int?

    @Flag(help: "No progress line on stderr.")
    var quiet = false

    mutating func run() throws {
        Runtime.prepareForNumerics(threads: threads)
        guard var profileValue = TrainingProfile.named(profile) else { throw ValidationError("unknown profile '\(profile)' (fast, paper)") }
        let matmulPrecision = try MatmulPrecision.parse(scoring.precision)
        let trainingPrecision = try scoring.trainingPrecision(for: matmulPrecision)
        let scoreValue = try LfOSAStrategy.Score.parse(scoring.score)
        if let minSteps {
            guard minSteps >= 0 else { throw ValidationError("--min-steps must be at least 0, got \(minSteps)") }
            profileValue.minStepsPerRound = minSteps
        }
        if let maxSteps {
            guard maxSteps >= 0 else { throw ValidationError("--max-steps must be at least 0, got \(maxSteps)") }
            profileValue.maxStepsPerRound = maxSteps
        }
        if let architecture {
            guard let a = Architecture(rawValue: architecture) else {
                throw ValidationError("unknown architecture '\(architecture)' (\(Architecture.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            profileValue.architecture = a
        }
        for (name, value) in [("--epochs-per-round", epochsPerRound), ("--first-round-epochs", firstRoundEpochs)] {
            if let value, value < 1 { throw ValidationError("\(name) must be at least 1, got \(value)") }
        }
        if let pretrainSteps, pretrainSteps < 0 {
            throw ValidationError("--pretrain-steps must be at least 0, got \(pretrainSteps)")
        }
        if let rotation {
            guard rotation >= 0 && rotation <= 180 else { throw ValidationError("--rotation must be between 0 and 180 degrees, got \(rotation)") }
            profileValue.augmentation.maxRotationDegrees = rotation
        }
        if let cutout {
            guard cutout >= 0 else { throw ValidationError("--cutout must be at least 0, got \(cutout)") }
            profileValue.augmentation.cutout = cutout
        }
        if let weightDecay {
            guard weightDecay >= 0 && weightDecay.isFinite else { throw ValidationError("--weight-decay must be a finite number at least 0, got \(weightDecay)") }
            profileValue.weightDecay = weightDecay
        }
        if let finalFitSteps {
            guard finalFitSteps >= 0 else { throw ValidationError("--final-fit-steps must be at least 0, got \(finalFitSteps)") }
            profileValue.finalFitSteps = finalFitSteps
        }
        for (name, value) in [("--lr", firstRoundLR), ("--warm-lr", warmLR), ("--final-fit-lr", finalFitLR)] {
            if let value, !(value > 0 && value.isFinite) { throw ValidationError("\(name) must be a finite number above 0, got \(value)") }
        }
        if let firstRoundLR { profileValue.schedule = profileValue.schedule.withPeak(firstRoundLR) }
        if let warmLR { profileValue.warmSchedule = profileValue.warmSchedule.withPeak(warmLR) }
        if let finalFitLR { profileValue.finalFitSchedule = profileValue.effectiveFinalFitSchedule.withPeak(finalFitLR) }
        if profileValue.maxStepsPerRound > 0 && profileValue.minStepsPerRound > profileValue.maxStepsPerRound {
            throw ValidationError("--min-steps (\(profileValue.minStepsPerRound)) exceeds --max-steps (\(profileValue.maxStepsPerRound))")
        }
        let kinds = try strategies.split(separator: ",").map { name -> StrategyKind in
            guard let k = StrategyKind(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("unknown strategy '\(name)' (\(StrategyKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return k
        }
        let seedList = try seeds.split(separator: ",").map { s -> UInt64 in
            guard let v = UInt64(s.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("bad seed '\(s)'") }
            return v
        }
        let knownSpec: KnownClasses
        if let known {
            let ids = try known.split(separator: ",").map { s -> Int in
                guard let v = Int(s.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("bad class id '\(s)'") }
                return v
            }
            knownSpec = .ids(ids)
        } else {
            knownSpec = .mismatchRatio(mismatch ?? 0.4)
        }
        guard batch > 0, rounds >= 0 else { throw ValidationError("--batch must be positive and --rounds non-negative") }
        let candidateShifts = try scoring.validatedCandidateShifts()
        let classificationShifts = try ScoringOptions.validatedShiftCount(classificationShifts, option: "--classification-shifts")

        var dataset: LoadedDataset
        do { dataset = try DatasetLoader.load(spec: source, options: LoadOptions(cacheDirectory: DatasetLoadingOptions.defaultCacheDirectory(ProcessInfo.processInfo.environment))) } catch { throw ValidationError(error.description) }
        if let subset, subset < dataset.train.count {
            var order = Array(0..<dataset.train.count)
            var rng = SplitMix64(seed: 0x5EED_5AB5)
            seededShuffle(&order, using: &rng)
            dataset.train = dataset.train.subset(Array(order.prefix(subset)).sorted())
        }
        if let pretrainSteps {
            if pretrainSteps == 0 { profileValue.pretraining = nil } else {
                var p = profileValue.pretraining ?? RotationPretraining(steps: pretrainSteps)
                p.steps = pretrainSteps
                profileValue.pretraining = p
            }
        }
        if pretrainDense { profileValue.pretraining?.transfersDenseLayers = true }
        if let balanced { profileValue.classBalanced = balanced }
        if let unknownWeight {
            guard unknownWeight >= 1 else { throw ValidationError("--unknown-weight must be at least 1, got \(unknownWeight)") }
            profileValue.unknownWeight = unknownWeight
        }
        for (name, value) in [("--mixup", mixup), ("--final-fit-mixup", finalFitMixup)] {
            if let value, !(value >= 0 && value <= 1) { throw ValidationError("\(name) must be between 0 and 1, got \(value)") }
        }
        if let mixup { profileValue.mixup = mixup }
        if let finalFitMixup { profileValue.finalFitMixup = finalFitMixup }
        if let mixStyle { profileValue.mixStyle = mixStyle }
        if let unknownsByQuery { profileValue.unknownsByQuery = unknownsByQuery }
        if let poolUnknowns { profileValue.poolUnknowns = poolUnknowns }
        if let temperature {
            guard temperature > 0 && temperature.isFinite else { throw ValidationError("--temperature must be positive, got \(temperature)") }
            profileValue.detectorTemperature = temperature
        }
        if let warmStart { profileValue.warmStart = warmStart }
        if let epochsPerRound { profileValue.epochsPerRound = epochsPerRound }
        if let firstRoundEpochs { profileValue.firstRoundEpochs = firstRoundEpochs }
        if let detectorClassifies { profileValue.detectorClassifies = detectorClassifies }
        if let flipScoring = scoring.flipScoring { profileValue.flipScoring = flipScoring }
        if let candidateShifts { profileValue.candidateShifts = candidateShifts }
        if let flipClassification { profileValue.flipAveragedClassification = flipClassification }
        if let classificationShifts { profileValue.classificationShifts = classificationShifts }
        profileValue = profileValue.withMatmulPrecision(matmulPrecision).withTrainingPrecision(trainingPrecision)
        var setting = SimulateSetting(dataset: dataset, known: knownSpec, initialPercent: initPercent, batch: batch,
                                      rounds: rounds, profile: profileValue, temperature: profileValue.detectorTemperature, threshold: threshold)
        setting.score = scoreValue
        if let dumpRankings {
            try FileManager.default.createDirectory(atPath: dumpRankings, withIntermediateDirectories: true)
            setting.rankingDirectory = dumpRankings
        }
        let progress = SimulateProgress(runs: kinds.count * seedList.count, roundsPerRun: rounds + 1, enabled: !quiet)
        var pretrainSeconds = 0.0, pretrainCached = false
        if let pretraining = profileValue.pretraining {
            let train = dataset.train
            let source = ImageBatchSource(channels: train.channels, height: train.height, width: train.width, pixels: train.pixels)
            let t0 = Date()
            let (trunk, cached) = try TrunkCache.trunk(
                source: source, architecture: profileValue.architecture, pretraining: pretraining,
                cacheDirectory: DatasetLoadingOptions.defaultCacheDirectory(ProcessInfo.processInfo.environment),
                progress: { p in progress.pretraining(.init(step: p.step, total: p.totalSteps, loss: p.loss)) })
            pretrainSeconds = Date().timeIntervalSince(t0)
            pretrainCached = cached
            setting.trunk = trunk
        }
        var rows: [SimulateRound] = []
        let outDir = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
        let settings: [String: String] = [
            "source": source, "known": known ?? "mismatch \(mismatch ?? 0.4)", "init_percent": "\(initPercent)",
            "batch": "\(batch)", "rounds": "\(rounds)", "profile": profileValue.name, "architecture": profileValue.architecture.rawValue, "temperature": "\(profileValue.detectorTemperature)", "score": scoreValue.rawValue,
            "steps_per_round": "\(profileValue.minStepsPerRound)-\(profileValue.maxStepsPerRound)",
            "epochs_per_round": "\(profileValue.epochsPerRound)", "first_round_epochs": "\(profileValue.firstRoundEpochs)",
            "threshold": threshold.map { "\($0)" } ?? "top-b", "subset": subset.map(String.init) ?? "all",
            "train_images": "\(dataset.train.count)", "threads": "\(ParallelConfiguration.workers)",
            "pretrain_steps": "\(profileValue.pretraining?.steps ?? 0)", "class_balanced": "\(profileValue.classBalanced)", "unknown_weight": "\(profileValue.unknownWeight)", "mixup": "\(profileValue.mixup)", "final_fit_mixup": "\(profileValue.finalFitMixup)", "mix_style": profileValue.mixStyle.rawValue, "unknowns_by_query": "\(profileValue.unknownsByQuery)", "pool_unknowns": "\(profileValue.poolUnknowns)", "warm_start": "\(profileValue.warmStart)",
            "detector_classifies": "\(profileValue.detectorClassifies)", "rotation_degrees": "\(profileValue.augmentation.maxRotationDegrees)", "cutout": "\(profileValue.augmentation.cutout)", "weight_decay": "\(profileValue.weightDecay)", "final_fit_steps": "\(profileValue.finalFitSteps)", "final_fit_schedule": "\(profileValue.effectiveFinalFitSchedule)",
            "schedule": "\(profileValue.schedule)", "warm_schedule": "\(profileValue.warmSchedule)", "flip_scoring": profileValue.flipScoring.rawValue,
            "candidate_shifts": "\(profileValue.candidateShiftsInUse)",
            "flip_classification": "\(profileValue.flipAveragedClassification)",
            "classification_shifts": "\(profileValue.classificationShiftsInUse)",
            "pretrain_dense": "\(profileValue.pretraining?.transfersDenseLayers ?? false)",
            "matmul_precision": profileValue.matmulPrecision.rawValue, "train_precision": profileValue.trainingPrecision.rawValue,
            "pretrain_seconds": String(format: "%.1f", pretrainSeconds), "pretrain_cached": "\(pretrainCached)",
            "strategies": kinds.map(\.rawValue).joined(separator: ","), "seeds": seedList.map(String.init).joined(separator: ","),
        ]
        for kind in kinds {
            for seed in seedList {
                progress.beginRun("\(kind.rawValue) seed \(seed)")
                do {
                    rows += try SimulateRunner.run(setting, strategy: kind, seed: seed, report: progress.handle)
                } catch let error as DataError {
                    throw ValidationError(error.description)
                }
                // Write after every run so partial results survive an interruption.
                try write(rows, settings: settings, to: outDir)
            }
        }
        progress.finish()
        if let pretraining = profileValue.pretraining {
            print("self-supervised trunk: \(pretraining.steps) rotation steps on \(dataset.train.count) images, "
                  + (pretrainCached ? "loaded from the cache in \(String(format: "%.1f", pretrainSeconds)) s"
                                    : "trained in \(String(format: "%.0f", pretrainSeconds)) s (cached for later runs)"))
        }
        print(SimulateReport.table(rows))
        print("wrote \(out)/results.csv, results.json, precision.svg, recall.svg, accuracy.svg")
    }

    private func write(_ rows: [SimulateRound], settings: [String: String], to dir: URL) throws {
        try SimulateReport.csv(rows).write(to: dir.appendingPathComponent("results.csv"), atomically: true, encoding: .utf8)
        try SimulateReport.json(rows, settings: settings).write(to: dir.appendingPathComponent("results.json"))
        let names = SimulateReport.strategies(rows)
        let charts: [(String, String, String, (SimulateRound) -> Double?, ClosedRange<Double>?)] = [
            ("precision.svg", "Selection precision per query", "precision", { $0.precision }, 0...1),
            ("recall.svg", "Recall after each query (code's definition)", "recall", { $0.recall }, 0...1),
            ("accuracy.svg", "Known-class test accuracy", "accuracy", { $0.accuracy }, nil),
        ]
        for (file, title, label, metric, range) in charts {
            let series = names.map { (name: $0, points: SimulateReport.series(rows, strategy: $0, metric)) }
            try SimulatePlot.svg(title: title, yLabel: label, series: series, yRange: range)
                .write(to: dir.appendingPathComponent(file), atomically: true, encoding: .utf8)
        }
        try SimulateReport.table(rows).write(to: dir.appendingPathComponent("table.txt"), atomically: true, encoding: .utf8)
    }
}
