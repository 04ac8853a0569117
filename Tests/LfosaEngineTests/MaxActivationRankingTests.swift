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

    @Test func allEqualGroupIsRankedByMAVAfterFittedOnes() {
        let rows: [[Float]] = [[2, 0, 0], [2, 0, 0], [0, 1, 0], [0, 7, 0], [0, 3, 0]]
        let r = MaxActivationRanking(logits: logits(rows), columns: 3, knownClasses: 2, unknownColumn: 2, options: .paper)
        #expect(r.mixtures[0].mixture == nil)   // all MAVs equal
        #expect(r.mixtures[1].mixture != nil)
        #expect(r.order[0] == 3)                         // fitted class-1 group by w (MAV 7 owns the
        #expect(Array(r.order[1..<3]).sorted() == [2, 4])  // high component; 1 and 3 underflow to w = 0)
        #expect(Array(r.order.suffix(2)) == [0, 1])     // degenerate group, ties in pool order
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
}
