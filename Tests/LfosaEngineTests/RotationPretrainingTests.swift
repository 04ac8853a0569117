import Testing
@testable import LfosaEngine
import LfosaNumerics

/// Self-supervised rotation pretraining: it learns which way is up, is seeded, and seeds the
/// loop's round-0 networks.
struct RotationPretrainingTests {
    /// 1×8×8 images with a bright bar along the top edge at a random position, plus noise:
    /// the orientation is visible, the class is irrelevant.
    static func barImages(count: Int, seed: UInt64, height: Int = 8, width: Int = 8) -> ImageBatchSource {
        var rng = SplitMix64(seed: seed)
        var pixels: [UInt8] = []
        for _ in 0..<count {
            let start = rng.nextInt(below: width / 2), length = 2 + rng.nextInt(below: width / 2 - 1)
            for y in 0..<height {
                for x in 0..<width {
                    let lit = y < 2 && x >= start && x < start + length
                    pixels.append(UInt8((lit ? 200 : 50) + rng.nextInt(below: 40)))
                }
            }
        }
        return ImageBatchSource(channels: 1, height: height, width: width, pixels: pixels)
    }

    static func rotationAccuracy(_ net: Network, _ source: ImageBatchSource, rotations r: Int) -> Double {
        let turns = r == 4 ? [0, 1, 2, 3] : [0, 2]
        var rng = SplitMix64(seed: 0)
        let indices = (0..<source.count).flatMap { i in [Int](repeating: i, count: r) }
        var x = makeBatch(from: source, indices: indices, augmentation: .none,
                          normalization: .centered(channels: 1), rng: &rng)
        let labels = (0..<indices.count).map { $0 % r }
        rotateQuarterTurns(&x, turns: labels.map { turns[$0] })
        let logits = net.forward(x, mode: .inference)
        var right = 0
        for (row, y) in labels.enumerated() {
            let v = logits.data[row * r..<(row + 1) * r]
            if v.firstIndex(of: v.max()!)! - row * r == y { right += 1 }
        }
        return Double(right) / Double(labels.count)
    }

    @Test func learnsOrientationDeterministically() throws {
        let train = Self.barImages(count: 96, seed: 1), held = Self.barImages(count: 48, seed: 2)
        let settings = RotationPretraining(steps: 60, batchSize: 32, maxLearningRate: 0.05)
        var reports = 0
        let net = try settings.train(architecture: .referenceCNN, source: train, indices: Array(0..<96),
                                     progress: { p in reports += 1; #expect(p.role == .trunk) })
        #expect(reports > 0)
        #expect(net.classes == 4)
        let accuracy = Self.rotationAccuracy(net, held, rotations: 4)
        #expect(accuracy > 0.9, "held-out rotation accuracy \(accuracy)")
        let again = try settings.train(architecture: .referenceCNN, source: train, indices: Array(0..<96))
        #expect(again.parameters.map(\.value) == net.parameters.map(\.value))
        var other = settings
        other.seed += 1
        let different = try other.train(architecture: .referenceCNN, source: train, indices: Array(0..<96))
        #expect(different.parameters.map(\.value) != net.parameters.map(\.value))
    }

    @Test func nonSquareImagesLearnUpsideDown() throws {
        let train = Self.barImages(count: 64, seed: 3, height: 8, width: 12)
        let net = try RotationPretraining(steps: 40, batchSize: 32).train(architecture: .referenceCNN, source: train,
                                                                          indices: Array(0..<64))
        #expect(net.classes == 2)
        #expect(Self.rotationAccuracy(net, Self.barImages(count: 32, seed: 4, height: 8, width: 12), rotations: 2) > 0.9)
    }

    @Test func cancellationStopsPretraining() {
        var calls = 0
        #expect(throws: EngineError.cancelled) {
            _ = try RotationPretraining(steps: 50, batchSize: 16).train(
                architecture: .referenceCNN, source: Self.barImages(count: 16, seed: 5), indices: Array(0..<16),
                isCancelled: { calls += 1; return calls > 3 })
        }
    }

    @Test func stepsScaleWithThePoolAndClamp() {
        #expect(RotationPretraining.steps(images: 3200, epochs: 10, range: 100...3000) == 1000)
        #expect(RotationPretraining.steps(images: 100, epochs: 10, range: 100...3000) == 100)
        #expect(RotationPretraining.steps(images: 50_000, epochs: 10, range: 100...3000) == 3000)
    }

    @Test func trunkSeedsRoundZeroNetworks() throws {
        let (source, labels) = ActiveLearningLoopTests.syntheticSource(count: 64, seed: 11)
        let pretraining = RotationPretraining(steps: 5, batchSize: 16)
        let trunk = try pretraining.train(architecture: .referenceCNN, source: source, indices: Array(0..<64))
        // a learning rate of 0: training leaves the weights as initialised
        var frozen = ActiveLearningLoopTests.tinyProfile
        frozen.schedule = .oneCycle(max: 0, warmupFraction: 0.2)
        frozen.weightDecay = 0
        let initial = (0..<64).filter { labels[$0] < 2 }.prefix(8).map { LabeledSets.Item(index: $0, label: labels[$0]) }
        let loop = ActiveLearningLoop(source: source, knownClasses: 2, candidates: Array(0..<64), labeled: initial,
                                      strategy: StrategyKind.lfosa.make(), profile: frozen, seed: 1)
        loop.pretrainedTrunk = PretrainedTrunk(network: trunk, pretraining: pretraining)
        try loop.retrain()
        let convs = trunk.trunk.firstIndex { $0 is Flatten }!
        for net in [loop.detector!, loop.classifier!] {
            #expect(pretraining.transferredLayers(of: net) == convs)
            for (i, layer) in net.trunk.enumerated() where !layer.parameters.isEmpty {
                let same = zip(layer.parameters, trunk.trunk[i].parameters).allSatisfy { $0.value == $1.value }
                #expect(same == (i < convs), "layer \(i)")
            }
        }
    }
}

/// Class-balanced batches: every class gets the same share however rare, each class's samples
/// cycle fully before any repeats, and the draws are seeded.
struct BalancedSamplerTests {
    @Test func evenSharesFullCyclesSeeded() {
        let labels = [Int](repeating: 0, count: 90) + [Int](repeating: 3, count: 10) + [Int](repeating: 1, count: 20)
        var rng = SplitMix64(seed: 7)
        var sampler = BalancedSampler(labels: labels, rng: &rng)
        let draws = (0..<300).map { _ in sampler.next(rng: &rng) }
        var perClass: [Int: [Int]] = [:]
        for d in draws { perClass[labels[d], default: []].append(d) }
        #expect(perClass.mapValues(\.count) == [0: 100, 1: 100, 3: 100])
        // class 3 (10 samples): every block of 10 of its draws is all ten samples
        let rare = perClass[3]!
        for block in stride(from: 0, to: 100, by: 10) { #expect(Set(rare[block..<(block + 10)]).count == 10) }
        #expect(Set(perClass[0]!).count == 90)   // 100 draws of 90: all seen
        var rng2 = SplitMix64(seed: 7)
        var again = BalancedSampler(labels: labels, rng: &rng2)
        #expect((0..<300).map { _ in again.next(rng: &rng2) } == draws)
    }

    /// A weighted class (the detector's unknowns) takes `weight` slots of every cycle: weight 3
    /// over three classes gives it 3 of every 5 draws, still cycling through its own samples;
    /// weight 1 draws exactly as the unweighted sampler.
    @Test func weightedClassTakesItsSlotsOfEveryCycle() {
        let labels = [Int](repeating: 0, count: 90) + [Int](repeating: 3, count: 10) + [Int](repeating: 1, count: 20)
        var rng = SplitMix64(seed: 11)
        var sampler = BalancedSampler(labels: labels, rng: &rng, weighted: 3, weight: 3)
        let draws = (0..<500).map { _ in sampler.next(rng: &rng) }
        for cycle in stride(from: 0, to: 500, by: 5) {
            let classes = draws[cycle..<(cycle + 5)].map { labels[$0] }
            #expect(classes.sorted() == [0, 1, 3, 3, 3], "cycle \(cycle / 5): \(classes)")
        }
        let rare = draws.filter { labels[$0] == 3 }
        for block in stride(from: 0, to: rare.count, by: 10) { #expect(Set(rare[block..<(block + 10)]).count == 10) }
        var a = SplitMix64(seed: 5), b = SplitMix64(seed: 5)
        var plain = BalancedSampler(labels: labels, rng: &a), one = BalancedSampler(labels: labels, rng: &b, weighted: 3, weight: 1)
        #expect((0..<200).map { _ in plain.next(rng: &a) } == (0..<200).map { _ in one.next(rng: &b) })
        // a weighted label that is absent (round 0: no unknowns yet) changes nothing either
        var c = SplitMix64(seed: 5), d = SplitMix64(seed: 5)
        var plain2 = BalancedSampler(labels: labels, rng: &c), absent = BalancedSampler(labels: labels, rng: &d, weighted: 7, weight: 4)
        #expect((0..<200).map { _ in plain2.next(rng: &c) } == (0..<200).map { _ in absent.next(rng: &d) })
    }

    /// Groups within the weighted class (the query each unknown came from) share its draws
    /// evenly: two samples of a late query are drawn as often as ten of an early one, each group
    /// cycling through its own samples; one group draws exactly as no groups.
    @Test func weightedClassGroupsShareItsDraws() {
        let labels = [Int](repeating: 0, count: 30) + [Int](repeating: 2, count: 12)
        let groups = [Int](repeating: -1, count: 30) + [Int](repeating: 0, count: 10) + [5, 5]
        var rng = SplitMix64(seed: 3)
        var sampler = BalancedSampler(labels: labels, rng: &rng, weighted: 2, weight: 1, weightedGroups: groups)
        let draws = (0..<800).map { _ in sampler.next(rng: &rng) }
        let unknowns = draws.filter { labels[$0] == 2 }
        #expect(unknowns.count == 400)
        let late = unknowns.filter { groups[$0] == 5 }, early = unknowns.filter { groups[$0] == 0 }
        #expect(late.count == 200 && early.count == 200)
        #expect(Set(late).count == 2 && Set(early).count == 10)
        for block in stride(from: 0, to: 200, by: 10) { #expect(Set(early[block..<(block + 10)]).count == 10) }
        var rng2 = SplitMix64(seed: 3)
        var again = BalancedSampler(labels: labels, rng: &rng2, weighted: 2, weight: 1, weightedGroups: groups)
        #expect((0..<800).map { _ in again.next(rng: &rng2) } == draws)
        var a = SplitMix64(seed: 9), b = SplitMix64(seed: 9)
        var plain = BalancedSampler(labels: labels, rng: &a, weighted: 2, weight: 2)
        var oneGroup = BalancedSampler(labels: labels, rng: &b, weighted: 2, weight: 2,
                                       weightedGroups: [Int](repeating: 4, count: labels.count))
        #expect((0..<300).map { _ in plain.next(rng: &a) } == (0..<300).map { _ in oneGroup.next(rng: &b) })
    }
}

/// mixup's blend: every image λ·itself + (1 − λ)·its partner, taken from the unblended batch.
struct MixBatchTests {
    @Test func blendsEachImageWithItsPartner() {
        let images = 3, size = 4
        let original: [Float] = (0..<(images * size)).map { Float($0 * $0 % 7) - 2.5 }
        var data = original
        let partner = [2, 0, 1], lambda: Float = 0.3
        mixBatch(&data, images: images, partner: partner, lambda: lambda)
        for i in 0..<images {
            for k in 0..<size {
                let expected = lambda * original[i * size + k] + (1 - lambda) * original[partner[i] * size + k]
                #expect(abs(data[i * size + k] - expected) < 1e-6, "image \(i) value \(k)")
            }
        }
        var same = original
        mixBatch(&same, images: images, partner: [0, 1, 2], lambda: 0.8)   // each with itself: unchanged
        #expect(zip(same, original).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    /// CutMix pastes the box of the partner image into every channel of each image and leaves
    /// every other pixel alone; the kept fraction is the area outside the (clipped) box.
    @Test func cutMixPastesThePartnersBox() {
        let shape = [3, 2, 5, 4], plane = 20, size = 40
        let original: [Float] = (0..<120).map { Float($0) }
        var data = original
        let partner = [1, 2, 0]
        let box = CutMixBox(y0: 1, y1: 3, x0: 2, x1: 4, height: 5, width: 4)
        cutMixBatch(&data, shape: shape, partner: partner, box: box)
        for i in 0..<3 {
            for c in 0..<2 {
                for y in 0..<5 {
                    for x in 0..<4 {
                        let k = c * plane + y * 4 + x
                        let inside = (1..<3).contains(y) && (2..<4).contains(x)
                        let expected = original[(inside ? partner[i] : i) * size + k]
                        #expect(data[i * size + k] == expected, "image \(i) channel \(c) pixel (\(x), \(y))")
                    }
                }
            }
        }
        #expect(abs(box.keptFraction - 0.8) < 1e-6)   // 4 of 20 pixels pasted
        // drawn boxes: the requested area when it fits, clipped at the borders, never outside the image
        var rng = SplitMix64(seed: 7)
        var sawClipped = false, sawWhole = false
        for area in stride(from: Float(0), through: 1, by: 0.05) {
            for _ in 0..<20 {
                let b = CutMixBox(height: 32, width: 32, area: area, rng: &rng)
                #expect(b.y0 >= 0 && b.y1 <= 32 && b.x0 >= 0 && b.x1 <= 32 && b.y0 <= b.y1 && b.x0 <= b.x1)
                let side = Int((32 * area.squareRoot()).rounded())
                #expect(b.y1 - b.y0 <= side && b.x1 - b.x0 <= side)
                if b.y1 - b.y0 == side && b.x1 - b.x0 == side { sawWhole = true } else { sawClipped = true }
                #expect(b.keptFraction >= 1 - Float(side * side) / 1024 - 1e-6 && b.keptFraction <= 1)   // sides rounded to pixels
            }
        }
        #expect(sawClipped && sawWhole)
        #expect(CutMixBox(height: 32, width: 32, area: 0, rng: &rng).keptFraction == 1)
        // area 1 centred anywhere but the middle is clipped; centred at the middle it is the whole image
        #expect(CutMixBox(y0: 0, y1: 32, x0: 0, x1: 32, height: 32, width: 32).keptFraction == 0)
    }
}
