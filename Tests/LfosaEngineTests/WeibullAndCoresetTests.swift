import Foundation
import Testing
@testable import LfosaEngine
import LfosaNumerics

/// Weibull MLE, OpenMax recalibration and greedy k-center.
struct WeibullAndCoresetTests {
    @Test func weibullFitRecoversShapeAndScale() throws {
        var rng = SplitMix64(seed: 9)
        // inverse-CDF samples of Weibull(k = 2, λ = 3) shifted by +1
        let x = (0..<4000).map { _ in 1 + 3 * pow(-log(1 - rng.nextUnitDouble()), 1 / 2.0) }
        let fit = try #require(WeibullFit.fit(x))
        // the fit places its shift just below the minimum, so the shape/scale are close, not exact
        #expect(abs(fit.cdf(1 + 3) - (1 - exp(-1))) < 0.03)
        #expect(fit.cdf(fit.shift) == 0)
        #expect(fit.cdf(100) > 0.999)
        #expect(WeibullFit.fit([2, 2]) == nil)
    }

    @Test func openMaxMovesFarSamplesToUnknown() {
        // two classes with logits near (5, 0) and (0, 5)
        var logits: [Float] = [], labels: [Int] = []
        var rng = SplitMix64(seed: 3)
        for i in 0..<60 {
            let c = i % 2
            let a = 5 + rng.nextNormal() * 0.5, b = rng.nextNormal() * 0.5
            logits += c == 0 ? [a, b] : [b, a]
            labels.append(c)
        }
        let model = OpenMaxStrategy.fitModel(logits: logits, labels: labels, classes: 2, tailSize: 20)
        let near = OpenMaxStrategy.probabilities([5, 0], model: model)
        let far = OpenMaxStrategy.probabilities([25, 20], model: model)
        #expect(near[0] > 0.9)
        #expect(far[2] > far[0] && far[2] > far[1])
    }

    @Test func kCenterGreedyPicksFarthestPoints() {
        // 1-D points; the existing centre is at 0
        let features: [Float] = [0.1, 10, 5, 9.9, 2]
        let picked = CoresetStrategy.kCenterGreedy(features: features, width: 1, centres: [0], count: 3)
        #expect(picked == [1, 2, 4])
        #expect(CoresetStrategy.kCenterGreedy(features: features, width: 1, centres: [], count: 2) == [0, 1])
    }
}
