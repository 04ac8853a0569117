import Testing
@testable import LfosaNumerics

/// `rotateQuarterTurns` and `Network.copyTrunkWeights`, the pieces self-supervised pretraining uses.
struct QuarterTurnTests {
    @Test func quarterTurnIsCounterClockwise() {
        // one 2-channel 2×2 image: [[1, 2], [3, 4]] and its negation
        var t = Tensor(shape: [1, 2, 2, 2], data: [1, 2, 3, 4, -1, -2, -3, -4])
        rotateQuarterTurns(&t, turns: [1])
        #expect(t.data == [2, 4, 1, 3, -2, -4, -1, -3])
        var half = Tensor(shape: [1, 1, 2, 2], data: [1, 2, 3, 4])
        rotateQuarterTurns(&half, turns: [2])
        #expect(half.data == [4, 3, 2, 1])
        var three = Tensor(shape: [1, 1, 2, 2], data: [1, 2, 3, 4])
        rotateQuarterTurns(&three, turns: [3])
        #expect(three.data == [3, 1, 4, 2])
    }

    @Test func turnsComposeAndArePerImage() {
        var rng = SplitMix64(seed: 3)
        let original = Tensor(shape: [3, 2, 5, 5], data: (0..<150).map { _ in rng.nextUnitFloat() })
        var t = original
        rotateQuarterTurns(&t, turns: [1, 0, 2])
        #expect(Array(t.data[50..<100]) == Array(original.data[50..<100]))   // image 1 untouched
        #expect(t.data != original.data)
        rotateQuarterTurns(&t, turns: [3, 0, 2])
        #expect(t == original)
        var four = original
        for _ in 0..<4 { rotateQuarterTurns(&four, turns: [1, 1, 1]) }
        #expect(four == original)
        // non-square images take half turns
        let wide = Tensor(shape: [1, 1, 2, 3], data: [1, 2, 3, 4, 5, 6])
        var w = wide
        rotateQuarterTurns(&w, turns: [2])
        #expect(w.data == [6, 5, 4, 3, 2, 1])
    }

    @Test func copyTrunkWeightsCopiesOnlyTheTrunkPrefix() {
        let a = Network.make(.referenceCNN, inputShape: [3, 8, 8], classes: 4, seed: 1)
        let b = Network.make(.referenceCNN, inputShape: [3, 8, 8], classes: 2, dropout: 0.3, seed: 2)
        let convPart = b.trunk.firstIndex { $0 is Flatten }!
        let before = b.parameters.map(\.value)
        b.copyTrunkWeights(from: a, layers: convPart)
        for (i, (layer, other)) in zip(b.trunk, a.trunk).enumerated() {
            for (p, q) in zip(layer.parameters, other.parameters) {
                if i < convPart { #expect(p.value == q.value) } else { #expect(p.value != q.value) }
            }
        }
        #expect(b.head.parameters.map(\.value) == Array(before.suffix(b.head.parameters.count)))
        b.copyTrunkWeights(from: a)
        for (p, q) in zip(b.trunk.flatMap(\.parameters), a.trunk.flatMap(\.parameters)) { #expect(p.value == q.value) }
    }
}
