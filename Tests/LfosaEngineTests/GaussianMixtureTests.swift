import Testing
@testable import LfosaEngine
import LfosaNumerics

/// GMM fits against sklearn `GaussianMixture(n_components=2, max_iter=10, tol=1e-2,
/// reg_covar=5e-4, random_state=0)` on fixed samples (values recorded from sklearn 1.x,
/// Debian python3-sklearn), and against mixtures with known parameters.
struct GaussianMixtureTests {
    struct Reference {
        var x: [Double]
        var means: [Double]       // ascending
        var variances: [Double]
        var weights: [Double]
        var iterations: Int
        var posteriors: [Double]  // of the larger-mean component
    }

    static let separated = Reference(
        x: [2.812, 1.694, 1.736, 1.464, 2.433, 0.849, 2.872, 1.619, 2.16, 1.875, 2.731, 0.97, 7.678, 7.616, 9.134, 6.9, 7.828, 7.122, 8.042, 8.583, 6.899, 9.145, 8.902, 8.502, 8.901, 7.316, 7.877, 7.064, 7.732, 8.53],
        means: [1.9345833333053108, 7.987277777668937], variances: [0.4265784097126179, 0.5559857567222126],
        weights: [0.3999999999873589, 0.600000000012641], iterations: 2,
        posteriors: [Double](repeating: 0, count: 12) + [Double](repeating: 1, count: 18))

    static let overlapping = Reference(
        x: [2.583, 2.944, 0.864, 4.64, 1.207, 2.158, 3.503, 1.755, 1.942, 2.091, 3.551, 5.292, 3.042, 1.882, 3.539, 3.785, 4.477, 5.91, 3.603, 4.511, 3.446, 4.312, 4.808, 3.313, 4.093, 4.217, 3.735, 3.075, 2.795, 4.316],
        means: [2.224366568780976, 4.039455101237558], variances: [0.6571582744367526, 0.6311996492535504],
        weights: [0.36352043225748737, 0.6364795677425126], iterations: 3,
        posteriors: [0.268506, 0.505926, 0.002474, 0.991289, 0.006777, 0.097928, 0.831490, 0.032733, 0.054995, 0.082145, 0.849456, 0.998495, 0.574638, 0.046634, 0.845119, 0.915451, 0.986473, 0.999710, 0.867090, 0.987659, 0.807954, 0.978905, 0.994465, 0.743440, 0.962121, 0.972783, 0.904055, 0.597239, 0.401613, 0.979130])

    static let skewed = Reference(
        x: [-0.463, -0.869, -0.971, -1.559, -1.083, -1.106, -1.025, -1.188, -1.013, -1.143, -1.394, -0.735, -0.736, -0.487, -0.985, -1.121, -1.164, -1.464, -0.705, -1.33, -1.356, -1.062, -0.554, -0.929, -1.307, 0.93, 2.0, 1.372, 0.885, 1.316],
        means: [-1.029962613981518, 1.3005569760341071], variances: [0.08494773556620097, 0.16148572236146605],
        weights: [0.8333293217906053, 0.1666706782093948], iterations: 2,
        posteriors: [0.000063, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.000001, 0.000001, 0.000042, 0, 0, 0, 0, 0.000001, 0, 0, 0, 0.000013, 0, 0, 1, 1, 1, 1, 1])

    @Test(arguments: [("separated", separated), ("overlapping", overlapping), ("skewed", skewed)])
    func matchesSklearn(_ named: (String, Reference)) throws {
        let ref = named.1
        let g = try #require(GaussianMixture1D.fit(ref.x))
        for k in 0..<2 {
            #expect(abs(g.means[k] - ref.means[k]) < 1e-6, "\(named.0) mean \(k): \(g.means[k]) vs \(ref.means[k])")
            #expect(abs(g.variances[k] - ref.variances[k]) < 1e-6, "\(named.0) variance \(k)")
            #expect(abs(g.weights[k] - ref.weights[k]) < 1e-6, "\(named.0) weight \(k)")
        }
        #expect(g.iterations == ref.iterations)
        #expect(g.converged)
        let post = g.knownPosteriors(ref.x)
        for (p, r) in zip(post, ref.posteriors) { #expect(abs(p - r) < 1e-5, "\(named.0) posterior \(p) vs \(r)") }
    }

    @Test func recoversKnownParameters() throws {
        var rng = SplitMix64(seed: 42)
        var x: [Double] = []
        for _ in 0..<3000 { x.append(Double(rng.nextNormal()) * 0.5 - 1) }     // 30 %: N(−1, 0.25)
        for _ in 0..<7000 { x.append(Double(rng.nextNormal()) * 1.0 + 4) }     // 70 %: N(4, 1)
        let g = try #require(GaussianMixture1D.fit(x, options: MixtureFitOptions(maxIterations: 100, tolerance: 1e-6)))
        #expect(abs(g.means[0] + 1) < 0.05 && abs(g.means[1] - 4) < 0.05)
        #expect(abs(g.variances[0] - 0.25) < 0.03 && abs(g.variances[1] - 1) < 0.06)
        #expect(abs(g.weights[0] - 0.3) < 0.01)
        // the larger-mean component owns points far right, not points far left
        #expect(g.knownPosteriors([6])[0] > 0.999 && g.knownPosteriors([-2])[0] < 0.001)
    }

    @Test func degenerateInputsAreRejected() {
        #expect(GaussianMixture1D.fit([]) == nil)
        #expect(GaussianMixture1D.fit([3.5]) == nil)
        #expect(GaussianMixture1D.fit([2, 2, 2, 2]) == nil)
        // two distinct values are enough for two components
        let g = GaussianMixture1D.fit([1, 1, 5])
        #expect(g != nil)
        #expect(g.map { abs($0.means[1] - 5) < 1e-6 } == true)
    }

    @Test func twoMeansSplitIsOptimal() {
        // {0, 1, 2} | {10}: the best split is after 2 (SSE 2 vs alternatives)
        #expect(GaussianMixture1D.optimalTwoMeansThreshold([0, 1, 2, 10]) == 6)
        #expect(GaussianMixture1D.optimalTwoMeansThreshold([0, 9, 10, 11]) == 4.5)
    }
}
