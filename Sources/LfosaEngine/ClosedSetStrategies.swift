import LfosaNumerics

/// Random sampling: `batch` pool samples drawn uniformly without replacement.
public struct RandomStrategy: QueryStrategy {
    public init() {}
    public var name: String { "random" }
    public var requirements: NetworkRequirements { NetworkRequirements(detector: nil, classifier: true, classifierDropout: 0) }

    public func select(_ context: SelectionContext, batch: Int, rng: inout SplitMix64) -> StrategySelection {
        var pool = context.pool
        let take = min(batch, pool.count)
        for i in 0..<take { pool.swapAt(i, i + rng.nextInt(below: pool.count - i)) }
        return StrategySelection(items: pool.prefix(take).map { QueryItem(index: $0, predictedClass: nil, score: 0, maxActivation: nil) },
                                 mixtures: [])
    }
}

/// Softmax-based closed-set strategies on the classifier.
///
/// `.uncertainty` queries the largest softmax entropy first; `.certainty` the largest
/// maximum softmax probability first.
public struct SoftmaxStrategy: QueryStrategy {
    public enum Kind: Sendable { case uncertainty, certainty }
    public var kind: Kind
    public init(kind: Kind) { self.kind = kind }
    public var name: String { kind == .uncertainty ? "uncertainty" : "certainty" }
    public var requirements: NetworkRequirements { NetworkRequirements(detector: nil, classifier: true, classifierDropout: 0) }

    public func select(_ context: SelectionContext, batch: Int, rng: inout SplitMix64) -> StrategySelection {
        let net = context.classifier!
        let out = context.inference(net)
        let c = net.classes
        let probs = softmaxRows(Tensor(shape: [context.pool.count, c], data: out.logits))
        let score: [Float]
        switch kind {
        case .uncertainty: score = entropyRows(probs)
        case .certainty: score = (0..<context.pool.count).map { i in probs.data[(i * c)..<((i + 1) * c)].max()! }
        }
        let order = rankDescending(score)
        let items = order.prefix(batch).map { p in
            QueryItem(index: context.pool[p], predictedClass: argmax(out.logits, row: p, columns: c), score: score[p], maxActivation: nil)
        }
        return StrategySelection(items: items, mixtures: [])
    }
}

/// Positions sorted by `score` descending, ties in position order.
func rankDescending(_ score: [Float]) -> [Int] {
    (0..<score.count).sorted { score[$0] != score[$1] ? score[$0] > score[$1] : $0 < $1 }
}

/// Column of the largest value in row `row` of a row-major matrix.
func argmax(_ values: [Float], row: Int, columns: Int) -> Int {
    var best = 0
    for c in 1..<max(1, columns) where values[row * columns + c] > values[row * columns + best] { best = c }
    return best
}
