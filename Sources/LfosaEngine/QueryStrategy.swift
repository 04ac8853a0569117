import LfosaNumerics

/// One sample proposed for annotation.
///
/// `score` is the strategy's ranking key (LfOSA: the GMM posterior w; others: their own
/// measure, larger = queried earlier). `predictedClass` is nil when the model predicts
/// "unknown" (or the strategy has no prediction); `maxActivation` is the MAV when the
/// strategy computed one.
public struct QueryItem: Sendable, Equatable {
    public var index: Int
    public var predictedClass: Int?
    public var score: Float
    public var maxActivation: Float?

    public init(index: Int, predictedClass: Int?, score: Float, maxActivation: Float?) {
        self.index = index
        self.predictedClass = predictedClass
        self.score = score
        self.maxActivation = maxActivation
    }
}

/// How the detector of a strategy is built and trained.
public enum DetectorDesign: Sendable, Equatable {
    /// (K+1)-way on D_L (labels 0..<K) and, when `usesInvalidSet`, D_I (label K), with
    /// tempered cross-entropy at `temperature`.
    case openSet(temperature: Float, usesInvalidSet: Bool)
    /// Binary known (0) / unknown (1) on D_L ∪ D_I, tempered cross-entropy at `temperature`.
    case dichotomy(temperature: Float)
}

/// Which networks the loop trains for a strategy.
public struct NetworkRequirements: Sendable, Equatable {
    public var detector: DetectorDesign?
    /// Whether the K-way classifier is trained (otherwise the detector classifies).
    public var classifier: Bool
    /// Dropout before the classifier's head (MC dropout), 0 for none.
    public var classifierDropout: Float

    /// How far a round that trains these networks is at `progress` (0…1): the detector's half,
    /// then the classifier's, when both train; otherwise the one network's steps.
    public func fraction(at progress: TrainingProgress) -> Double {
        let both = detector != nil && classifier
        let offset = both && progress.role == .classifier ? 0.5 : 0
        return offset + (both ? 0.5 : 1) * Double(progress.step) / Double(max(1, progress.totalSteps))
    }
}

/// What a strategy sees when it picks a query.
public struct SelectionContext {
    public var source: ImageBatchSource
    /// Unlabeled pool indices, ascending.
    public var pool: [Int]
    /// Indices already queried or initially labeled (D_L ∪ D_I), ascending.
    public var queried: [Int]
    /// D_L as (index, class) pairs, ascending by index.
    public var labeled: [(index: Int, label: Int)]
    public var knownClasses: Int
    public var detector: Network?
    public var classifier: Network?
    public var normalization: Normalization
    public var inferenceBatch: Int
    /// Which pool images are also scored mirrored, the two views' outputs averaged
    /// (`TrainingProfile.flipScoring`).
    public var flipScoring: FlipScoring = .off
    /// The query's size when `select` is asked for a longer ranking (`batch` larger, e.g. the
    /// whole pool to dump or to group): what LfOSA's `.candidates` re-scoring counts its
    /// candidates from, so the ranking's top is the query's. nil: the query is `batch`.
    public var queryBatch: Int? = nil
    /// One-pixel diagonal shifts (0…4) whose views `.candidates` re-scoring averages in too
    /// (`TrainingProfile.candidateShifts`).
    public var candidateShifts: Int = 0
}

/// The result of a strategy's selection.
public struct StrategySelection: Sendable {
    public var items: [QueryItem]
    /// Per-class MAVs and mixtures (LfOSA variants only; empty otherwise).
    public var mixtures: [ClassMixture]
}

/// A query strategy: decides which networks to train and which pool samples to query.
public protocol QueryStrategy: Sendable {
    var name: String { get }
    var requirements: NetworkRequirements { get }
    /// The `batch` samples to query next, best first. `rng` is the only source of randomness.
    func select(_ context: SelectionContext, batch: Int, rng: inout SplitMix64) -> StrategySelection
}

/// The strategies and ablations `simulate` and the front end can run.
public enum StrategyKind: String, Sendable, CaseIterable, Codable {
    case lfosa
    case random
    case uncertainty
    case certainty
    case coreset
    case bald
    case openmax
    /// Ablation: classifier MAV + GMM, no detector.
    case lfosaNoDetector = "lfosa-no-detector"
    /// Ablation: the detector's first K logits classify, no separate classifier.
    case lfosaNoClassifier = "lfosa-no-classifier"
    /// Ablation: detector trained without the invalid set D_I.
    case lfosaNoInvalid = "lfosa-no-invalid"
    /// Ablation: detector temperature T = 1.
    case lfosaT1 = "lfosa-t1"
    /// Ablation: detector temperature T = 2.
    case lfosaT2 = "lfosa-t2"
    /// Ablation: binary known/unknown detector.
    case lfosaDichotomy = "lfosa-dichotomy"
    /// Not in the paper: the detector's predicted-known samples ranked by raw MAV across
    /// classes, without the per-class GMMs.
    case lfosaNoGMM = "lfosa-no-gmm"

    /// The strategy object; `temperature` and `mixture` configure the LfOSA variants whose
    /// ablation does not fix them, `threshold` switches LfOSA to the τ form, `score` chooses
    /// what the LfOSA variants rank by (`LfOSAStrategy.Score`).
    public func make(temperature: Float = 0.5, mixture: MixtureFitOptions = .paper, threshold: Float? = nil,
                     mcDropout: Float = 0.3, score: LfOSAStrategy.Score = .margin) -> any QueryStrategy {
        func lfosa(_ variant: LfOSAStrategy.Variant, _ t: Float) -> LfOSAStrategy {
            LfOSAStrategy(name: rawValue, variant: variant, temperature: t, mixture: mixture, threshold: threshold, score: score)
        }
        switch self {
        case .lfosa: return lfosa(.standard, temperature)
        case .lfosaNoDetector: return lfosa(.noDetector, temperature)
        case .lfosaNoClassifier: return lfosa(.noClassifier, temperature)
        case .lfosaNoInvalid: return lfosa(.noInvalidSet, temperature)
        case .lfosaT1: return lfosa(.standard, 1)
        case .lfosaT2: return lfosa(.standard, 2)
        case .lfosaDichotomy: return lfosa(.dichotomy, temperature)
        case .lfosaNoGMM: return lfosa(.noMixture, temperature)
        case .random: return RandomStrategy()
        case .uncertainty: return SoftmaxStrategy(kind: .uncertainty)
        case .certainty: return SoftmaxStrategy(kind: .certainty)
        case .coreset: return CoresetStrategy()
        case .bald: return BALDStrategy(passes: 10, dropout: mcDropout)
        case .openmax: return OpenMaxStrategy(tailSize: 20)
        }
    }
}
