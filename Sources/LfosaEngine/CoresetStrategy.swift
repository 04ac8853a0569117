import LfosaNumerics

/// Core-set (Sener & Savarese): greedy k-center on the classifier's penultimate features.
///
/// Centres start as every already-queried sample (D_L ∪ D_I); each step adds the pool sample
/// farthest (Euclidean) from its nearest centre. Distances to the initial centres are
/// computed as ‖a‖² + ‖b‖² − 2a·b with a matrix product (a `Linear` layer whose weight is
/// the centre matrix, so the product runs in BLAS).
public struct CoresetStrategy: QueryStrategy {
    public init() {}
    public var name: String { "coreset" }
    public var requirements: NetworkRequirements { NetworkRequirements(detector: nil, classifier: true, classifierDropout: 0) }

    public func select(_ context: SelectionContext, batch: Int, rng: inout SplitMix64) -> StrategySelection {
        let net = context.classifier!
        let pool = context.inference(net, withFeatures: true)
        let centres = context.inference(net, indices: context.queried, withFeatures: true)
        let order = Self.kCenterGreedy(features: pool.features, width: pool.featureWidth, centres: centres.features, count: batch)
        let items = order.map { p in
            QueryItem(index: context.pool[p], predictedClass: argmax(pool.logits, row: p, columns: net.classes), score: 0, maxActivation: nil)
        }
        return StrategySelection(items: items, mixtures: [])
    }

    /// Greedy k-center: positions of `count` rows of `features` (`[n, width]`), each the row
    /// farthest from the current centres (`centres`, `[m, width]`, may be empty; then the
    /// first pick is row 0). Ties go to the lower position.
    static func kCenterGreedy(features: [Float], width: Int, centres: [Float], count: Int) -> [Int] {
        let n = width == 0 ? 0 : features.count / width
        guard n > 0 else { return [] }
        var minDist = [Float](repeating: .infinity, count: n)
        let m = centres.count / max(1, width)
        if m > 0 {
            let norms = (0..<n).map { i in (0..<width).reduce(Float(0)) { $0 + features[i * width + $1] * features[i * width + $1] } }
            let chunk = 1024
            var c0 = 0
            while c0 < m {
                let c1 = min(m, c0 + chunk)
                var dummy = SplitMix64(seed: 0)
                let layer = Linear(name: "centres", inputs: width, outputs: c1 - c0, rng: &dummy)
                layer.weight.value = Array(centres[(c0 * width)..<(c1 * width)])
                var cNorm = [Float](repeating: 0, count: c1 - c0)
                for j in 0..<(c1 - c0) {
                    var s: Float = 0
                    for d in 0..<width { let v = layer.weight.value[j * width + d]; s += v * v }
                    cNorm[j] = s
                }
                layer.bias.value = [Float](repeating: 0, count: c1 - c0)
                let rowsPer = 4096
                var r0 = 0
                while r0 < n {
                    let r1 = min(n, r0 + rowsPer)
                    let dots = layer.forward(Tensor(shape: [r1 - r0, width], data: Array(features[(r0 * width)..<(r1 * width)])), mode: .inference)
                    let w = c1 - c0
                    for i in r0..<r1 {
                        var best = minDist[i]
                        for j in 0..<w {
                            let d = norms[i] + cNorm[j] - 2 * dots.data[(i - r0) * w + j]
                            if d < best { best = d }
                        }
                        minDist[i] = max(0, best)
                    }
                    r0 = r1
                }
                c0 = c1
            }
        }
        var picked: [Int] = []
        var taken = [Bool](repeating: false, count: n)
        for _ in 0..<min(count, n) {
            var best = -1
            var bestDist = -Float.infinity
            for i in 0..<n where !taken[i] && minDist[i] > bestDist { bestDist = minDist[i]; best = i }
            if best < 0 { break }
            picked.append(best); taken[best] = true
            features.withUnsafeBufferPointer { f in
                let base = best * width
                for i in 0..<n where !taken[i] {
                    var s: Float = 0
                    for d in 0..<width { let diff = f[i * width + d] - f[base + d]; s += diff * diff }
                    if s < minDist[i] { minDist[i] = s }
                }
            }
        }
        return picked
    }
}
