#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fitted one-dimensional Gaussian mixture (the engine's per-class MAV fit), as numbers.
///
/// Arrays of equal length (2 for LfOSA). Variances must be > 0 to be drawn.
public struct MixtureComponents: Hashable, Sendable {
    public var weights: [Float]
    public var means: [Float]
    public var variances: [Float]

    public init(weights: [Float], means: [Float], variances: [Float]) {
        precondition(weights.count == means.count && means.count == variances.count, "MixtureComponents: unequal lengths")
        self.weights = weights
        self.means = means
        self.variances = variances
    }

    /// Weighted density of component `k` at `x`.
    public func density(_ k: Int, at x: Float) -> Float {
        let v = variances[k]
        guard v > 0 else { return 0 }
        let d = x - means[k]
        return weights[k] * (1 / (2 * Float.pi * v).squareRoot()) * Float(exp(Double(-d * d / (2 * v))))
    }

    /// The index of the component with the larger mean (the known-like one).
    public var highComponent: Int { means.indices.max(by: { means[$0] < means[$1] }) ?? 0 }

    /// Where the posterior of the higher-mean component crosses 0.5 between the two means
    /// (LfOSA's w = 0.5), by bisection; nil when there are not two components, or no crossing there.
    public func posteriorBoundary() -> Float? {
        guard means.count == 2 else { return nil }
        let hi = highComponent, lo = 1 - hi
        guard means[hi] > means[lo] else { return nil }
        func f(_ x: Float) -> Float { density(hi, at: x) - density(lo, at: x) }
        var a = means[lo], b = means[hi]
        guard f(a) < 0, f(b) > 0 else { return nil }
        for _ in 0..<60 {
            let m = (a + b) / 2
            if f(m) < 0 { a = m } else { b = m }
        }
        return (a + b) / 2
    }
}
