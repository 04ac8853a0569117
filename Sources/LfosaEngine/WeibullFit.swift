import Foundation

/// A two-parameter Weibull distribution fitted by maximum likelihood.
///
/// CDF(x) = 1 − exp(−((x − shift)/scale)^shape) for x > shift, else 0. `fit` places `shift`
/// just below the smallest sample (libMR's translation of the tail) so every sample is
/// positive, then solves the MLE equation for the shape by bisection on
/// Σ yᵏ ln y / Σ yᵏ − 1/k − mean(ln y) = 0 and sets scale = (mean yᵏ)^(1/k).
public struct WeibullFit: Sendable, Equatable {
    public var shape: Double
    public var scale: Double
    public var shift: Double

    public init(shape: Double, scale: Double, shift: Double = 0) {
        self.shape = shape
        self.scale = scale
        self.shift = shift
    }

    public func cdf(_ x: Double) -> Double {
        let y = x - shift
        if y <= 0 { return 0 }
        return 1 - exp(-pow(y / scale, shape))
    }

    /// MLE fit of `samples` (nil when fewer than 2 distinct values).
    public static func fit(_ samples: [Double]) -> WeibullFit? {
        guard samples.count >= 2, let lo = samples.min(), let hi = samples.max(), hi > lo else { return nil }
        let shift = lo - (hi - lo) * 1e-3 - 1e-12
        let y = samples.map { $0 - shift }
        let logs = y.map { log($0) }
        let meanLog = logs.reduce(0, +) / Double(y.count)
        // Scale y to max 1 for numerical stability of y^k (the shape is scale-invariant).
        let ymax = y.max()!
        let ys = y.map { $0 / ymax }
        let lys = ys.map { log($0) }
        let meanLogScaled = meanLog - log(ymax)
        func g(_ k: Double) -> Double {
            var a = 0.0, b = 0.0
            for (v, l) in zip(ys, lys) { let p = pow(v, k); a += p * l; b += p }
            return a / b - 1 / k - meanLogScaled
        }
        var lo2 = 1e-3, hi2 = 1.0
        while g(hi2) < 0 && hi2 < 1e4 { hi2 *= 2 }
        for _ in 0..<100 {
            let mid = (lo2 + hi2) / 2
            if g(mid) < 0 { lo2 = mid } else { hi2 = mid }
        }
        let k = (lo2 + hi2) / 2
        let meanPow = ys.reduce(0) { $0 + pow($1, k) } / Double(ys.count)
        return WeibullFit(shape: k, scale: pow(meanPow, 1 / k) * ymax, shift: shift)
    }
}
