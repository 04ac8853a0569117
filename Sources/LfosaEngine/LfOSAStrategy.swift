import LfosaNumerics

/// LfOSA: detector MAVs, a two-component GMM per predicted class, query by posterior w.
///
/// Variants are the paper's ablations. `.noDetector` scores with the classifier's logits
/// (no unknown column); `.dichotomy` uses a binary detector whose "known" logit is the MAV of
/// one group (samples it predicts unknown get w = 0). `.noMixture` (not in the paper) ranks the
/// samples the detector predicts known by their raw MAV across classes, without the GMMs.
public struct LfOSAStrategy: QueryStrategy {
    public enum Variant: Sendable, Equatable {
        case standard, noDetector, noClassifier, noInvalidSet, dichotomy, noMixture
    }

    public var name: String
    public var variant: Variant
    public var temperature: Float
    public var mixture: MixtureFitOptions
    public var threshold: Float?

    public init(name: String = "lfosa", variant: Variant = .standard, temperature: Float = 0.5,
                mixture: MixtureFitOptions = .paper, threshold: Float? = nil) {
        self.name = name
        self.variant = variant
        self.temperature = temperature
        self.mixture = mixture
        self.threshold = threshold
    }

    public var requirements: NetworkRequirements {
        switch variant {
        case .standard, .noMixture: return NetworkRequirements(detector: .openSet(temperature: temperature, usesInvalidSet: true), classifier: true, classifierDropout: 0)
        case .noDetector: return NetworkRequirements(detector: nil, classifier: true, classifierDropout: 0)
        case .noClassifier: return NetworkRequirements(detector: .openSet(temperature: temperature, usesInvalidSet: true), classifier: false, classifierDropout: 0)
        case .noInvalidSet: return NetworkRequirements(detector: .openSet(temperature: temperature, usesInvalidSet: false), classifier: true, classifierDropout: 0)
        case .dichotomy: return NetworkRequirements(detector: .dichotomy(temperature: temperature), classifier: true, classifierDropout: 0)
        }
    }

    public func select(_ context: SelectionContext, batch: Int, rng: inout SplitMix64) -> StrategySelection {
        let k = context.knownClasses
        let ranking: MaxActivationRanking
        switch variant {
        case .noDetector:
            let net = context.classifier!
            let out = context.inference(net)
            ranking = MaxActivationRanking(logits: out.logits, columns: net.classes, knownClasses: k, unknownColumn: nil, options: mixture)
        case .dichotomy:
            let net = context.detector!
            let out = context.inference(net)
            ranking = MaxActivationRanking(logits: out.logits, columns: 2, knownClasses: 1, unknownColumn: 1, options: mixture)
        case .standard, .noClassifier, .noInvalidSet, .noMixture:
            let net = context.detector!
            let out = context.inference(net)
            ranking = MaxActivationRanking(logits: out.logits, columns: net.classes, knownClasses: k, unknownColumn: k, options: mixture,
                                           byMixture: variant != .noMixture)
        }
        let picked = ranking.selection(batch: batch, threshold: threshold)
        let items = picked.map { p -> QueryItem in
            let c = ranking.predictedClass[p]
            let predicted: Int? = variant == .dichotomy ? nil : (c < k ? c : nil)
            return QueryItem(index: context.pool[p], predictedClass: predicted, score: ranking.weight[p],
                             maxActivation: ranking.maxActivation[p])
        }
        return StrategySelection(items: items, mixtures: ranking.mixtures)
    }
}
