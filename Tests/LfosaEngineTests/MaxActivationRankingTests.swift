import Testing
@testable import LfosaEngine

/// Ranking of pool samples by LfOSA weight, including the degenerate-group rules.
struct MaxActivationRankingTests {
    /// Row-major logits for K = 2 known classes + unknown column 2.
    func logits(_ rows: [[Float]]) -> [Float] { rows.flatMap { $0 } }

    @Test func fittedGroupsFirstThenDegenerateThenUnknown() {
        // class 0: 6 samples with two MAV clusters; class 1: a single sample (degenerate);
        // two samples predicted unknown.
        let rows: [[Float]] = [
            [1.0, 0, 0], [1.1, 0, 0], [0.9, 0, 0],    // class 0, low MAV
            [5.0, 0, 0], [5.2, 0, 0], [4.9, 0, 0],    // class 0, high MAV
            [0, 9.0, 0],                               // class 1 alone
            [0.5, 0, 3.0], [0.0, 2.5, 3.0],            // predicted unknown
        ]
        let r = MaxActivationRanking(logits: logits(rows), columns: 3, knownClasses: 2, unknownColumn: 2, options: .paper)
        #expect(r.predictedClass == [0, 0, 0, 0, 0, 0, 1, 2, 2])
        #expect(Array(r.order.prefix(3)).sorted() == [3, 4, 5])
        #expect(Array(r.order[3..<6]).sorted() == [0, 1, 2])
        #expect(r.order[6] == 6)                 // degenerate group after every fitted sample
        #expect(Array(r.order[7...]) == [8, 7])  // unknowns last; −0.5 margin before −2.5
        for i in [3, 4, 5] { #expect(r.weight[i] > 0.99) }
        for i in [0, 1, 2] { #expect(r.weight[i] < 0.01) }
        #expect(r.weight[6] == 0 && r.weight[7] == 0 && r.weight[8] == 0)
        #expect(r.tier == [0, 0, 0, 0, 0, 0, 1, 2, 2])
        #expect(r.mixtures.count == 2)
        #expect(r.mixtures[0].mixture != nil && r.mixtures[1].mixture == nil)
        #expect(r.mixtures[1].maxActivations == [9.0])
    }

    @Test func withoutMixturesPredictedKnownSamplesAreRankedByRawMAVAcrossClasses() {
        // Same pool as above: the class-1 singleton (MAV 9) now leads, then class 0 by MAV —
        // where the posterior order would put the whole class-0 high cluster first.
        let rows: [[Float]] = [
            [1.0, 0, 0], [1.1, 0, 0], [0.9, 0, 0],
            [5.0, 0, 0], [5.2, 0, 0], [4.9, 0, 0],
            [0, 9.0, 0],
            [0.5, 0, 3.0], [0.0, 2.5, 3.0],
        ]
        let r = MaxActivationRanking(logits: logits(rows), columns: 3, knownClasses: 2, unknownColumn: 2, options: .paper,
                                     byMixture: false)
        #expect(r.order == [6, 4, 3, 5, 1, 0, 2, 8, 7])
        #expect(r.mixtures[0].mixture != nil)   // still fitted, for the screens
        #expect(r.weight[4] > 0.99 && r.weight[1] < 0.01)
        // and as a strategy: lfosa-no-gmm trains what lfosa trains
        #expect(StrategyKind.lfosaNoGMM.make().requirements == StrategyKind.lfosa.make().requirements)
    }

    @Test func allEqualGroupIsRankedByMAVAfterFittedOnes() {
        let rows: [[Float]] = [[2, 0, 0], [2, 0, 0], [0, 1, 0], [0, 7, 0], [0, 3, 0]]
        let r = MaxActivationRanking(logits: logits(rows), columns: 3, knownClasses: 2, unknownColumn: 2, options: .paper)
        #expect(r.mixtures[0].mixture == nil)   // all MAVs equal
        #expect(r.mixtures[1].mixture != nil)
        // fitted class-1 group: MAV 7 owns the narrow high component; 3 and 1 both have w ≈ 0
        // in floating point but their log-odds still order them (3 before 1)
        #expect(Array(r.order.prefix(3)) == [3, 4, 2])
        #expect(Array(r.order.suffix(2)) == [0, 1])     // degenerate group, ties in pool order
    }

    @Test func saturatedPosteriorsAreOrderedByLogOdds() throws {
        // w rounds to 1.0 for the whole high cluster; the order must still follow the exact
        // posterior log-odds, not pool order.
        let mavs: [Float] = [12, 0, 0.5, 10.2, 1, 10.6, 11.3, 10.9]
        let r = MaxActivationRanking(logits: mavs.flatMap { [$0, -50, -50] }, columns: 3, knownClasses: 2,
                                     unknownColumn: 2, options: .paper)
        let g = try #require(r.mixtures[0].mixture)
        let odds = g.knownLogOdds(mavs.map(Double.init))
        let expected = (0..<mavs.count).sorted { odds[$0] > odds[$1] }
        #expect(r.order == expected)
        #expect([0, 3, 5, 6, 7].filter { r.weight[$0] == 1 }.count >= 2)
        #expect(r.order.prefix(5).allSatisfy { [0, 3, 5, 6, 7].contains($0) })
    }

    @Test func thresholdSelectsOnlyConfidentFittedSamples() {
        let rows: [[Float]] = [[1, 0, 0], [1.2, 0, 0], [6, 0, 0], [6.1, 0, 0], [0, 0, 4]]
        let r = MaxActivationRanking(logits: logits(rows), columns: 3, knownClasses: 2, unknownColumn: 2, options: .paper)
        #expect(r.selection(batch: 10, threshold: 0.5).sorted() == [2, 3])
        #expect(r.selection(batch: 1, threshold: 0.5).count == 1)
        #expect(r.selection(batch: 10).count == 5)
    }

    @Test func withoutUnknownColumnEverySampleIsGrouped() {
        let rows: [[Float]] = [[3, 1], [1, 3], [4, 0], [0.5, 0]]
        let r = MaxActivationRanking(logits: logits(rows), columns: 2, knownClasses: 2, unknownColumn: nil, options: .paper)
        #expect(!r.tier.contains(2))
        #expect(r.predictedClass == [0, 1, 0, 0])
    }

    /// Margin scoring: the same softmax, the same predicted classes, but samples whose unknown
    /// logit is high fall behind — here the high-MAV cluster of class 0 is the one that also
    /// looks unknown, so by margin the low-MAV cluster leads.
    @Test func marginScoreRanksByTheKnownLogitsLeadOverUnknown() {
        let rows: [[Float]] = [
            [3.0, 0, -2.0], [3.1, 0, -2.1], [2.9, 0, -1.9],   // class 0: MAV ≈ 3, margin ≈ 5
            [5.0, 0, 4.0], [5.2, 0, 4.1], [4.9, 0, 3.9],      // class 0: MAV ≈ 5, margin ≈ 1
            [0.5, 0, 3.0],                                    // predicted unknown
        ]
        let raw = logits(rows)
        let shifted = LfOSAStrategy.referencedToUnknown(raw, columns: 3, unknownColumn: 2)
        #expect(shifted[2] == 0 && shifted[0] == 5.0 && shifted[9] == 1.0)   // rows now read as margins
        let byMAV = MaxActivationRanking(logits: raw, columns: 3, knownClasses: 2, unknownColumn: 2, options: .paper)
        let byMargin = MaxActivationRanking(logits: shifted, columns: 3, knownClasses: 2, unknownColumn: 2, options: .paper)
        #expect(byMAV.predictedClass == byMargin.predictedClass)
        #expect(Array(byMAV.order.prefix(3)).sorted() == [3, 4, 5])
        #expect(Array(byMargin.order.prefix(3)).sorted() == [0, 1, 2])
        #expect(byMAV.order.last == 6 && byMargin.order.last == 6)
        #expect(byMargin.maxActivation[0] == 5.0 && byMargin.maxActivation[3] == 1.0)
        // margin is the default of every LfOSA variant; mav is the paper's
        #expect((StrategyKind.lfosa.make() as? LfOSAStrategy)?.score == .margin)
        #expect((StrategyKind.lfosaDichotomy.make(score: .mav) as? LfOSAStrategy)?.score == .mav)
        #expect(LfOSAStrategy().score == .margin)
    }
}
