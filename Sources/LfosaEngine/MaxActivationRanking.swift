/// One class's group of the last LfOSA scoring: its MAVs and fitted mixture.
///
/// `mixture` is nil when the group was degenerate (fewer than two samples or all MAVs
/// equal); such samples are ranked by raw MAV after every fitted group's samples.
public struct ClassMixture: Sendable, Equatable {
    /// Predicted class (0..<K) of the group.
    public var predictedClass: Int
    /// The MAVs of the group, in pool order.
    public var maxActivations: [Float]
    public var mixture: GaussianMixture1D?
}

/// The LfOSA score of every pool sample and the resulting query order.
///
/// Ranking tiers, best first: (0) samples of fitted groups by w descending (compared through
/// the exact log-odds, so samples whose w rounds to 1.0 are still ordered; the official code
/// leaves them in arbitrary order), ties by MAV descending; (1) samples of
/// degenerate known-class groups by MAV descending (w is reported as 0 — no posterior
/// exists); (2) samples predicted unknown, w = 0, by how close they came to a known class
/// (largest known logit minus unknown logit, descending). Ties keep pool order.
/// With `byMixture` false (the `lfosa-no-gmm` variant) tiers 0 and 1 merge and are ordered by
/// raw MAV alone; the mixtures are still fitted and w reported, for the screens.
public struct MaxActivationRanking: Sendable {
    public var predictedClass: [Int]
    public var maxActivation: [Float]
    public var weight: [Float]
    public var tier: [Int]
    /// Positions into the scored arrays, best first.
    public var order: [Int]
    public var mixtures: [ClassMixture]

    /// Scores `[N, C]` logits.
    ///
    /// - Parameters:
    ///   - knownClasses: K; columns 0..<K are known classes.
    ///   - unknownColumn: the "unknown" logit column (K for a (K+1)-way detector), or nil
    ///     when every sample is predicted among the known classes.
    public init(logits: [Float], columns: Int, knownClasses: Int, unknownColumn: Int?, options: MixtureFitOptions,
                byMixture: Bool = true) {
        let n = logits.count / max(1, columns)
        var predictedClass = [Int](repeating: 0, count: n)
        var maxActivation = [Float](repeating: 0, count: n)
        var weight = [Float](repeating: 0, count: n)
        var tier = [Int](repeating: 2, count: n)
        var logOdds = [Double](repeating: 0, count: n)
        var margin = [Float](repeating: 0, count: n)
        var groups = [[Int]](repeating: [], count: knownClasses)
        for i in 0..<n {
            var best = 0, bestValue = -Float.infinity
            for c in 0..<columns where logits[i * columns + c] > bestValue { bestValue = logits[i * columns + c]; best = c }
            predictedClass[i] = best
            maxActivation[i] = bestValue
            if best < knownClasses {
                groups[best].append(i)
            } else if let u = unknownColumn {
                var bestKnown = -Float.infinity
                for c in 0..<knownClasses { bestKnown = max(bestKnown, logits[i * columns + c]) }
                margin[i] = bestKnown - logits[i * columns + u]
            }
        }
        var mixtures: [ClassMixture] = []
        for c in 0..<knownClasses {
            let members = groups[c]
            let mavs = members.map { maxActivation[$0] }
            let fitted = GaussianMixture1D.fit(mavs.map(Double.init), options: options)
            if let g = fitted {
                let post = g.knownPosteriors(mavs.map(Double.init))
                let odds = g.knownLogOdds(mavs.map(Double.init))
                for (k, i) in members.enumerated() { weight[i] = Float(post[k]); logOdds[i] = odds[k]; tier[i] = byMixture ? 0 : 1 }
            } else {
                for i in members { tier[i] = 1 }
            }
            mixtures.append(ClassMixture(predictedClass: c, maxActivations: mavs, mixture: fitted))
        }
        let t = tier, lo = logOdds, m = maxActivation, mg = margin
        let order = (0..<n).sorted { a, b in
            if t[a] != t[b] { return t[a] < t[b] }
            switch t[a] {
            case 0:
                if lo[a] != lo[b] { return lo[a] > lo[b] }
                if m[a] != m[b] { return m[a] > m[b] }
            case 1:
                if m[a] != m[b] { return m[a] > m[b] }
            default:
                if mg[a] != mg[b] { return mg[a] > mg[b] }
            }
            return a < b
        }
        self.predictedClass = predictedClass
        self.maxActivation = maxActivation
        self.weight = weight
        self.tier = tier
        self.order = order
        self.mixtures = mixtures
    }

    /// Positions to query: the top `batch`, or with `threshold` τ only fitted-group samples
    /// with w ≥ τ (at most `batch` of them).
    public func selection(batch: Int, threshold: Float? = nil) -> [Int] {
        guard let tau = threshold else { return Array(order.prefix(batch)) }
        return Array(order.lazy.filter { self.tier[$0] == 0 && self.weight[$0] >= tau }.prefix(batch))
    }
}
