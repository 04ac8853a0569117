import Testing
@testable import LfosaEngine
import LfosaNumerics

/// The loop end to end on tiny synthetic images: phases, verdict bookkeeping, determinism,
/// snapshot/restore, cancellation, and every strategy.
struct ActiveLearningLoopTests {
    /// 1×8×8 images; class c lights quadrant c (4 classes), plus seeded noise.
    static func syntheticSource(count: Int, seed: UInt64) -> (ImageBatchSource, [Int]) {
        var rng = SplitMix64(seed: seed)
        var pixels: [UInt8] = [], labels: [Int] = []
        for i in 0..<count {
            let c = i % 4
            labels.append(c)
            for y in 0..<8 {
                for x in 0..<8 {
                    let lit = (y / 4) * 2 + (x / 4) == c
                    let v = (lit ? 180 : 40) + Int(rng.nextInt(below: 60))
                    pixels.append(UInt8(min(255, v)))
                }
            }
        }
        return (ImageBatchSource(channels: 1, height: 8, width: 8, pixels: pixels), labels)
    }

    static let tinyProfile = TrainingProfile(
        name: "test", architecture: .referenceCNN, epochsPerRound: 2, firstRoundEpochs: 4, minStepsPerRound: 8,
        maxStepsPerRound: 12, batchSize: 16, schedule: .oneCycle(max: 0.05, warmupFraction: 0.2),
        warmSchedule: .cosine(base: 0.02), momentum: 0.9, weightDecay: 5e-4, augmentation: .none, warmStart: true,
        inferenceBatch: 64, mcDropout: 0.3)

    /// Known classes 0 and 1; 8 labeled items to start.
    static func makeLoop(_ kind: StrategyKind, seed: UInt64 = 5, profile: TrainingProfile = tinyProfile) -> (ActiveLearningLoop, [Int]) {
        let (source, labels) = syntheticSource(count: 160, seed: 11)
        let initial = (0..<160).filter { labels[$0] < 2 }.prefix(8).map { LabeledSets.Item(index: $0, label: labels[$0]) }
        let loop = ActiveLearningLoop(source: source, knownClasses: 2, candidates: Array(0..<160), labeled: initial,
                                      strategy: kind.make(), profile: profile, seed: seed)
        return (loop, labels)
    }

    static func oracle(_ query: [QueryItem], _ labels: [Int]) -> [(index: Int, verdict: Verdict)] {
        query.map { ($0.index, labels[$0.index] < 2 ? .known(labels[$0.index]) : .unknown) }
    }

    @Test func phasesAndBookkeeping() throws {
        let (loop, labels) = Self.makeLoop(.lfosa)
        #expect(loop.phase == .needsTraining)
        #expect(throws: EngineError.self) { try loop.nextQuery(batch: 5) }
        var progressCalls = 0
        let summary = try loop.retrain(progress: { _ in progressCalls += 1 })
        #expect(progressCalls > 0)
        #expect(summary.detectorSamples == 8 && summary.classifierSamples == 8)
        let query = try loop.nextQuery(batch: 10)
        #expect(query.count == 10)
        #expect(Set(query.map(\.index)).count == 10)
        #expect(try loop.nextQuery(batch: 10) == query)      // pending query is returned again
        #expect(throws: EngineError.self) { try loop.retrain() }
        #expect(loop.lastMixtures.count == 2)
        var verdicts = Self.oracle(query, labels)
        verdicts[0].verdict = .skipped
        try loop.record(verdicts)
        let unknowns = verdicts.dropFirst().filter { $0.verdict == .unknown }.map(\.index)
        #expect(loop.round == 1 && loop.phase == .needsTraining)
        #expect(loop.pool.contains(verdicts[0].index))          // skipped stays
        for i in unknowns { #expect(!loop.pool.contains(i) && loop.invalid.contains(i)) }
        #expect(loop.labeled.count + loop.invalid.count + loop.pool.count == 160)
        // a second round trains the detector on D_L ∪ D_I
        let second = try loop.retrain()
        #expect(second.detectorSamples == loop.labeled.count + loop.invalid.count)
        #expect(throws: EngineError.self) { try loop.record([(index: loop.labeled.keys.first!, verdict: .unknown)]) }
    }

    /// `finalFit` trains fresh networks for `finalFitSteps` with the first round's schedule: the
    /// same weights as the first training of a loop rebuilt from the same labeled sets whose step
    /// range is pinned to that count — not a continuation of the warm networks.
    @Test func finalFitTrainsFreshNetworksForItsSteps() throws {
        var profile = Self.tinyProfile
        profile.finalFitSteps = 20
        profile.finalFitSchedule = .oneCycle(max: 0.2, warmupFraction: 0.25)
        let (loop, labels) = Self.makeLoop(.lfosa, profile: profile)
        try loop.retrain()
        try loop.record(Self.oracle(try loop.nextQuery(batch: 12), labels))
        try loop.retrain()
        let warm = try #require(loop.detector)
        try loop.record(Self.oracle(try loop.nextQuery(batch: 12), labels))
        #expect(throws: EngineError.self) {   // cancelled: the previous networks stay
            try loop.finalFit(isCancelled: { true })
        }
        #expect(loop.detector === warm)
        let summary = try loop.finalFit()
        #expect(summary.detectorSteps == 20 && summary.classifierSteps == 20)
        #expect(summary.detectorSamples == loop.labeled.count + loop.invalid.count)
        #expect(loop.phase == .trained)

        // A loop after two queries, each verdict from the labels.
        func afterTwoQueries(_ profile: TrainingProfile) throws -> ActiveLearningLoop {
            let (twice, _) = Self.makeLoop(.lfosa, profile: profile)
            for _ in 0..<2 {
                try twice.retrain()
                try twice.record(Self.oracle(try twice.nextQuery(batch: 12), labels))
            }
            return twice
        }
        // The first training of a loop rebuilt from `trained`'s labeled sets under `profile`.
        func firstTraining(from trained: ActiveLearningLoop, _ profile: TrainingProfile) throws -> ActiveLearningLoop {
            let rebuilt = ActiveLearningLoop(source: trained.source, knownClasses: 2, candidates: Array(0..<160),
                                             restoring: trained.snapshot(), strategy: StrategyKind.lfosa.make(), profile: profile, seed: 5)
            try rebuilt.retrain()
            return rebuilt
        }

        var pinned = Self.tinyProfile
        pinned.minStepsPerRound = 20
        pinned.maxStepsPerRound = 20
        // …with the final fit's schedule, not the first round's
        let plain = try firstTraining(from: loop, pinned)
        #expect(loop.detector!.parameters.map(\.value) != plain.detector!.parameters.map(\.value))
        pinned.schedule = .oneCycle(max: 0.2, warmupFraction: 0.25)
        let rebuilt = try firstTraining(from: loop, pinned)
        #expect(loop.detector!.parameters.map(\.value) == rebuilt.detector!.parameters.map(\.value))
        #expect(loop.classifier!.parameters.map(\.value) == rebuilt.classifier!.parameters.map(\.value))
        // …and not what one more warm round gives
        let warmLoop = try afterTwoQueries(profile)
        try warmLoop.retrain()
        #expect(warmLoop.detector!.parameters.map(\.value) != loop.detector!.parameters.map(\.value))
        // the next query works from the refitted networks
        #expect(try loop.nextQuery(batch: 5).count == 5)

        // the rounds' mixup stays out of the final fit (the same weights as an unmixed first
        // training from the same labeled sets); finalFitMixup mixes the final fit
        func mixedFinalFit(finalFitMixup: Float) throws -> (fit: [[Float]], unmixed: [[Float]]) {
            var mixed = profile
            mixed.mixup = 0.5
            mixed.finalFitMixup = finalFitMixup
            let mixLoop = try afterTwoQueries(mixed)
            try mixLoop.finalFit()
            let unmixed = try firstTraining(from: mixLoop, pinned)
            return (mixLoop.detector!.parameters.map(\.value), unmixed.detector!.parameters.map(\.value))
        }
        let roundsOnly = try mixedFinalFit(finalFitMixup: 0), both = try mixedFinalFit(finalFitMixup: 0.5)
        let roundsOnlyUnmixed = roundsOnly.fit == roundsOnly.unmixed, bothMixed = both.fit != both.unmixed   // Bools: no weight dumps
        #expect(roundsOnlyUnmixed)
        #expect(bothMixed)
    }

    /// A profile whose detector classifies trains no classifier for LfOSA — exactly the "no
    /// classifier" ablation: same queries, same predictions — but keeps it where the detector
    /// cannot classify (dichotomy) or there is none (no-detector, closed-set strategies).
    @Test func detectorClassifiesIsTheNoClassifierAblation() throws {
        var profile = Self.tinyProfile
        profile.detectorClassifies = true
        func run(_ kind: StrategyKind, _ profile: TrainingProfile) throws -> (queries: [[Int]], predicted: [Int], classifier: Bool) {
            let (loop, labels) = Self.makeLoop(kind, profile: profile)
            var queries: [[Int]] = []
            for _ in 0..<2 {
                let summary = try loop.retrain()
                #expect((summary.classifierSteps > 0) == (loop.classifier != nil))
                let q = try loop.nextQuery(batch: 12)
                queries.append(q.map(\.index))
                try loop.record(Self.oracle(q, labels))
            }
            try loop.retrain()
            return (queries, loop.predictKnownClasses(loop.source, indices: Array(0..<40)), loop.classifier != nil)
        }
        let shared = try run(.lfosa, profile), ablation = try run(.lfosaNoClassifier, Self.tinyProfile)
        #expect(!shared.classifier && !ablation.classifier)
        #expect(shared.queries == ablation.queries && shared.predicted == ablation.predicted)
        func trainsClassifier(_ kind: StrategyKind, _ profile: TrainingProfile) throws -> Bool {
            let (loop, _) = Self.makeLoop(kind, profile: profile)
            return try loop.retrain().classifierSteps > 0 && loop.classifier != nil
        }
        #expect(try trainsClassifier(.lfosa, Self.tinyProfile))
        for kind in [StrategyKind.lfosaDichotomy, .lfosaNoDetector, .random] { #expect(try trainsClassifier(kind, profile)) }
        #expect(TrainingProfile.fast.detectorClassifies && !TrainingProfile.paper.detectorClassifies)
    }

    /// `classBalanced` reaches the training: after a query whose verdicts put unknowns into D_I
    /// (three classes of unequal sizes), the balanced loop's second detector differs from the
    /// shuffled one's, and each is reproducible. `fast` draws balanced batches (v14), `paper` does not.
    @Test func classBalancedProfileChangesTheDetectorReproducibly() throws {
        func secondDetector(balanced: Bool, unknownWeight: Int = 1, mixup: Float = 0,
                            mixStyle: MixStyle = .blend, poolUnknowns: Bool = false) throws -> [[Float]] {
            var profile = Self.tinyProfile
            profile.classBalanced = balanced
            profile.unknownWeight = unknownWeight
            profile.mixup = mixup
            profile.mixStyle = mixStyle
            profile.poolUnknowns = poolUnknowns
            let (loop, labels) = Self.makeLoop(.lfosa, profile: profile)
            try loop.retrain()
            try loop.record(Self.oracle(try loop.nextQuery(batch: 100), labels))   // more than the 72 knowns left
            let sizes = [0, 1].map { c in loop.labeled.values.filter { $0 == c }.count } + [loop.invalid.count]
            #expect(sizes[2] > 0 && Set(sizes).count > 1, "\(sizes)")
            let summary = try loop.retrain()
            // the pool's images train the detector as unknowns but do not count as its samples or lengthen its round
            #expect(summary.detectorSamples == loop.labeled.count + loop.invalid.count)
            #expect(summary.detectorSteps == profile.stepsPerRound(labeled: summary.detectorSamples, firstRound: false))
            return loop.detector!.parameters.map(\.value)
        }
        let balanced = try secondDetector(balanced: true), shuffled = try secondDetector(balanced: false)
        let again = try secondDetector(balanced: true)
        let weighted = try secondDetector(balanced: true, unknownWeight: 2)
        let weightedAgain = try secondDetector(balanced: true, unknownWeight: 2)
        let reproducible = balanced == again, differs = balanced != shuffled   // Bools: no weight dumps on failure
        let weightReproducible = weighted == weightedAgain, weightDiffers = weighted != balanced
        // mixup reaches the training too, reproducibly
        let mixed = try secondDetector(balanced: true, mixup: 0.5), mixedAgain = try secondDetector(balanced: true, mixup: 0.5)
        let mixReproducible = mixed == mixedAgain, mixDiffers = mixed != balanced
        #expect(mixReproducible)
        #expect(mixDiffers)
        // and CutMix, which pastes boxes instead of blending
        let cut = try secondDetector(balanced: true, mixup: 0.5, mixStyle: .cutmix)
        let cutAgain = try secondDetector(balanced: true, mixup: 0.5, mixStyle: .cutmix)
        let cutReproducible = cut == cutAgain, cutDiffers = cut != mixed && cut != balanced
        #expect(cutReproducible)
        #expect(cutDiffers)
        #expect(TrainingProfile.paper.mixStyle == .blend)
        // the unlabeled pool as unknowns: a different detector, reproducibly; off in both profiles
        let pooled = try secondDetector(balanced: true, poolUnknowns: true)
        let pooledAgain = try secondDetector(balanced: true, poolUnknowns: true)
        let poolReproducible = pooled == pooledAgain, poolDiffers = pooled != balanced
        #expect(poolReproducible)
        #expect(poolDiffers)
        #expect(!TrainingProfile.fast.poolUnknowns && !TrainingProfile.paper.poolUnknowns)
        // fast (v18) trains its detector at T = 0.25, paper at the paper's 0.5
        #expect(TrainingProfile.fast.detectorTemperature == 0.25 && TrainingProfile.paper.detectorTemperature == 0.5)
        // fast (v17) mixes half of its rounds' batches, not its final fit's; paper none
        #expect(TrainingProfile.fast.mixup == 0.5 && TrainingProfile.fast.finalFitMixup == 0 && TrainingProfile.paper.mixup == 0)
        #expect(reproducible)
        #expect(differs)
        #expect(weightReproducible)
        #expect(weightDiffers)
        #expect(TrainingProfile.fast.classBalanced && !TrainingProfile.paper.classBalanced)
    }

    /// Progress through a round: the detector's half, then the classifier's, when both train.
    @Test func trainingFractionSplitsTheRoundBetweenNetworks() {
        let both = LfOSAStrategy().requirements, one = TrainingProfile.fast.networks(for: LfOSAStrategy().requirements)
        let detector = TrainingProgress(role: .detector, epoch: 1, step: 30, totalSteps: 120, loss: 1)
        var classifier = detector
        classifier.role = .classifier
        #expect(both.fraction(at: detector) == 0.125 && both.fraction(at: classifier) == 0.625)
        #expect(one.fraction(at: detector) == 0.25)
    }

    @Test func sameSeedSameQueries() throws {
        func run(_ seed: UInt64) throws -> [[Int]] {
            let (loop, labels) = Self.makeLoop(.lfosa, seed: seed)
            var queries: [[Int]] = []
            for _ in 0..<2 {
                try loop.retrain()
                let q = try loop.nextQuery(batch: 12)
                queries.append(q.map(\.index))
                try loop.record(Self.oracle(q, labels))
            }
            return queries
        }
        let a = try run(5), b = try run(5)
        #expect(a == b)
    }

    /// `TrainingProfile.withTrainingPrecision` reaches the trunk's settings and every network the
    /// loop trains; a float16-trained run is as reproducible as a float32 one and differs from it
    /// only where the CPU runs float16 (AVX512-FP16).
    @Test func float16TrainingReachesTheNetworksAndRepeats() throws {
        var base = Self.tinyProfile
        base.pretraining = RotationPretraining(steps: 2)
        let half = base.withTrainingPrecision(.float16)
        #expect(half.trainingPrecision == TrainingPrecision.float16.effective)
        #expect(half.pretraining?.trainingPrecision == TrainingPrecision.float16.effective)
        #expect(base.withTrainingPrecision(.float32).pretraining?.trainingPrecision == .float32)
        func run(_ profile: TrainingProfile) throws -> (queries: [Int], network: Network) {
            var plain = profile
            plain.pretraining = nil
            let (loop, _) = Self.makeLoop(.lfosa, profile: plain)
            try loop.retrain()
            return (try loop.nextQuery(batch: 12).map(\.index), loop.detector!)
        }
        let a = try run(half), b = try run(half), single = try run(base)
        #expect(a.queries == b.queries)
        #expect(a.network.parameters.map(\.value) == b.network.parameters.map(\.value))
        #expect(a.network.trunk.compactMap { $0 as? Conv2D }.allSatisfy { $0.trainingPrecision == half.trainingPrecision })
        let differs = a.network.parameters.map(\.value) != single.network.parameters.map(\.value)
        #expect(differs == MatmulPrecision.float16Available)
    }

    @Test func snapshotRebuildsTheSameSets() throws {
        let (loop, labels) = Self.makeLoop(.random)
        try loop.retrain()
        try loop.record(Self.oracle(try loop.nextQuery(batch: 20), labels))
        let snap = loop.snapshot()
        let (source, _) = Self.syntheticSource(count: 160, seed: 11)
        let rebuilt = ActiveLearningLoop(source: source, knownClasses: 2, candidates: Array(0..<160), restoring: snap,
                                         strategy: StrategyKind.random.make(), profile: Self.tinyProfile, seed: 5)
        #expect(rebuilt.pool == loop.pool)
        #expect(rebuilt.labeled == loop.labeled && rebuilt.invalid == loop.invalid && rebuilt.round == 1)
        #expect(rebuilt.snapshot() == snap)
    }

    @Test func cancellationKeepsPreviousNetworks() throws {
        let (loop, labels) = Self.makeLoop(.lfosa)
        try loop.retrain()
        let before = loop.detector!.parameters.map(\.value)
        try loop.record(Self.oracle(try loop.nextQuery(batch: 10), labels))
        var calls = 0
        #expect(throws: EngineError.cancelled) { try loop.retrain(isCancelled: { calls += 1; return calls > 3 }) }
        #expect(loop.detector!.parameters.map(\.value) == before)
        #expect(loop.phase == .needsTraining)
    }

    @Test(arguments: StrategyKind.allCases)
    func everyStrategyRunsEndToEnd(_ kind: StrategyKind) throws {
        let (loop, labels) = Self.makeLoop(kind)
        let (test, testLabels) = Self.syntheticSource(count: 40, seed: 99)
        let knownTest = (0..<40).filter { testLabels[$0] < 2 }
        for _ in 0..<2 {
            try loop.retrain()
            let q = try loop.nextQuery(batch: 15)
            #expect(q.count == 15, "\(kind)")
            #expect(Set(q.map(\.index)).isSubset(of: Set(loop.pool)))
            try loop.record(Self.oracle(q, labels))
        }
        try loop.retrain()
        let predicted = loop.predictKnownClasses(test, indices: knownTest)
        #expect(predicted.count == knownTest.count && predicted.allSatisfy { $0 == 0 || $0 == 1 })
        #expect(loop.pool.count == 160 - 8 - 30)
    }

    @Test func lfosaPrefersKnownSamplesOnSeparableData() throws {
        // Quadrant images are trivially separable: after one round with D_I, LfOSA's second
        // query should be mostly known samples (the pool holds 50 % known).
        let (loop, labels) = Self.makeLoop(.lfosa, profile: {
            var p = Self.tinyProfile; p.minStepsPerRound = 40; p.maxStepsPerRound = 40; return p }())
        try loop.retrain()
        try loop.record(Self.oracle(try loop.nextQuery(batch: 20), labels))
        try loop.retrain()
        let q = try loop.nextQuery(batch: 20)
        let known = q.filter { labels[$0.index] < 2 }.count
        #expect(known >= 16, "known \(known) of 20")
    }

    @Test func mirroredBatchIsTheImageFlippedLeftRight() {
        let (source, _) = Self.syntheticSource(count: 3, seed: 4)
        var rng = SplitMix64(seed: 1)
        let norm = Normalization.centered(channels: 1)
        let plain = makeBatch(from: source, indices: [2, 0], augmentation: .none, normalization: norm, rng: &rng)
        let mirrored = makeBatch(from: source, indices: [2, 0], augmentation: .none, normalization: norm, rng: &rng, mirrored: true)
        #expect(plain.shape == mirrored.shape)
        for b in 0..<2 { for y in 0..<8 { for x in 0..<8 {
            #expect(mirrored.data[b * 64 + y * 8 + x] == plain.data[b * 64 + y * 8 + 7 - x])
        } } }
        #expect(mirrored.data != plain.data)
    }

    @Test func shiftedBatchReadsTheImageOffsetAndPadsWithBlack() {
        let (source, _) = Self.syntheticSource(count: 3, seed: 4)
        var rng = SplitMix64(seed: 1)
        let norm = Normalization.centered(channels: 1)
        let black = norm.pixelEncoding.offset[0]
        let plain = makeBatch(from: source, indices: [2, 0], augmentation: .none, normalization: norm, rng: &rng)
        for (shift, flip) in [(PixelShift(dx: 1, dy: 1), false), (PixelShift(dx: -1, dy: 2), true), (PixelShift(dx: 0, dy: -1), false)] {
            let shifted = makeBatch(from: source, indices: [2, 0], augmentation: .none, normalization: norm, rng: &rng,
                                    mirrored: flip, shift: shift)
            // the shifted image, mirrored when asked: pixel (x, y) of the mirror image is (7 − x, y)
            for b in 0..<2 { for y in 0..<8 { for x in 0..<8 {
                let sx = (flip ? 7 - x : x) + shift.dx, sy = y + shift.dy
                let want = (0..<8).contains(sx) && (0..<8).contains(sy) ? plain.data[b * 64 + sy * 8 + sx] : black
                #expect(shifted.data[b * 64 + y * 8 + x] == want, "shift \(shift) mirrored \(flip) at \(x),\(y)")
            } } }
        }
        #expect(makeBatch(from: source, indices: [2, 0], augmentation: .none, normalization: norm, rng: &rng, shift: .zero).data == plain.data)
    }

    @Test func flipAveragedScoringAveragesBothViews() throws {
        var profile = Self.tinyProfile
        profile.flipScoring = .all
        profile.flipAveragedClassification = true
        let (loop, _) = Self.makeLoop(.lfosa, profile: profile)
        try loop.retrain()
        let net = loop.detector!
        let (source, _) = Self.syntheticSource(count: 160, seed: 11)
        let indices = Array(stride(from: 1, to: 160, by: 7))
        let norm = Normalization.centered(channels: 1)
        let both = PoolInference.run(net, source: source, indices: indices, batch: 5, normalization: norm,
                                     withFeatures: true, flip: .all)
        var rng = SplitMix64(seed: 0)
        let (l0, f0) = net.forwardWithFeatures(makeBatch(from: source, indices: indices, augmentation: .none, normalization: norm, rng: &rng),
                                               mode: .inference)
        let (l1, f1) = net.forwardWithFeatures(makeBatch(from: source, indices: indices, augmentation: .none, normalization: norm, rng: &rng,
                                                         mirrored: true), mode: .inference)
        #expect(both.logits.count == l0.data.count && both.features.count == f0.data.count)
        #expect(both.featureWidth == f0.shape[1])
        for j in l0.data.indices { #expect(abs(both.logits[j] - 0.5 * (l0.data[j] + l1.data[j])) < 1e-4) }
        for j in f0.data.indices { #expect(abs(both.features[j] - 0.5 * (f0.data[j] + f1.data[j])) < 1e-4) }
        #expect(l0.data != l1.data)   // the views differ, so the average is not either one
        // the loop's query and predictions go through the averaged outputs
        let plain = PoolInference.run(net, source: source, indices: loop.pool, batch: 64, normalization: loop.normalization)
        let averaged = PoolInference.run(net, source: source, indices: loop.pool, batch: 64, normalization: loop.normalization,
                                         flip: .all)
        let q = try loop.nextQuery(batch: 10)
        let cols = net.classes
        // LfOSA's default score: the largest logit measured from the unknown output (column K = 2)
        func mav(_ logits: [Float], _ p: Int) -> Float { (0..<cols).map { logits[p * cols + $0] - logits[p * cols + 2] }.max()! }
        let pos = Dictionary(uniqueKeysWithValues: loop.pool.enumerated().map { ($1, $0) })
        #expect(q.map(\.maxActivation) == q.map { mav(averaged.logits, pos[$0.index]!) })
        #expect(q.map(\.maxActivation) != q.map { mav(plain.logits, pos[$0.index]!) })
        // and so do the known-class predictions
        func argmaxKnown(_ logits: [Float], _ row: Int) -> Int { logits[row * cols] >= logits[row * cols + 1] ? 0 : 1 }
        let predicted = loop.predictKnownClasses(source, indices: loop.pool)
        #expect(predicted == loop.pool.indices.map { argmaxKnown(averaged.logits, $0) })
        #expect(TrainingProfile.fast.flipAveragedClassification && TrainingProfile.fast.flipScoring == .candidates)
        #expect(!TrainingProfile.paper.flipAveragedClassification && TrainingProfile.paper.flipScoring == .off)
    }

    @Test func knownFlipScoringAveragesOnlyPredictedKnownRows() throws {
        var profile = Self.tinyProfile
        profile.flipScoring = .known
        let (loop, _) = Self.makeLoop(.lfosa, profile: profile)
        try loop.retrain()
        let net = loop.detector!
        let cols = net.classes   // K = 2 known columns + the unknown column 2
        let norm = loop.normalization
        let pool = loop.pool
        // move the unknown output's bias to the median margin so about half the pool is predicted unknown
        let before = PoolInference.run(net, source: loop.source, indices: pool, batch: 64, normalization: norm)
        let margins = pool.indices.map { r in max(before.logits[r * cols], before.logits[r * cols + 1]) - before.logits[r * cols + 2] }.sorted()
        (net.head as! Linear).bias.value[2] += margins[margins.count / 2]
        // batch 7 does not divide the pool or the refined rows: partial batches on both passes
        let plain = PoolInference.run(net, source: loop.source, indices: pool, batch: 7, normalization: norm, withFeatures: true)
        let all = PoolInference.run(net, source: loop.source, indices: pool, batch: 7, normalization: norm, withFeatures: true, flip: .all)
        let known = PoolInference.run(net, source: loop.source, indices: pool, batch: 7, normalization: norm, withFeatures: true,
                                      flip: .known, unknownColumn: 2)
        func argmax(_ l: [Float], _ r: Int) -> Int { (0..<cols).max { l[r * cols + $0] < l[r * cols + $1] }! }
        let predictedKnown = pool.indices.filter { argmax(plain.logits, $0) != 2 }
        #expect(!predictedKnown.isEmpty && predictedKnown.count < pool.count)   // both kinds of rows exist
        let w = plain.featureWidth
        for r in pool.indices {
            let source = predictedKnown.contains(r) ? all : plain
            for j in 0..<cols { #expect(abs(known.logits[r * cols + j] - source.logits[r * cols + j]) < 1e-4) }
            for j in 0..<w { #expect(abs(known.features[r * w + j] - source.features[r * w + j]) < 1e-4) }
        }
        // no unknown column: every row is averaged, as with .all
        let noColumn = PoolInference.run(net, source: loop.source, indices: pool, batch: 7, normalization: norm, flip: .known)
        for j in noColumn.logits.indices { #expect(abs(noColumn.logits[j] - all.logits[j]) < 1e-4) }
        // the loop's query ranks by these outputs
        let q = try loop.nextQuery(batch: 10)
        let pos = Dictionary(uniqueKeysWithValues: pool.enumerated().map { ($1, $0) })
        func mav(_ l: [Float], _ p: Int) -> Float { (0..<cols).map { l[p * cols + $0] - l[p * cols + 2] }.max()! }
        #expect(zip(q, q.map { mav(known.logits, pos[$0.index]!) }).allSatisfy { abs($0.maxActivation! - $1) < 1e-4 })
        #expect(zip(q, q.map { mav(plain.logits, pos[$0.index]!) }).contains { abs($0.maxActivation! - $1) > 1e-3 })
    }
    /// A ranking of the whole pool (`simulate --dump-rankings`, the demo's groups) asked with the
    /// query's size re-scores only that query's candidates: its top is the query, to the score.
    @Test func aLongerRankingKeepsTheQuerysCandidates() throws {
        var profile = Self.tinyProfile
        profile.flipScoring = .candidates
        func trained() throws -> ActiveLearningLoop {
            let (loop, _) = Self.makeLoop(.lfosa, profile: profile)
            try loop.retrain()
            let net = loop.detector!, cols = net.classes
            let out = PoolInference.run(net, source: loop.source, indices: loop.pool, batch: 64, normalization: loop.normalization)
            let margins = loop.pool.indices.map { r in max(out.logits[r * cols], out.logits[r * cols + 1]) - out.logits[r * cols + 2] }.sorted()
            (net.head as! Linear).bias.value[2] += margins[margins.count / 4]   // most of the pool predicted known
            return loop
        }
        let batch = 5
        let a = try trained(), b = try trained()
        let query = try a.nextQuery(batch: batch)
        let net = b.detector!, cols = net.classes, pool = b.pool
        let plain = PoolInference.run(net, source: b.source, indices: pool, batch: 64, normalization: b.normalization)
        let plainMargin = Dictionary(uniqueKeysWithValues: pool.enumerated().map { r, i in
            (i, max(plain.logits[r * cols], plain.logits[r * cols + 1]) - plain.logits[r * cols + 2])
        })
        let full = try b.nextQuery(batch: Int.max, queryBatch: batch)
        #expect(full.count == pool.count)
        #expect(full.prefix(batch).map(\.index) == query.map(\.index))
        #expect(zip(full.prefix(batch), query).allSatisfy { $0.maxActivation == $1.maxActivation })
        let predictedKnown = full.filter { $0.predictedClass != nil }
        let rescored = predictedKnown.filter { abs($0.maxActivation! - plainMargin[$0.index]!) > 1e-4 }
        #expect(predictedKnown.count > 4 * batch, "enough of the pool predicted known to tell")
        #expect(!rescored.isEmpty && rescored.count <= FlipScoring.candidatesPerQuery * batch,
                "only the query's candidates re-scored, not every predicted-known item")
    }

    /// Under int8 scoring (where the CPU has it) the candidates are re-scored in float16 (or float32).
    @Test(arguments: [MatmulPrecision.float32, .int8Inference])
    func candidatesFlipScoringRescoresOnlyTheTopOfThePlainRanking(precision: MatmulPrecision) throws {
        var profile = Self.tinyProfile
        profile.flipScoring = .candidates
        let (loop, _) = Self.makeLoop(.lfosa, profile: profile)
        try loop.retrain()
        let net = loop.detector!
        net.matmulPrecision = precision
        let cols = net.classes, norm = loop.normalization, pool = loop.pool
        let before = PoolInference.run(net, source: loop.source, indices: pool, batch: 64, normalization: norm)
        let margins = pool.indices.map { r in max(before.logits[r * cols], before.logits[r * cols + 1]) - before.logits[r * cols + 2] }.sorted()
        (net.head as! Linear).bias.value[2] += margins[margins.count / 2]   // both predicted kinds exist
        let plain = PoolInference.run(net, source: loop.source, indices: pool, batch: 64, normalization: norm)
        net.matmulPrecision = precision.refinement
        let all = PoolInference.run(net, source: loop.source, indices: pool, batch: 64, normalization: norm, flip: .all)
        net.matmulPrecision = precision
        func rank(_ l: [Float]) -> MaxActivationRanking {
            MaxActivationRanking(logits: LfOSAStrategy.referencedToUnknown(l, columns: cols, unknownColumn: 2), columns: cols,
                                 knownClasses: 2, unknownColumn: 2, options: .paper)
        }
        let batch = 6
        let first = rank(plain.logits)
        let rows = first.order.prefix(FlipScoring.candidatesPerQuery * batch).filter { first.tier[$0] < 2 }
        let predictedKnown = pool.indices.filter { first.tier[$0] < 2 }
        #expect(rows.count == 2 * batch && rows.count < predictedKnown.count, "fewer rows than .known would re-score")
        var expected = plain.logits
        for r in rows { for j in 0..<cols { expected[r * cols + j] = all.logits[r * cols + j] } }
        let second = rank(expected)
        let q = try loop.nextQuery(batch: batch)
        #expect(q.map(\.index) == second.order.prefix(batch).map { pool[$0] })
        #expect(zip(q, second.order.prefix(batch)).allSatisfy { abs($0.maxActivation! - second.maxActivation[$1]) < 1e-4 })
        // the re-ranking changed something: the mirrored views moved the candidates' scores
        #expect(q.map(\.maxActivation!) != first.order.prefix(batch).map { first.maxActivation[$0] })
        #expect(net.matmulPrecision == precision, "the network's own precision restored")
        #expect(MatmulPrecision.int8Inference.refinement == (MatmulPrecision.float16Available ? .float16Inference : .int8Inference))
        #expect(MatmulPrecision.float32.refinement == .float32 && MatmulPrecision.bfloat16.refinement == .bfloat16)
    }

    /// With `candidateShifts`, the candidates' scores also average one-pixel diagonal shifts of
    /// each image and of its mirror image, scored at the network's own precision: the query is
    /// the ranking of those averages, computed here from separately shifted copies of the images.
    @Test(arguments: [MatmulPrecision.float32, .int8Inference])
    func candidateShiftsAverageShiftedViewsIntoTheCandidatesScores(precision: MatmulPrecision) throws {
        var profile = Self.tinyProfile
        profile.flipScoring = .candidates
        profile.candidateShifts = 2
        let (loop, _) = Self.makeLoop(.lfosa, profile: profile)
        try loop.retrain()
        let net = loop.detector!
        net.matmulPrecision = precision
        let cols = net.classes, norm = loop.normalization, pool = loop.pool, source = loop.source
        let before = PoolInference.run(net, source: source, indices: pool, batch: 64, normalization: norm)
        let margins = pool.indices.map { r in max(before.logits[r * cols], before.logits[r * cols + 1]) - before.logits[r * cols + 2] }.sorted()
        (net.head as! Linear).bias.value[2] += margins[margins.count / 2]
        func rank(_ l: [Float]) -> MaxActivationRanking {
            MaxActivationRanking(logits: LfOSAStrategy.referencedToUnknown(l, columns: cols, unknownColumn: 2), columns: cols,
                                 knownClasses: 2, unknownColumn: 2, options: .paper)
        }
        let batch = 6
        let plain = PoolInference.run(net, source: source, indices: pool, batch: 64, normalization: norm)
        let first = rank(plain.logits)
        let rows = first.order.prefix(FlipScoring.candidatesPerQuery * batch).filter { first.tier[$0] < 2 }.sorted()
        net.matmulPrecision = precision.refinement
        let both = PoolInference.run(net, source: source, indices: rows.map { pool[$0] }, batch: 64, normalization: norm, flip: .all).logits
        net.matmulPrecision = precision
        // the shifted views from copies of the candidates moved by hand, black outside
        var viewSums = both
        for shift in FlipScoring.candidateShiftViews.prefix(2) {
            let moved = Self.shiftedCopies(of: source, indices: rows.map { pool[$0] }, shift: shift)
            let views = PoolInference.run(net, source: moved, indices: Array(rows.indices), batch: 64, normalization: norm, flip: .all).logits
            for i in viewSums.indices { viewSums[i] += views[i] }
        }
        var expected = plain.logits
        for (i, r) in rows.enumerated() { for j in 0..<cols { expected[r * cols + j] = viewSums[i * cols + j] / 3 } }
        let second = rank(expected)
        // the whole ranking asked with the query's size: its top is the query
        let full = try loop.nextQuery(batch: Int.max, queryBatch: batch)
        #expect(full.prefix(batch).map(\.index) == second.order.prefix(batch).map { pool[$0] })
        #expect(zip(full, second.order).allSatisfy { abs($0.maxActivation! - second.maxActivation[$1]) < 1e-4 })
        // the shifted views moved the candidates' scores off what the mirrored pair alone gives
        func margin(_ l: [Float], _ r: Int) -> Float { max(l[r * cols], l[r * cols + 1]) - l[r * cols + 2] }
        var pairOnly = plain.logits
        for (i, r) in rows.enumerated() { for j in 0..<cols { pairOnly[r * cols + j] = both[i * cols + j] } }
        let score = Dictionary(uniqueKeysWithValues: full.map { ($0.index, $0.maxActivation!) })
        #expect(rows.allSatisfy { abs(score[pool[$0]]! - margin(expected, $0)) < 1e-4 })
        #expect(rows.filter { abs(score[pool[$0]]! - margin(pairOnly, $0)) > 1e-3 }.count > rows.count / 2)
        #expect(net.matmulPrecision == precision, "the network's own precision restored")
        #expect(TrainingProfile.fast.candidateShifts == 2 && TrainingProfile.paper.candidateShifts == 0)
    }

    /// With `classificationShifts`, the known-class predictions average the plain and mirrored
    /// views with both views of one-pixel diagonal shifts of each image, computed here from
    /// separately shifted copies of the images; without flip classification no shift is used.
    @Test func classificationShiftsAverageShiftedViewsIntoThePredictions() throws {
        var profile = Self.tinyProfile
        profile.flipAveragedClassification = true
        profile.classificationShifts = 2
        let (loop, _) = Self.makeLoop(.lfosa, profile: profile)
        try loop.retrain()
        let net = loop.classifyingNetwork!
        let cols = net.classes, norm = loop.normalization, source = loop.source
        let indices = Array(loop.pool.prefix(40))
        let pair = PoolInference.run(net, source: source, indices: indices, batch: 64, normalization: norm, flip: .all).logits
        var sums = pair
        for shift in FlipScoring.candidateShiftViews.prefix(2) {
            let moved = Self.shiftedCopies(of: source, indices: indices, shift: shift)
            let views = PoolInference.run(net, source: moved, indices: Array(indices.indices), batch: 64, normalization: norm, flip: .all).logits
            for i in sums.indices { sums[i] += views[i] }
        }
        let expected = sums.map { $0 / 3 }
        let logits = loop.classificationLogits(net, images: source, indices: indices)
        #expect(zip(logits, expected).allSatisfy { abs($0 - $1) < 1e-4 })
        #expect(zip(logits, pair).filter { abs($0 - $1) > 1e-3 }.count > logits.count / 2, "the shifted views moved the logits")
        func argmaxKnown(_ l: [Float], _ row: Int) -> Int { l[row * cols] >= l[row * cols + 1] ? 0 : 1 }
        #expect(loop.predictKnownClasses(source, indices: indices) == indices.indices.map { argmaxKnown(expected, $0) })
        // the shifts ride on flip classification: without it, the plain view alone
        var unflipped = profile
        unflipped.flipAveragedClassification = false
        #expect(unflipped.classificationShiftsInUse == 0)
        let (plainLoop, _) = Self.makeLoop(.lfosa, profile: unflipped)
        let plain = PoolInference.run(net, source: source, indices: indices, batch: 64, normalization: norm).logits
        #expect(plainLoop.classificationLogits(net, images: source, indices: indices) == plain)
        #expect(TrainingProfile.fast.classificationShifts == 2 && TrainingProfile.paper.classificationShifts == 0)
    }

    /// Images `indices` of `source` moved by hand by `shift` (the pixel at (x, y) is the source's
    /// at (x + dx, y + dy), black outside): what `makeBatch(shift:)` should read.
    static func shiftedCopies(of source: ImageBatchSource, indices: [Int], shift: PixelShift) -> ImageBatchSource {
        let h = source.height, w = source.width, size = source.channels * h * w
        var pixels = [UInt8](repeating: 0, count: indices.count * size)
        for (i, index) in indices.enumerated() {
            for c in 0..<source.channels { for y in 0..<h { for x in 0..<w {
                let sx = x + shift.dx, sy = y + shift.dy
                guard (0..<w).contains(sx) && (0..<h).contains(sy) else { continue }
                pixels[i * size + (c * h + y) * w + x] = source.pixels[index * size + (c * h + sy) * w + sx]
            } } }
        }
        return ImageBatchSource(channels: source.channels, height: h, width: w, pixels: pixels)
    }
}
