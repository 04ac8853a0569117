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

    /// What the per-class mixtures are fitted on and the pool is ranked by.
    public enum Score: String, Sendable, Equatable, CaseIterable {
        /// The paper's MAV: the sample's largest raw logit.
        case mav
        /// The MAV measured from the unknown output: every logit minus the unknown logit (the
        /// same softmax), so the score is the largest known logit's margin over "unknown".
        /// Applies where the detector has an unknown output (not `.noDetector`).
        case margin
    }

    public var name: String
    public var variant: Variant
    public var temperature: Float
    public var mixture: MixtureFitOptions
    public var threshold: Float?
    public var score: Score

    public init(name: String = "lfosa", variant: Variant = .standard, temperature: Float = 0.5,
                mixture: MixtureFitOptions = .paper, threshold: Float? = nil, score: Score = .margin) {
        self.name = name
        self.variant = variant
        self.temperature = temperature
        self.mixture = mixture
        self.threshold = threshold
        self.score = score
    }

    /// `logits` (`[n × columns]`) with every row shifted so its `unknownColumn` logit is 0:
    /// the softmax and arg-max are unchanged, and a row's largest known logit becomes its
    /// margin over the unknown output.
    public static func referencedToUnknown(_ logits: [Float], columns: Int, unknownColumn: Int) -> [Float] {
        var out = logits
        for row in 0..<(logits.count / columns) {
            let u = logits[row * columns + unknownColumn]
            for j in 0..<columns { out[row * columns + j] -= u }
        }
        return out
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
        let net: Network, rank: ([Float]) -> MaxActivationRanking, unknownColumn: Int?
        switch variant {
        case .noDetector:
            net = context.classifier!
            unknownColumn = nil
            let columns = net.classes
            rank = { MaxActivationRanking(logits: $0, columns: columns, knownClasses: k, unknownColumn: nil, options: mixture) }
        case .dichotomy:
            net = context.detector!
            unknownColumn = 1
            rank = { [self] in
                MaxActivationRanking(logits: scored($0, columns: 2, unknownColumn: 1), columns: 2, knownClasses: 1,
                                     unknownColumn: 1, options: mixture)
            }
        case .standard, .noClassifier, .noInvalidSet, .noMixture:
            net = context.detector!
            unknownColumn = k
            let columns = net.classes
            rank = { [self] in
                MaxActivationRanking(logits: scored($0, columns: columns, unknownColumn: k), columns: columns,
                                     knownClasses: k, unknownColumn: k, options: mixture, byMixture: variant != .noMixture)
            }
        }
        let candidates = context.flipScoring == .candidates
        var logits = context.inference(net, unknownColumn: unknownColumn, flip: candidates ? .off : nil).logits
        var ranking = rank(logits)
        if candidates {
            // the top of the plain ranking (predicted known) re-scored on both views, then ranked again
            let query = min(context.queryBatch ?? batch, batch)
            let rows = ranking.order.prefix(FlipScoring.candidatesPerQuery * query).filter { ranking.tier[$0] < 2 }
            context.rescoreBothViews(net, rows: rows.sorted(), logits: &logits)
            ranking = rank(logits)
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

    private func scored(_ logits: [Float], columns: Int, unknownColumn: Int) -> [Float] {
        score == .margin ? Self.referencedToUnknown(logits, columns: columns, unknownColumn: unknownColumn) : logits
    }
}
