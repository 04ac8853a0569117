import LfosaNumerics

/// BALD (Houlsby et al.; Gal et al.): mutual information between the prediction and the
/// weights under MC dropout, queried largest first.
///
/// MI = H(mean_t p_t) − mean_t H(p_t) over `passes` dropout masks. When dropout is the last
/// trunk layer (all built-in architectures), the trunk runs once in inference mode and each
/// pass applies its own seeded inverted-dropout mask to the features before the head — the
/// same distribution as full MC-dropout passes, at the cost of one.
public struct BALDStrategy: QueryStrategy {
    public var passes: Int
    public var dropout: Float
    public init(passes: Int = 10, dropout: Float = 0.3) {
        self.passes = passes
        self.dropout = dropout
    }
    public var name: String { "bald" }
    public var requirements: NetworkRequirements { NetworkRequirements(detector: nil, classifier: true, classifierDropout: dropout) }

    public func select(_ context: SelectionContext, batch: Int, rng: inout SplitMix64) -> StrategySelection {
        let net = context.classifier!
        let n = context.pool.count, c = net.classes
        var meanP = [Float](repeating: 0, count: n * c)
        var meanH = [Float](repeating: 0, count: n)
        if let drop = net.trunk.last as? Dropout {
            let out = context.inference(net, withFeatures: true)
            let w = out.featureWidth
            let scale = 1 / (1 - drop.rate)
            for _ in 0..<passes {
                var masked = out.features
                for i in 0..<masked.count { masked[i] *= rng.nextUnitFloat() >= drop.rate ? scale : 0 }
                let logits = net.head.forward(Tensor(shape: [n, w], data: masked), mode: .inference)
                accumulate(softmaxRows(logits), &meanP, &meanH)
            }
        } else {
            for _ in 0..<passes {
                var logits = [Float]()
                for case let d as Dropout in net.trunk { d.reseed(rng.next()) }
                var start = 0
                var unused = SplitMix64(seed: 0)
                while start < n {
                    let end = min(n, start + context.inferenceBatch)
                    let x = makeBatch(from: context.source, indices: Array(context.pool[start..<end]), augmentation: .none,
                                      normalization: context.normalization, rng: &unused)
                    logits += net.forward(x, mode: .inferenceWithDropout).data
                    start = end
                }
                accumulate(softmaxRows(Tensor(shape: [n, c], data: logits)), &meanP, &meanH)
            }
        }
        let t = Float(passes)
        for i in 0..<meanP.count { meanP[i] /= t }
        let entropyOfMean = entropyRows(Tensor(shape: [n, c], data: meanP))
        let mi = (0..<n).map { entropyOfMean[$0] - meanH[$0] / t }
        let items = rankDescending(mi).prefix(batch).map { p in
            QueryItem(index: context.pool[p], predictedClass: argmax(meanP, row: p, columns: c), score: mi[p], maxActivation: nil)
        }
        return StrategySelection(items: items, mixtures: [])
    }

    private func accumulate(_ probs: Tensor, _ meanP: inout [Float], _ meanH: inout [Float]) {
        for i in 0..<probs.count { meanP[i] += probs.data[i] }
        let h = entropyRows(probs)
        for i in 0..<h.count { meanH[i] += h[i] }
    }
}
