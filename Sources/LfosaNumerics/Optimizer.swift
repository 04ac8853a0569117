/// Stochastic gradient descent with momentum and weight decay (PyTorch semantics).
///
/// For each parameter: g ← ∇ + λ·w (when it decays); v ← μ·v + g; w ← w − lr·v.
public struct SGD {
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: Float

    public init(learningRate: Float, momentum: Float = 0.9, weightDecay: Float = 5e-4) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    /// Applies one update to every parameter from its accumulated gradient.
    public func step(_ parameters: [Parameter]) {
        for p in parameters {
            if p.momentum.count != p.count { p.momentum = [Float](repeating: 0, count: p.count) }
            let lr = learningRate, mu = momentum, wd = p.decays ? weightDecay : 0
            p.value.withUnsafeMutableBufferPointer { w in
                p.gradient.withUnsafeBufferPointer { g in
                    p.momentum.withUnsafeMutableBufferPointer { v in
                        for i in 0..<w.count {
                            let gi = g[i] + wd * w[i]
                            v[i] = mu * v[i] + gi
                            w[i] -= lr * v[i]
                        }
                    }
                }
            }
        }
    }
}

/// A learning-rate schedule: the rate for a step out of `totalSteps`.
public enum LearningRateSchedule: Sendable, Equatable {
    case constant(Float)
    /// Multiply by `gamma` every `every` epochs (PyTorch StepLR), counted in epochs.
    case step(base: Float, every: Int, gamma: Float)
    /// Cosine annealing from `base` to 0.
    case cosine(base: Float)
    /// One-cycle: linear warm-up from max/25 to `max` over `warmupFraction`, then cosine to ~0.
    case oneCycle(max: Float, warmupFraction: Float)

    /// The same schedule with its peak rate (`max` of one-cycle, `base` of the others) set to `rate`.
    public func withPeak(_ rate: Float) -> LearningRateSchedule {
        switch self {
        case .constant: return .constant(rate)
        case .step(_, let every, let gamma): return .step(base: rate, every: every, gamma: gamma)
        case .cosine: return .cosine(base: rate)
        case .oneCycle(_, let warm): return .oneCycle(max: rate, warmupFraction: warm)
        }
    }

    /// The rate at `step` (0-based) of `totalSteps`, where an epoch is `stepsPerEpoch` steps.
    public func rate(step: Int, totalSteps: Int, stepsPerEpoch: Int) -> Float {
        let progress = Float(step) / Float(max(1, totalSteps))
        switch self {
        case .constant(let r):
            return r
        case .step(let base, let every, let gamma):
            let epoch = step / max(1, stepsPerEpoch)
            var r = base
            for _ in 0..<(epoch / max(1, every)) { r *= gamma }
            return r
        case .cosine(let base):
            return base * 0.5 * (1 + Float(_cos(Double.pi * Double(progress))))
        case .oneCycle(let maxRate, let warm):
            let start = maxRate / 25, end = maxRate / 1e4
            if progress < warm {
                return start + (maxRate - start) * progress / warm
            }
            let p = (progress - warm) / max(1e-6, 1 - warm)
            return end + (maxRate - end) * 0.5 * (1 + Float(_cos(Double.pi * Double(p))))
        }
    }
}
