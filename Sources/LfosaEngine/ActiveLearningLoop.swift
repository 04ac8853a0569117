import LfosaNumerics

/// What the loop expects next.
public enum LoopPhase: String, Sendable, Equatable {
    /// The labeled sets changed (or nothing is trained yet): call `retrain`.
    case needsTraining
    /// Networks match the labeled sets: call `nextQuery`.
    case trained
    /// A query is out: call `record` with the annotator's verdicts.
    case awaitingVerdicts
}

/// What one `retrain` did.
public struct TrainingSummary: Sendable, Equatable {
    public var detectorSteps: Int
    public var detectorLoss: Float?
    public var classifierSteps: Int
    public var classifierLoss: Float?
    public var detectorSamples: Int
    public var classifierSamples: Int
}

/// The open-set active learning loop as a state machine, shared by `simulate` and the
/// terminal front end.
///
/// Cycle: `retrain` (detector on D_L ∪ D_I, classifier on D_L, as the strategy requires) →
/// `nextQuery(batch:)` → `record(_:)` → `retrain` … Queried samples leave the unlabeled pool
/// whether known or unknown; skipped ones stay. Pure: no clock, files or terminal; every random
/// choice comes from generators derived from `seed` and the round, so the same inputs give
/// the same queries. A loop can be rebuilt from `snapshot()` (the label store keeps the
/// verdicts; pass them back as `LabeledSets`).
public final class ActiveLearningLoop {
    public let source: ImageBatchSource
    /// K: the known classes are 0..<K.
    public let knownClasses: Int
    public let strategy: any QueryStrategy
    public let profile: TrainingProfile
    public let seed: UInt64
    public let normalization: Normalization

    /// Unlabeled pool indices, ascending.
    public private(set) var pool: [Int]
    /// D_L: index → known class.
    public private(set) var labeled: [Int: Int]
    /// D_I: queried samples answered "unknown".
    public private(set) var invalid: Set<Int>
    /// The query (round) each sample of D_I was recorded in; unknowns given at construction are
    /// absent (they count as one group of their own in `TrainingProfile.unknownsByQuery`).
    public private(set) var invalidQuery: [Int: Int] = [:]
    /// Queries recorded so far.
    public private(set) var round: Int
    public private(set) var phase: LoopPhase = .needsTraining
    /// The query awaiting verdicts (empty otherwise).
    public private(set) var pendingQuery: [QueryItem] = []
    /// Per-class MAVs and mixtures of the last LfOSA scoring (for the histogram screen).
    public private(set) var lastMixtures: [ClassMixture] = []

    public private(set) var detector: Network?
    public private(set) var classifier: Network?
    /// A self-supervised trunk (`RotationPretraining`) that seeds every network the loop
    /// initialises instead of random weights; set it before the first `retrain`.
    public var pretrainedTrunk: PretrainedTrunk?
    private var trainedRounds = 0

    /// A loop over `candidates` (indices of `source`), with `labeled` (index, class) pairs and
    /// `invalid` indices already known; every other candidate is unlabeled.
    public init(source: ImageBatchSource, knownClasses: Int, candidates: [Int], labeled: [LabeledSets.Item],
                invalid: [Int] = [], round: Int = 0, strategy: any QueryStrategy, profile: TrainingProfile, seed: UInt64) {
        precondition(knownClasses >= 1)
        self.source = source
        self.knownClasses = knownClasses
        self.strategy = strategy
        self.profile = profile
        self.seed = seed
        self.normalization = .centered(channels: source.channels)
        var l: [Int: Int] = [:]
        for item in labeled {
            precondition(item.label >= 0 && item.label < knownClasses, "label \(item.label) outside 0..<\(knownClasses)")
            l[item.index] = item.label
        }
        self.labeled = l
        self.invalid = Set(invalid)
        self.round = round
        let taken = Set(l.keys).union(invalid)
        self.pool = Array(Set(candidates).subtracting(taken)).sorted()
    }

    /// Rebuilds a loop from a snapshot of its labeled sets.
    public convenience init(source: ImageBatchSource, knownClasses: Int, candidates: [Int], restoring sets: LabeledSets,
                            strategy: any QueryStrategy, profile: TrainingProfile, seed: UInt64) {
        self.init(source: source, knownClasses: knownClasses, candidates: candidates, labeled: sets.labeled,
                  invalid: sets.invalid, round: sets.round, strategy: strategy, profile: profile, seed: seed)
    }

    /// The labeled sets (D_L, D_I, round) for persisting or rebuilding.
    public func snapshot() -> LabeledSets {
        LabeledSets(labeled: labeled.map { LabeledSets.Item(index: $0.key, label: $0.value) }, invalid: Array(invalid), round: round)
    }

    /// D_L as (index, class), ascending by index.
    public var labeledItems: [(index: Int, label: Int)] { labeled.keys.sorted().map { ($0, labeled[$0]!) } }

    /// Trains the networks the strategy needs on the current labeled sets.
    ///
    /// Warm-starting profiles continue from the previous weights; others re-initialise. On
    /// cancellation (`isCancelled` returns true, checked every step) it throws
    /// `EngineError.cancelled` and the previous networks stay in place.
    @discardableResult
    public func retrain(progress: (TrainingProgress) -> Void = { _ in },
                        isCancelled: () -> Bool = { false }) throws -> TrainingSummary {
        try train(fresh: false, steps: nil, schedule: nil, mixup: profile.mixup, progress: progress, isCancelled: isCancelled)
    }

    /// The final fit, for when the querying is over: the networks are initialised afresh (from
    /// `pretrainedTrunk` when set, as in round 0) and trained `profile.finalFitSteps` steps (the
    /// first round's steps when 0) with `profile.finalFitSchedule` (the first round's schedule
    /// when nil) on all the labeled sets, in
    /// place of one more warm-started `retrain`. Warm starts make each round cheap, but ten
    /// rounds of short warm training end below one longer training of the final labeled sets
    /// (assets/simulate/README.md, "final fit"). Same contract as `retrain` (cancellation keeps
    /// the previous networks); later rounds warm-start from the refitted networks.
    @discardableResult
    public func finalFit(progress: (TrainingProgress) -> Void = { _ in },
                         isCancelled: () -> Bool = { false }) throws -> TrainingSummary {
        try train(fresh: true, steps: profile.finalFitSteps > 0 ? profile.finalFitSteps : nil,
                  schedule: profile.effectiveFinalFitSchedule, mixup: profile.finalFitMixup, progress: progress,
                  isCancelled: isCancelled)
    }

    private func train(fresh: Bool, steps: Int?, schedule: LearningRateSchedule?, mixup: Float, progress: (TrainingProgress) -> Void,
                       isCancelled: () -> Bool) throws -> TrainingSummary {
        guard phase != .awaitingVerdicts else { throw EngineError.wrongPhase("record the pending query's verdicts before retraining") }
        let req = profile.networks(for: strategy.requirements)
        let items = labeledItems
        guard !items.isEmpty else { throw EngineError.wrongPhase("no labeled samples to train on") }
        let first = fresh || trainedRounds == 0
        var summary = TrainingSummary(detectorSteps: 0, detectorLoss: nil, classifierSteps: 0, classifierLoss: nil,
                                      detectorSamples: 0, classifierSamples: 0)
        var newDetector: Network? = nil, newClassifier: Network? = nil
        if let design = req.detector {
            var samples = items.map(\.index), labels = items.map(\.label)
            let invalidSorted = invalid.sorted()
            let outputs: Int, t: Float, unknownLabel: Int
            switch design {
            case .openSet(let temperature, let usesInvalid):
                outputs = knownClasses + 1; t = temperature; unknownLabel = knownClasses
                if usesInvalid { samples += invalidSorted; labels += invalidSorted.map { _ in knownClasses } }
            case .dichotomy(let temperature):
                outputs = 2; t = temperature; unknownLabel = 1
                labels = labels.map { _ in 0 }
                samples += invalidSorted; labels += invalidSorted.map { _ in 1 }
            }
            let net = makeNetwork(previous: fresh ? nil : detector, classes: outputs, dropout: 0, purpose: 1)
            var rng = derivedGenerator(purpose: 2)
            let labeledCount = samples.count
            var groups: [Int]? = nil
            if profile.unknownsByQuery {
                groups = zip(samples, labels).map { $1 == unknownLabel ? (invalidQuery[$0] ?? -1) : -1 }
            }
            if profile.poolUnknowns && profile.classBalanced && !pool.isEmpty {
                // the unlabeled pool as noisy unknowns: one group of the unknown class, D_I the other
                groups = groups ?? [Int](repeating: 0, count: samples.count)
                samples += pool; labels += pool.map { _ in unknownLabel }; groups! += pool.map { _ in Int.max }
            }
            var run = trainingRun(samples: samples, labels: labels, temperature: t, first: first,
                                  steps: steps ?? profile.stepsPerRound(labeled: labeledCount, firstRound: first), schedule: schedule,
                                  unknownLabel: unknownLabel, mixup: mixup)
            run.unknownGroups = groups
            summary.detectorLoss = try run.run(net, role: .detector, rng: &rng, progress: progress, isCancelled: isCancelled)
            summary.detectorSteps = run.steps
            summary.detectorSamples = labeledCount
            newDetector = net
        }
        if req.classifier {
            let net = makeNetwork(previous: fresh ? nil : classifier, classes: knownClasses, dropout: req.classifierDropout, purpose: 3)
            var rng = derivedGenerator(purpose: 4)
            let run = trainingRun(samples: items.map(\.index), labels: items.map(\.label), temperature: 1, first: first, steps: steps,
                                  schedule: schedule, mixup: mixup)
            summary.classifierLoss = try run.run(net, role: .classifier, rng: &rng, progress: progress, isCancelled: isCancelled)
            summary.classifierSteps = run.steps
            summary.classifierSamples = items.count
            newClassifier = net
        }
        detector = newDetector
        classifier = newClassifier
        trainedRounds += 1
        phase = .trained
        return summary
    }

    /// Drops the trained networks: the next `retrain` initialises them afresh (from
    /// `pretrainedTrunk` when set) with the first round's schedule. The labeled sets stay.
    /// Not while a query is pending.
    public func resetNetworks() throws {
        guard phase != .awaitingVerdicts else { throw EngineError.wrongPhase("record the pending query's verdicts before resetting") }
        detector = nil
        classifier = nil
        trainedRounds = 0
        phase = .needsTraining
    }

    /// The next query of up to `batch` samples, best first.
    ///
    /// `queryBatch` (at most `batch`) says how many of them are the query when the caller asks
    /// for a longer ranking — the whole pool for `simulate --dump-rankings` or the demo's
    /// group screens: the strategy selects as for a query of `queryBatch` (LfOSA's
    /// `FlipScoring.candidates` re-scores 2·`queryBatch` candidates, not the whole pool), so the
    /// ranking's first `queryBatch` items are exactly what `nextQuery(batch: queryBatch)` returns.
    /// In `.awaitingVerdicts` it returns the pending query again. Requires trained networks.
    public func nextQuery(batch: Int, queryBatch: Int? = nil) throws -> [QueryItem] {
        if phase == .awaitingVerdicts { return pendingQuery }
        guard phase == .trained else { throw EngineError.wrongPhase("retrain before asking for a query") }
        let context = SelectionContext(source: source, pool: pool, queried: (Array(labeled.keys) + Array(invalid)).sorted(),
                                       labeled: labeledItems, knownClasses: knownClasses, detector: detector,
                                       classifier: classifier, normalization: normalization,
                                       inferenceBatch: profile.inferenceBatch, flipScoring: profile.flipScoring,
                                       queryBatch: queryBatch, candidateShifts: profile.candidateShifts)
        var rng = derivedGenerator(purpose: 5)
        let selection = strategy.select(context, batch: min(batch, pool.count), rng: &rng)
        lastMixtures = selection.mixtures
        pendingQuery = selection.items
        phase = .awaitingVerdicts
        return pendingQuery
    }

    /// Records verdicts: `.known(c)` moves a sample to D_L, `.unknown` to D_I, `.skipped`
    /// leaves it in the pool. Indices must be in the unlabeled pool (any pool index is
    /// accepted, so a loop can be replayed from stored verdicts). Completes the round.
    public func record(_ verdicts: [(index: Int, verdict: Verdict)]) throws {
        let poolSet = Set(pool)
        var seen = Set<Int>()
        for (i, v) in verdicts {
            guard poolSet.contains(i), seen.insert(i).inserted else {
                throw EngineError.invalidVerdict("index \(i) is not in the unlabeled pool or is repeated")
            }
            if case .known(let c) = v, !(0..<knownClasses).contains(c) {
                throw EngineError.invalidVerdict("class \(c) outside 0..<\(knownClasses)")
            }
        }
        var removed = Set<Int>()
        for (i, v) in verdicts {
            switch v {
            case .known(let c): labeled[i] = c; removed.insert(i)
            case .unknown: invalid.insert(i); invalidQuery[i] = round; removed.insert(i)
            case .skipped: break
            }
        }
        pool.removeAll { removed.contains($0) }
        pendingQuery = []
        round += 1
        phase = .needsTraining
    }

    /// Known-class predictions (0..<K) for `indices` of `images` (same image shape as the
    /// pool): the classifier's argmax, or the detector's argmax over its first K logits when
    /// the strategy trains no classifier — of each image's logits averaged with its mirror
    /// image's under `profile.flipAveragedClassification`, and with those of
    /// `profile.classificationShifts` one-pixel shifts of both (every view weighing the same).
    /// Requires trained networks.
    public func predictKnownClasses(_ images: ImageBatchSource, indices: [Int]) -> [Int] {
        guard let net = classifyingNetwork else { preconditionFailure("no trained network classifies known classes") }
        let logits = classificationLogits(net, images: images, indices: indices)
        let c = net.classes
        return (0..<indices.count).map { row in
            var best = 0
            for j in 1..<knownClasses where logits[row * c + j] > logits[row * c + best] { best = j }
            return best
        }
    }

    /// `net`'s logits (`[indices.count × classes]`) that `predictKnownClasses` decides by: the
    /// plain view's, averaged with the mirror image's and with both views of each of the
    /// profile's classification shifts.
    func classificationLogits(_ net: Network, images: ImageBatchSource, indices: [Int]) -> [Float] {
        let logits = PoolInference.run(net, source: images, indices: indices, batch: profile.inferenceBatch,
                                       normalization: normalization, flip: profile.flipAveragedClassification ? .all : .off).logits
        return PoolInference.averageShiftedViews(net, source: images, indices: indices, batch: profile.inferenceBatch,
                                                 normalization: normalization,
                                                 shifts: FlipScoring.candidateShiftViews.prefix(max(0, profile.classificationShiftsInUse)),
                                                 pairs: logits)
    }

    /// The trained network whose first K outputs classify the known classes: the classifier, or
    /// the (K+1)-way detector when the strategy or profile trains no classifier (nil before training).
    public var classifyingNetwork: Network? {
        if let c = classifier { return c }
        if let d = detector, d.classes > knownClasses { return d }
        return nil
    }

    // MARK: - Internals

    private func derivedGenerator(purpose: UInt64) -> SplitMix64 {
        var mix = SplitMix64(seed: seed ^ (UInt64(round) &* 0x9E37_79B9_7F4A_7C15) ^ (purpose &* 0xD1B5_4A32_D192_ED03))
        return SplitMix64(seed: mix.next())
    }

    private func makeNetwork(previous: Network?, classes: Int, dropout: Float, purpose: UInt64) -> Network {
        var g = derivedGenerator(purpose: purpose)
        let net = Network.make(profile.architecture, inputShape: source.imageShape, classes: classes, dropout: dropout, seed: g.next())
        net.matmulPrecision = profile.matmulPrecision
        net.trainingPrecision = profile.trainingPrecision
        net.pixelEncoding = normalization.pixelEncoding
        if profile.warmStart, let previous, previous.classes == classes {
            net.copyWeights(from: previous)
        } else if let trunk = pretrainedTrunk {
            net.copyTrunkWeights(from: trunk.network, layers: trunk.pretraining.transferredLayers(of: net))
        }
        return net
    }

    private func trainingRun(samples: [Int], labels: [Int], temperature: Float, first: Bool, steps: Int? = nil,
                             schedule: LearningRateSchedule? = nil, unknownLabel: Int? = nil, mixup: Float = 0) -> TrainingRun {
        let warm = profile.warmStart && !first
        return TrainingRun(source: source, samples: samples, labels: labels,
                           temperatures: [Float](repeating: temperature, count: samples.count),
                           steps: steps ?? profile.stepsPerRound(labeled: samples.count, firstRound: first),
                           batchSize: profile.batchSize, schedule: schedule ?? (warm ? profile.warmSchedule : profile.schedule),
                           momentum: profile.momentum, weightDecay: profile.weightDecay,
                           augmentation: profile.augmentation, normalization: normalization,
                           classBalanced: profile.classBalanced, unknownLabel: unknownLabel,
                           unknownWeight: profile.unknownWeight, mixup: mixup, mixStyle: profile.mixStyle)
    }
}
