import LfosaNumerics

/// How the engine trains its networks each round.
///
/// `stepsPerRound(labeled:)` turns `epochsPerRound` into optimiser steps and clamps it to
/// `minStepsPerRound...maxStepsPerRound` (0 = no bound), so a round's cost stays bounded while
/// the labeled set grows. With `warmStart` the networks keep their weights from the previous
/// round (round 0 always starts from a seeded initialisation); otherwise both are
/// re-initialised every round, as the paper's code does.
public struct TrainingProfile: Sendable, Equatable {
    public var name: String
    public var architecture: Architecture
    public var epochsPerRound: Int
    /// Epochs of the very first round (round 0 trains from scratch even with warm starts).
    public var firstRoundEpochs: Int
    public var minStepsPerRound: Int
    public var maxStepsPerRound: Int
    public var batchSize: Int
    public var schedule: LearningRateSchedule
    /// Schedule of rounds after the first when warm-starting.
    public var warmSchedule: LearningRateSchedule
    public var momentum: Float
    public var weightDecay: Float
    public var augmentation: Augmentation
    public var warmStart: Bool
    /// Inference batch size.
    public var inferenceBatch: Int
    /// Dropout rate of the classifier when a strategy needs MC dropout (BALD).
    public var mcDropout: Float
    /// Self-supervised pretraining of a trunk on the pool that seeds both networks (nil: none).
    public var pretraining: RotationPretraining?
    /// Class-balanced batches for both networks (`BalancedSampler`) instead of plain shuffling.
    public var classBalanced: Bool
    /// Under `classBalanced`, the detector's unknown class (the queried unknowns) fills this
    /// many known classes' shares of every batch (1: one share, like each known class; 2 at
    /// K = 2: half of every batch). At least 1.
    public var unknownWeight: Int = 1
    /// Under `classBalanced`, the unknown class's share of every batch is split evenly between
    /// the queries its samples came from (the unknowns given at the start count as one more), so
    /// the latest query's few unknowns — the detector's latest mistakes — are drawn as often as
    /// the first query's many. false: every unknown drawn alike.
    public var unknownsByQuery: Bool = false
    /// Under `classBalanced`, the detector's unknown class also draws from the unlabeled pool,
    /// labeled unknown (most of it is; the knowns left in it are label noise): the pool fills
    /// as much of the unknown class's share as D_I does. A discriminator of the labeled knowns
    /// against the pool's distribution, as in positive–unlabeled learning.
    public var poolUnknowns: Bool = false
    /// The detector's temperature T for the LfOSA strategies that do not fix it (`StrategyKind.make`):
    /// the paper's 0.5 unless a profile measured better.
    public var detectorTemperature: Float = 0.5
    /// Probability that a training batch of the detector or classifier is mixed in a round's
    /// training (mixup: each image blended with another of the batch, the loss blended alike;
    /// `TrainingRun.mixup`). 0: off. Not applied to the trunk's pretraining.
    public var mixup: Float = 0
    /// The same for `ActiveLearningLoop.finalFit`.
    public var finalFitMixup: Float = 0
    /// How a mixed batch (`mixup`, `finalFitMixup`) is mixed: blended (mixup) or a pasted box (CutMix).
    public var mixStyle: MixStyle = .blend
    /// Whether the (K+1)-way detector also classifies (its first K logits) instead of a separate
    /// K-way classifier being trained, for strategies whose detector is (K+1)-way — the paper's
    /// "no classifier" ablation as a profile setting (`networks(for:)`).
    public var detectorClassifies: Bool
    /// Which pool images a selection also scores left–right mirrored, averaging the two views'
    /// outputs (test-time flip averaging): `.all` doubles a selection's inference, `.known` adds
    /// the images the network predicts as known classes.
    public var flipScoring: FlipScoring = .off
    /// Under `FlipScoring.candidates`, how many one-pixel diagonal shifts (0…4, of
    /// `FlipScoring.candidateShiftViews`) also score the query's candidates, each on the plain
    /// and the mirrored image, every view weighing the same in their average. Scored at the
    /// scoring precision: 2 adds 4 views of about 2b images, ~0.3 s on two cores at int8.
    public var candidateShifts: Int = 0
    /// The shifts a selection actually scores: `candidateShifts` under `.candidates`, else 0.
    public var candidateShiftsInUse: Int { flipScoring == .candidates ? candidateShifts : 0 }
    /// The same for `ActiveLearningLoop.predictKnownClasses` (the known-class predictions
    /// whose accuracy `simulate` reports): twice the inference of the evaluated images only.
    public var flipAveragedClassification: Bool = false
    /// Under `flipAveragedClassification`, how many one-pixel diagonal shifts (0…4, of
    /// `FlipScoring.candidateShiftViews`) also classify each image, on the plain and the mirrored
    /// image, all views' logits averaged: 2 triples the inference of the evaluated images.
    public var classificationShifts: Int = 0
    /// The shifts the known-class predictions actually average: `classificationShifts` under
    /// `flipAveragedClassification`, else 0.
    public var classificationShiftsInUse: Int { flipAveragedClassification ? classificationShifts : 0 }
    /// Precision of the networks' matrix products (training and scoring); see `MatmulPrecision`.
    public var matmulPrecision: MatmulPrecision = .float32
    /// Precision of training's convolution products where `matmulPrecision` trains in float32
    /// (see `TrainingPrecision`).
    public var trainingPrecision: TrainingPrecision = .float32
    /// Optimiser steps of `ActiveLearningLoop.finalFit`: after the last query the networks are
    /// initialised afresh (from the pretrained trunk when there is one) and trained this long on
    /// everything labeled, with `finalFitSchedule` — instead of one more warm round
    /// (0: no final fit; the last round warm-starts like the others).
    public var finalFitSteps: Int = 0
    /// The final fit's learning-rate schedule (nil: the first round's, `schedule`).
    public var finalFitSchedule: LearningRateSchedule? = nil
    /// The schedule `ActiveLearningLoop.finalFit` trains with: `finalFitSchedule`, or `schedule` when nil.
    public var effectiveFinalFitSchedule: LearningRateSchedule { finalFitSchedule ?? schedule }

    public init(name: String, architecture: Architecture, epochsPerRound: Int, firstRoundEpochs: Int,
                minStepsPerRound: Int, maxStepsPerRound: Int, batchSize: Int, schedule: LearningRateSchedule,
                warmSchedule: LearningRateSchedule, momentum: Float, weightDecay: Float, augmentation: Augmentation,
                warmStart: Bool, inferenceBatch: Int = 256, mcDropout: Float = 0.3,
                pretraining: RotationPretraining? = nil, classBalanced: Bool = false, detectorClassifies: Bool = false) {
        self.name = name
        self.architecture = architecture
        self.epochsPerRound = epochsPerRound
        self.firstRoundEpochs = firstRoundEpochs
        self.minStepsPerRound = minStepsPerRound
        self.maxStepsPerRound = maxStepsPerRound
        self.batchSize = batchSize
        self.schedule = schedule
        self.warmSchedule = warmSchedule
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.augmentation = augmentation
        self.warmStart = warmStart
        self.inferenceBatch = inferenceBatch
        self.mcDropout = mcDropout
        self.pretraining = pretraining
        self.classBalanced = classBalanced
        self.detectorClassifies = detectorClassifies
    }

    /// The networks a round trains for a strategy's `requirements` under this profile: with
    /// `detectorClassifies`, no separate classifier where the detector is (K+1)-way.
    public func networks(for requirements: NetworkRequirements) -> NetworkRequirements {
        var r = requirements
        if detectorClassifies, case .openSet = r.detector { r.classifier = false }
        return r
    }

    /// The paper's code: CIFAR ResNet-18, SGD lr 0.01 (momentum 0.9, wd 5e-4), StepLR(20, 0.5),
    /// 100 epochs, batch 128, crop+flip+rotation, both networks re-initialised every round.
    public static let paper = TrainingProfile(
        name: "paper", architecture: .resnet18, epochsPerRound: 100, firstRoundEpochs: 100,
        minStepsPerRound: 0, maxStepsPerRound: 0, batchSize: 128,
        schedule: .step(base: 0.01, every: 20, gamma: 0.5), warmSchedule: .step(base: 0.01, every: 20, gamma: 0.5),
        momentum: 0.9, weightDecay: 5e-4, augmentation: .paper, warmStart: false)

    /// CPU profile (v5): the reference CNN whose convolutions start from a self-supervised trunk
    /// (6,000 steps of rotation prediction on the pool, done once per pool and cached), warm
    /// starts across rounds, one network — the detector, whose first K logits also classify —
    /// trained 1,000–2,000 steps per round (round 0: 60 epochs, one-cycle max 0.05; later
    /// rounds: 4 epochs, one-cycle max 0.03 — 0.05 measured no better over three seeds), crop+flip augmentation without rotation; its
    /// known-class predictions average each image with its mirror image (v6), and so do the
    /// pool scores of the query's top 2b candidates (v8, `FlipScoring.candidates`; v7 averaged
    /// every predicted-known image, `FlipScoring.known`); after the last query, a final fit of
    /// 4,000 steps from the trunk instead of one more warm round (v9, `finalFitSteps`), at a
    /// one-cycle maximum learning rate of 0.1 (v10, `finalFitSchedule`); class-balanced batches
    /// (v14, `classBalanced`: the unknown class — the queried unknowns — gets a known class's
    /// share of every batch, however few of them have been queried); the candidates' scores
    /// also average two one-pixel diagonal shifts of each image and of its mirror image (v15,
    /// `candidateShifts`); half of every round's training batches mixed, the final fit's not
    /// (v17, `mixup`; mixup in the final fit measured 0.5 points lower); the detector's
    /// temperature 0.25 instead of the paper's 0.5 (v18, `detectorTemperature`: K = 2's query 3
    /// .937 → .949 on seeds 1–2, .931 → .943 on seeds 1–4; K = 4 precision 0.868 → 0.862).
    /// See assets/simulate/README.md "Training profiles".
    public static let fast: TrainingProfile = {
        var p = TrainingProfile(
            name: "fast", architecture: .referenceCNN, epochsPerRound: 4, firstRoundEpochs: 60,
            minStepsPerRound: 1000, maxStepsPerRound: 2000, batchSize: 128,
            schedule: .oneCycle(max: 0.05, warmupFraction: 0.25), warmSchedule: .oneCycle(max: 0.03, warmupFraction: 0.15),
            momentum: 0.9, weightDecay: 5e-4, augmentation: .cropFlip, warmStart: true,
            inferenceBatch: 256, pretraining: RotationPretraining(steps: 6000), classBalanced: true, detectorClassifies: true)
        p.flipAveragedClassification = true
        p.flipScoring = .candidates
        p.candidateShifts = 2
        p.classificationShifts = 2
        p.finalFitSteps = 4000
        p.finalFitSchedule = .oneCycle(max: 0.1, warmupFraction: 0.25)
        p.mixup = 0.5
        p.detectorTemperature = 0.25
        return p
    }()

    /// Profiles by name (`fast`, `paper`).
    public static func named(_ name: String) -> TrainingProfile? {
        switch name {
        case "fast": return .fast
        case "paper": return .paper
        default: return nil
        }
    }

    /// The profile with every network — detector, classifier and the pretrained trunk — running
    /// its products at `precision` (as far as this machine can: `MatmulPrecision.effective`; the
    /// trunk, which only trains, at its training precision).
    public func withMatmulPrecision(_ precision: MatmulPrecision) -> TrainingProfile {
        var p = self
        p.matmulPrecision = precision.effective
        p.inferenceBatch = Self.inferenceBatch(for: precision.effective)
        p.pretraining?.matmulPrecision = precision.effective.training   // only trains: the same trunk as float32's under fp16
        return p
    }

    /// The profile with every network's training convolutions — detector, classifier and the
    /// pretrained trunk's — at `precision` (as far as this machine can: `TrainingPrecision.effective`).
    public func withTrainingPrecision(_ precision: TrainingPrecision) -> TrainingProfile {
        var p = self
        p.trainingPrecision = precision.effective
        p.pretraining?.trainingPrecision = precision.effective
        return p
    }

    /// The scoring batch that measured fastest at `precision`: 64 for bfloat16 on AMX (chosen
    /// with those kernels), 256 otherwise (float32, float16 and int8 inference 1.1–1.6× faster
    /// than in batches of 64 on the 2-core AVX-512 VM, `lfosa bench engine --infer-batch`).
    public static func inferenceBatch(for precision: MatmulPrecision) -> Int {
        precision.effective == .bfloat16 ? 64 : 256
    }

    /// Optimiser steps for a round over `labeled` samples.
    public func stepsPerRound(labeled: Int, firstRound: Bool) -> Int {
        let perEpoch = (max(1, labeled) + batchSize - 1) / batchSize
        var steps = perEpoch * ((firstRound || !warmStart) ? firstRoundEpochs : epochsPerRound)
        if minStepsPerRound > 0 { steps = max(steps, minStepsPerRound) }
        if maxStepsPerRound > 0 { steps = min(steps, maxStepsPerRound) }
        return max(1, steps)
    }
}
