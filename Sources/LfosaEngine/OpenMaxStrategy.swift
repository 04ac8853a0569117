import Foundation
import LfosaNumerics

/// OpenMax (Bendale & Boult, 2016) on the classifier, querying the most confidently known.
///
/// Per class c: the mean activation vector μ_c (logits) of the correctly classified labeled
/// samples of c, and a Weibull fitted to the `tailSize` largest Euclidean distances ‖v − μ_c‖.
/// A pool sample's activation v is recalibrated over its α = min(K, 10) top classes:
/// ω_r = 1 − ((α − r)/α)·CDF_c(‖v − μ_c‖) for rank r = 0…α−1, v̂_c = v_c·ω, and the unknown
/// activation is Σ v_c(1 − ω). The score is the largest known-class probability of the
/// softmax over (v̂, unknown); the highest scores are queried. Classes without a fit keep ω = 1.
public struct OpenMaxStrategy: QueryStrategy {
    public var tailSize: Int
    public init(tailSize: Int = 20) { self.tailSize = tailSize }
    public var name: String { "openmax" }
    public var requirements: NetworkRequirements { NetworkRequirements(detector: nil, classifier: true, classifierDropout: 0) }

    public func select(_ context: SelectionContext, batch: Int, rng: inout SplitMix64) -> StrategySelection {
        let net = context.classifier!
        let k = net.classes
        let train = context.inference(net, indices: context.labeled.map(\.index))
        let model = Self.fitModel(logits: train.logits, labels: context.labeled.map(\.label), classes: k, tailSize: tailSize)
        let pool = context.inference(net)
        var score = [Float](repeating: 0, count: context.pool.count)
        var predicted = [Int](repeating: 0, count: context.pool.count)
        for i in 0..<context.pool.count {
            let v = Array(pool.logits[(i * k)..<((i + 1) * k)])
            let p = Self.probabilities(v, model: model)
            var best = 0
            for c in 1..<k where p[c] > p[best] { best = c }
            score[i] = Float(p[best]); predicted[i] = best
        }
        let items = rankDescending(score).prefix(batch).map { p in
            QueryItem(index: context.pool[p], predictedClass: predicted[p], score: score[p], maxActivation: nil)
        }
        return StrategySelection(items: items, mixtures: [])
    }

    struct Model {
        var means: [[Double]?]
        var fits: [WeibullFit?]
    }

    static func fitModel(logits: [Float], labels: [Int], classes k: Int, tailSize: Int) -> Model {
        var members = [[[Double]]](repeating: [], count: k)
        for (i, y) in labels.enumerated() {
            let v = (0..<k).map { Double(logits[i * k + $0]) }
            if argmax(logits, row: i, columns: k) == y { members[y].append(v) }
        }
        var means = [[Double]?](repeating: nil, count: k), fits = [WeibullFit?](repeating: nil, count: k)
        for c in 0..<k where !members[c].isEmpty {
            var mu = [Double](repeating: 0, count: k)
            for v in members[c] { for j in 0..<k { mu[j] += v[j] } }
            mu = mu.map { $0 / Double(members[c].count) }
            means[c] = mu
            let d = members[c].map { distance($0, mu) }.sorted(by: >)
            fits[c] = WeibullFit.fit(Array(d.prefix(tailSize)))
        }
        return Model(means: means, fits: fits)
    }

    static func distance(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for j in 0..<a.count { s += (a[j] - b[j]) * (a[j] - b[j]) }
        return s.squareRoot()
    }

    /// OpenMax probabilities: K known classes then "unknown" last.
    static func probabilities(_ v: [Float], model: Model) -> [Double] {
        let k = v.count
        let av = v.map(Double.init)
        let alpha = min(k, 10)
        let ranked = (0..<k).sorted { av[$0] != av[$1] ? av[$0] > av[$1] : $0 < $1 }
        var revised = av
        var unknown = 0.0
        for (r, c) in ranked.prefix(alpha).enumerated() {
            guard let mu = model.means[c], let fit = model.fits[c] else { continue }
            let w = 1 - Double(alpha - r) / Double(alpha) * fit.cdf(distance(av, mu))
            revised[c] = av[c] * w
            unknown += av[c] * (1 - w)
        }
        let all = revised + [unknown]
        let m = all.max()!
        let e = all.map { exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}
