import Foundation

/// Options of the EM fit of a one-dimensional Gaussian mixture.
///
/// Names follow sklearn's `GaussianMixture`; the defaults are the values the official LfOSA
/// code passes (`max_iter=10, tol=1e-2, reg_covar=5e-4`).
public struct MixtureFitOptions: Sendable, Equatable, Codable {
    /// At most this many EM iterations (sklearn `max_iter`).
    public var maxIterations: Int
    /// EM stops when the mean log-likelihood changes by less than this (sklearn `tol`).
    public var tolerance: Double
    /// Added to every variance so none collapses to zero (sklearn `reg_covar`).
    public var regularization: Double

    public init(maxIterations: Int = 10, tolerance: Double = 1e-2, regularization: Double = 5e-4) {
        self.maxIterations = maxIterations
        self.tolerance = tolerance
        self.regularization = regularization
    }

    /// The official code's values.
    public static let paper = MixtureFitOptions()
}

/// A fitted two-component mixture of 1-D Gaussians.
///
/// Components are stored in ascending order of their means, so `means[1]` is always the
/// larger mean (the "known" component in LfOSA). `fit` follows sklearn's algorithm: k-means
/// initialisation (here the exact optimal 2-means split, which is what k-means reaches on 1-D
/// data), then EM where each iteration runs an E step, an M step, and stops when the mean
/// log-likelihood of the E step changes by less than `tolerance`.
public struct GaussianMixture1D: Sendable, Equatable, Codable {
    public var weights: [Double]
    public var means: [Double]
    public var variances: [Double]
    /// EM iterations run.
    public var iterations: Int
    /// Whether the tolerance was reached within `maxIterations`.
    public var converged: Bool

    public init(weights: [Double], means: [Double], variances: [Double], iterations: Int = 0, converged: Bool = true) {
        self.weights = weights
        self.means = means
        self.variances = variances
        self.iterations = iterations
        self.converged = converged
    }

    /// Fits two components to `values`.
    ///
    /// Returns nil for degenerate input: fewer than two samples or fewer than two distinct
    /// values (no two clusters exist; the caller must rank such groups itself).
    public static func fit(_ values: [Double], options: MixtureFitOptions = .paper) -> GaussianMixture1D? {
        let n = values.count
        guard n >= 2 else { return nil }
        let sorted = values.sorted()
        guard sorted[0] < sorted[n - 1] else { return nil }
        // k-means (k = 2) on 1-D data: the optimal split of the sorted values.
        let threshold = optimalTwoMeansThreshold(sorted)
        var resp = [[Double]](repeating: [0, 0], count: n)
        for i in 0..<n { resp[i] = values[i] > threshold ? [0, 1] : [1, 0] }
        var mixture = estimate(values, resp: resp, regularization: options.regularization)
        var lowerBound = -Double.infinity
        var converged = false
        var iterations = 0
        for iteration in 1...max(1, options.maxIterations) {
            iterations = iteration
            let previous = lowerBound
            let (meanLogLikelihood, r) = mixture.expectation(values)
            mixture = estimate(values, resp: r, regularization: options.regularization)
            lowerBound = meanLogLikelihood
            if abs(lowerBound - previous) < options.tolerance { converged = true; break }
        }
        mixture.iterations = iterations
        mixture.converged = converged
        return mixture.sortedByMean()
    }

    /// Posterior probability of component `component` for each value.
    public func posteriors(_ values: [Double], component: Int) -> [Double] {
        values.map { x in
            let l = logWeightedDensities(x)
            let m = max(l[0], l[1])
            let norm = m + log(exp(l[0] - m) + exp(l[1] - m))
            return exp(l[component] - norm)
        }
    }

    /// Posterior of the larger-mean component (LfOSA's weight w).
    public func knownPosteriors(_ values: [Double]) -> [Double] { posteriors(values, component: 1) }

    /// Log-odds log(w / (1 − w)) of the larger-mean component for each value.
    ///
    /// Monotone in the posterior w but exact where w rounds to 1 (or 0), so it orders samples
    /// whose posteriors are all 1.0 in floating point.
    public func knownLogOdds(_ values: [Double]) -> [Double] {
        values.map { x in
            let l = logWeightedDensities(x)
            return l[1] - l[0]
        }
    }

    /// Density of the mixture at `x` (for plotting the histogram screen).
    public func density(at x: Double) -> Double {
        let l = logWeightedDensities(x)
        return exp(l[0]) + exp(l[1])
    }

    func logWeightedDensities(_ x: Double) -> [Double] {
        (0..<2).map { k in
            let d = x - means[k]
            return log(weights[k]) - 0.5 * (log(2 * Double.pi * variances[k]) + d * d / variances[k])
        }
    }

    /// E step: mean log-likelihood and responsibilities.
    func expectation(_ values: [Double]) -> (Double, [[Double]]) {
        var total = 0.0
        var resp = [[Double]]()
        resp.reserveCapacity(values.count)
        for x in values {
            let l = logWeightedDensities(x)
            let m = max(l[0], l[1])
            let norm = m + log(exp(l[0] - m) + exp(l[1] - m))
            total += norm
            resp.append([exp(l[0] - norm), exp(l[1] - norm)])
        }
        return (total / Double(values.count), resp)
    }

    /// M step (sklearn `_estimate_gaussian_parameters` with the weights normalised).
    static func estimate(_ values: [Double], resp: [[Double]], regularization: Double) -> GaussianMixture1D {
        let tiny = 10 * Double.ulpOfOne
        var nk = [tiny, tiny], means = [0.0, 0.0], vars = [0.0, 0.0]
        for (x, r) in zip(values, resp) { for k in 0..<2 { nk[k] += r[k]; means[k] += r[k] * x } }
        for k in 0..<2 { means[k] /= nk[k] }
        for (x, r) in zip(values, resp) { for k in 0..<2 { let d = x - means[k]; vars[k] += r[k] * d * d } }
        for k in 0..<2 { vars[k] = vars[k] / nk[k] + regularization }
        let total = nk[0] + nk[1]
        return GaussianMixture1D(weights: nk.map { $0 / total }, means: means, variances: vars)
    }

    func sortedByMean() -> GaussianMixture1D {
        if means[0] <= means[1] { return self }
        return GaussianMixture1D(weights: weights.reversed(), means: means.reversed(), variances: variances.reversed(),
                                 iterations: iterations, converged: converged)
    }

    /// The midpoint threshold of the 2-means split of ascending `sorted` values with least
    /// within-cluster sum of squares (ties: the first split).
    static func optimalTwoMeansThreshold(_ sorted: [Double]) -> Double {
        let n = sorted.count
        var prefix = [Double](repeating: 0, count: n + 1), prefix2 = prefix
        for i in 0..<n { prefix[i + 1] = prefix[i] + sorted[i]; prefix2[i + 1] = prefix2[i] + sorted[i] * sorted[i] }
        func sse(_ lo: Int, _ hi: Int) -> Double {
            let c = Double(hi - lo), s = prefix[hi] - prefix[lo]
            return (prefix2[hi] - prefix2[lo]) - s * s / c
        }
        var best = Double.infinity, split = 1
        for k in 1..<n where sorted[k - 1] < sorted[k] {
            let cost = sse(0, k) + sse(k, n)
            if cost < best { best = cost; split = k }
        }
        return (sorted[split - 1] + sorted[split]) / 2
    }
}
