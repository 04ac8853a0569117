/// Softmax cross-entropy on `logits / T` with a temperature per sample, mean over the batch.
///
/// For sample i with label y and temperature T: loss = −log softmax(a/T)_y, and
/// ∂loss/∂a_c = (softmax(a/T)_c − [c = y]) / T, divided by the batch size for the mean.
/// `weights` (optional) scale each sample's term; the mean divides by the batch size.
/// Stable: the maximum of a/T is subtracted before exponentiating.
public func softmaxCrossEntropy(logits: Tensor, labels: [Int], temperatures: [Float],
                                weights: [Float]? = nil) -> (loss: Float, gradient: Tensor) {
    precondition(logits.shape.count == 2)
    let n = logits.shape[0], c = logits.shape[1]
    precondition(labels.count == n && temperatures.count == n)
    var total: Double = 0
    let inv = 1 / Float(n)
    let grad = Tensor(shape: logits.shape) { g in
        logits.data.withUnsafeBufferPointer { a in
            for i in 0..<n {
                let t = temperatures[i], y = labels[i], wgt = weights?[i] ?? 1
                precondition(y >= 0 && y < c, "label \(y) outside 0..<\(c)")
                var m = -Float.infinity
                for j in 0..<c { m = max(m, a[i * c + j] / t) }
                var s: Float = 0
                for j in 0..<c {
                    let e = _expf(a[i * c + j] / t - m)
                    g[i * c + j] = e
                    s += e
                }
                total += Double(wgt) * Double(_logf(s) + m - a[i * c + y] / t)
                let scale = wgt * inv / t
                for j in 0..<c {
                    let q = g[i * c + j] / s
                    g[i * c + j] = (q - (j == y ? 1 : 0)) * scale
                }
            }
        }
    }
    return (Float(total / Double(n)), grad)
}
