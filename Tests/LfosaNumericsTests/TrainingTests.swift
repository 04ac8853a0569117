import Dispatch
import Testing
@testable import LfosaNumerics

/// Two Gaussian blobs of 3×8×8 "images": class 0 bright top half, class 1 bright bottom half.
func toyImages(count: Int, seed: UInt64) -> (ImageBatchSource, [Int]) {
    var rng = SplitMix64(seed: seed)
    var pixels = [UInt8](repeating: 0, count: count * 3 * 64)
    var labels = [Int]()
    for i in 0..<count {
        let y = i % 2
        labels.append(y)
        for c in 0..<3 {
            for r in 0..<8 {
                for col in 0..<8 {
                    let bright = (r < 4) == (y == 0)
                    let base: Float = bright ? 170 : 70
                    let v = base + rng.nextNormal() * 30
                    pixels[i * 192 + c * 64 + r * 8 + col] = UInt8(max(0, min(255, v)))
                }
            }
        }
    }
    return (ImageBatchSource(channels: 3, height: 8, width: 8, pixels: pixels), labels)
}

func trainToy(seed: UInt64, epochs: Int = 10, precision: MatmulPrecision = .float32) -> (Network, accuracy: Double) {
    let (src, labels) = toyImages(count: 256, seed: 42)
    let net = Network.make(.referenceCNN, inputShape: [3, 8, 8], classes: 2, seed: seed)
    net.matmulPrecision = precision
    var rng = SplitMix64(seed: seed &+ 1)
    let sgd = SGD(learningRate: 0.02)
    let norm = Normalization.centered(channels: 3)
    for _ in 0..<epochs {
        var order = Array(0..<256)
        seededShuffle(&order, using: &rng)
        for b in stride(from: 0, to: 256, by: 32) {
            let idx = Array(order[b..<(b + 32)])
            let x = makeBatch(from: src, indices: idx, augmentation: .cropFlip, normalization: norm, rng: &rng)
            net.zeroGradients()
            let logits = net.forward(x, mode: .training)
            let (_, g) = softmaxCrossEntropy(logits: logits, labels: idx.map { labels[$0] },
                                             temperatures: [Float](repeating: 0.5, count: 32))
            net.backward(g)
            sgd.step(net.parameters)
        }
    }
    let (testSrc, testLabels) = toyImages(count: 128, seed: 7)
    let x = makeBatch(from: testSrc, indices: Array(0..<128), augmentation: .none, normalization: norm, rng: &rng)
    let logits = net.forward(x, mode: .inference)
    var correct = 0
    for i in 0..<128 {
        let row = logits.data[(i * 2)..<(i * 2 + 2)]
        if (row.first! > row.last! ? 0 : 1) == testLabels[i] { correct += 1 }
    }
    return (net, Double(correct) / 128)
}

@Suite("Training")
struct TrainingTests {
    @Test func tinyNetworkLearnsSeparableProblem() {
        let (_, accuracy) = trainToy(seed: 5)
        #expect(accuracy >= 0.98)
    }

    @Test func sameSeedGivesIdenticalWeights() {
        let (a, _) = trainToy(seed: 9, epochs: 1)
        let (b, _) = trainToy(seed: 9, epochs: 1)
        let (c, _) = trainToy(seed: 10, epochs: 1)
        #expect(a.parameters.map(\.value) == b.parameters.map(\.value))
        #expect(a.parameters.map(\.value) != c.parameters.map(\.value))
    }

    /// Results must not depend on what else the process computes at the same time (OpenBLAS's
    /// results depend on its thread count, which is process-wide: it stays fixed).
    @Test func concurrentTrainingDoesNotChangeResults() {
        let (alone, _) = trainToy(seed: 9, epochs: 2)
        let group = DispatchGroup()
        nonisolated(unsafe) var sideAccuracy = 0.0
        DispatchQueue.global().async(group: group) { sideAccuracy = trainToy(seed: 10, epochs: 4).accuracy }
        let (together, _) = trainToy(seed: 9, epochs: 2)
        group.wait()
        #expect(sideAccuracy > 0)
        let same = alone.parameters.map(\.value) == together.parameters.map(\.value)
        #expect(same, "weights differ when another training runs concurrently")
    }

    @Test func batchNormTrainVersusEval() {
        let bn = BatchNorm(name: "bn", channels: 2, momentum: 0.5)
        let x = Tensor(shape: [2, 4, 1, 1], data: [1, 2, 3, 4, 10, 10, 10, 14])
        let y = bn.forward(x, mode: .training)
        // training output: per-channel zero mean, unit (biased) variance
        let c0 = Array(y.data[0..<4])
        #expect(abs(c0.reduce(0, +)) < 1e-5)
        #expect(abs(c0.map { $0 * $0 }.reduce(0, +) / 4 - 1) < 1e-3)
        // running stats: momentum 0.5 from (0, 1); unbiased variance of [1,2,3,4] = 5/3
        #expect(abs(bn.runningMean.value[0] - 1.25) < 1e-5)
        #expect(abs(bn.runningVariance.value[0] - (0.5 + 0.5 * 5.0 / 3.0)) < 1e-5)
        let e = bn.forward(x, mode: .inference)
        let expected = (1 - 1.25) / (bn.runningVariance.value[0] + 1e-5).squareRoot()
        #expect(abs(e.data[0] - expected) < 1e-5)
        #expect(e.data != y.data)
    }

    @Test func mcDropoutVariesButInferenceDoesNot() {
        let net = Network.make(.referenceCNN, inputShape: [3, 8, 8], classes: 3, dropout: 0.5, seed: 1)
        let x = randomTensor([2, 3, 8, 8], seed: 2)
        let a = net.forward(x, mode: .inference), b = net.forward(x, mode: .inference)
        let c = net.forward(x, mode: .inferenceWithDropout), d = net.forward(x, mode: .inferenceWithDropout)
        #expect(a == b)
        #expect(c != d)
    }

    @Test func featuresArePenultimate() {
        let net = Network.make(.compactCNN, inputShape: [1, 8, 8], classes: 4, seed: 3)
        let (logits, features) = net.forwardWithFeatures(randomTensor([5, 1, 8, 8], seed: 4), mode: .inference)
        #expect(logits.shape == [5, 4])
        #expect(features.shape == [5, 256])
    }

    @Test func resnet18Shapes() {
        let net = Network.make(.resnet18, inputShape: [3, 8, 8], classes: 3, seed: 1)
        #expect(net.parameterCount > 11_000_000)
        #expect(net.forward(randomTensor([2, 3, 8, 8], seed: 1), mode: .inference).shape == [2, 3])
    }

    @Test func sgdMatchesPyTorchUpdateRule() {
        let p = Parameter(name: "w", shape: [1], value: [1])
        p.gradient = [0.5]
        let sgd = SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        sgd.step([p])   // g = 0.5 + 0.01 = 0.51; v = 0.51; w = 1 - 0.051
        #expect(abs(p.value[0] - 0.949) < 1e-6)
        sgd.step([p])   // g = 0.5 + 0.00949; v = 0.9*0.51 + 0.50949
        let v = 0.9 * 0.51 + 0.50949
        #expect(abs(p.value[0] - Float(0.949 - 0.1 * v)) < 1e-5)
    }

    @Test func schedules() {
        let step = LearningRateSchedule.step(base: 0.01, every: 20, gamma: 0.5)
        #expect(step.rate(step: 0, totalSteps: 1000, stepsPerEpoch: 10) == 0.01)
        #expect(abs(step.rate(step: 200, totalSteps: 1000, stepsPerEpoch: 10) - 0.005) < 1e-9)
        #expect(abs(step.rate(step: 450, totalSteps: 1000, stepsPerEpoch: 10) - 0.0025) < 1e-9)
        let cos = LearningRateSchedule.cosine(base: 0.1)
        #expect(abs(cos.rate(step: 50, totalSteps: 100, stepsPerEpoch: 1) - 0.05) < 1e-6)
        let one = LearningRateSchedule.oneCycle(max: 0.1, warmupFraction: 0.3)
        #expect(abs(one.rate(step: 30, totalSteps: 100, stepsPerEpoch: 1) - 0.1) < 1e-6)
        #expect(one.rate(step: 0, totalSteps: 100, stepsPerEpoch: 1) < 0.005)
        #expect(one.rate(step: 100, totalSteps: 100, stepsPerEpoch: 1) < 1e-4)
        // the peak moves, the shape stays
        #expect(one.withPeak(0.2) == .oneCycle(max: 0.2, warmupFraction: 0.3))
        #expect(step.withPeak(0.1) == .step(base: 0.1, every: 20, gamma: 0.5))
        #expect(cos.withPeak(0.3) == .cosine(base: 0.3))
        #expect(LearningRateSchedule.constant(0.1).withPeak(0.4) == .constant(0.4))
    }
}

@Suite("Augmentation")
struct AugmentationTests {
    @Test func identityNormalisesOnly() {
        let src = ImageBatchSource(channels: 1, height: 2, width: 2, pixels: [0, 255, 128, 64])
        var rng = SplitMix64(seed: 1)
        let x = makeBatch(from: src, indices: [0], augmentation: .none,
                          normalization: Normalization(mean: [0], std: [1]), rng: &rng)
        #expect(x.data.map { ($0 * 255).rounded() } == [0, 255, 128, 64])
    }

    @Test func seededAndVaried() {
        let (src, _) = toyImages(count: 8, seed: 1)
        var r1 = SplitMix64(seed: 3), r2 = SplitMix64(seed: 3)
        let norm = Normalization.centered(channels: 3)
        let a = makeBatch(from: src, indices: Array(0..<8), augmentation: .paper, normalization: norm, rng: &r1)
        let b = makeBatch(from: src, indices: Array(0..<8), augmentation: .paper, normalization: norm, rng: &r2)
        let plain = makeBatch(from: src, indices: Array(0..<8), augmentation: .none, normalization: norm, rng: &r2)
        #expect(a == b)
        #expect(a != plain)
    }

    @Test func horizontalFlipMirrors() {
        let src = ImageBatchSource(channels: 1, height: 1, width: 3, pixels: [10, 20, 30])
        let flipOnly = Augmentation(cropPadding: 0, horizontalFlip: true, maxRotationDegrees: 0)
        var seen = Set<[Float]>()
        var rng = SplitMix64(seed: 5)
        for _ in 0..<20 {
            let x = makeBatch(from: src, indices: [0], augmentation: flipOnly,
                              normalization: Normalization(mean: [0], std: [1]), rng: &rng)
            seen.insert(x.data.map { ($0 * 255).rounded() })
        }
        #expect(seen == [[10, 20, 30], [30, 20, 10]])
    }

    @Test func cutoutClearsOneClippedSquareInEveryChannel() {
        // A constant image: after normalisation every pixel is 1 except the cutout square (0).
        let h = 12, w = 10, side = 6
        let src = ImageBatchSource(channels: 2, height: h, width: w, pixels: [UInt8](repeating: 255, count: 2 * h * w * 3))
        let cut = Augmentation(cropPadding: 0, horizontalFlip: false, maxRotationDegrees: 0, cutout: side)
        var rng = SplitMix64(seed: 9)
        var sides = Set<Int>()
        for _ in 0..<40 {
            let x = makeBatch(from: src, indices: [0, 1, 2], augmentation: cut, normalization: Normalization(mean: [0, 0], std: [1, 1]), rng: &rng)
            for n in 0..<3 {
                var boxes: [[Int]] = []
                for ch in 0..<2 {
                    var xs = Set<Int>(), ys = Set<Int>(), zeros = 0
                    for y in 0..<h { for xx in 0..<w where x.data[((n * 2 + ch) * h + y) * w + xx] == 0 { xs.insert(xx); ys.insert(y); zeros += 1 } }
                    for y in 0..<h { for xx in 0..<w { #expect(x.data[((n * 2 + ch) * h + y) * w + xx] == (xs.contains(xx) && ys.contains(y) ? 0 : 1)) } }
                    // one axis-aligned rectangle, at most side × side, at least half of it (centre inside)
                    #expect(zeros == xs.count * ys.count)
                    #expect(xs.count <= side && ys.count <= side && xs.count >= side / 2 && ys.count >= side / 2)
                    #expect(xs.max()! - xs.min()! + 1 == xs.count && ys.max()! - ys.min()! + 1 == ys.count)
                    boxes.append([xs.min()!, xs.max()!, ys.min()!, ys.max()!])
                    sides.insert(xs.count)
                }
                #expect(boxes[0] == boxes[1])
            }
        }
        #expect(sides.contains(side) && sides.count > 1)   // full squares inside, clipped ones at the borders
    }
}

@Suite("Weight archive")
struct WeightArchiveTests {
    @Test func roundTrip() throws {
        let a = Network.make(.referenceCNN, inputShape: [3, 8, 8], classes: 3, seed: 1)
        let b = Network.make(.referenceCNN, inputShape: [3, 8, 8], classes: 3, seed: 2)
        (a.buffers[0].value[0]) = 0.123
        let bytes = WeightArchive(network: a, metadata: ["classes": "cat,dog,bird"]).encoded()
        let archive = try WeightArchive(decoding: bytes)
        #expect(archive.metadata["classes"] == "cat,dog,bird")
        try archive.load(into: b)
        #expect(a.parameters.map(\.value) == b.parameters.map(\.value))
        #expect(a.buffers.map(\.value) == b.buffers.map(\.value))
    }

    @Test func corruptedTruncatedForeignAndMismatchedAreRejected() throws {
        let a = Network.make(.referenceCNN, inputShape: [3, 8, 8], classes: 3, seed: 1)
        let bytes = WeightArchive(network: a).encoded()
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x40
        #expect(throws: WeightArchiveError.checksumMismatch) { try WeightArchive(decoding: flipped) }
        #expect(throws: WeightArchiveError.truncated) { try WeightArchive(decoding: Array(bytes[0..<(bytes.count / 3)])) }
        #expect(throws: WeightArchiveError.notAWeightFile) { try WeightArchive(decoding: Array("PNG\r\n hello".utf8)) }
        #expect(throws: WeightArchiveError.notAWeightFile) { try WeightArchive(decoding: []) }
        var newer = bytes
        newer[8] = 9
        #expect(throws: WeightArchiveError.newerVersion(9)) { try WeightArchive(decoding: newer) }
        let other = Network.make(.referenceCNN, inputShape: [3, 8, 8], classes: 4, seed: 1)
        let decoded = try WeightArchive(decoding: bytes)
        #expect(throws: WeightArchiveError.self) { try decoded.load(into: other) }
    }
}

@Suite("Pooling fast path")
struct PoolingTests {
    /// The reference CNN pools before its ReLU: the same function and gradients as ReLU then pool.
    @Test func poolThenReLUEqualsReLUThenPool() {
        let x = randomTensor([3, 2, 8, 8], seed: 21)
        let g = randomTensor([3, 2, 4, 4], seed: 22)
        let (reluA, poolA) = (ReLU(), MaxPool(kernel: 2))
        let (poolB, reluB) = (MaxPool(kernel: 2), ReLU())
        let yA = poolA.forward(reluA.forward(x, mode: .training), mode: .training)
        let yB = reluB.forward(poolB.forward(x, mode: .training), mode: .training)
        #expect(yA == yB)
        let dA = reluA.backward(poolA.backward(g))
        let dB = poolB.backward(reluB.backward(g))
        #expect(dA == dB)
        #expect(dA.data.contains { $0 != 0 })
    }

    /// Ties go to the first maximum in row-major order (PyTorch's choice), in the SIMD path too.
    @Test func tiesGoToFirstMaximum() {
        let w = 16
        var x = Tensor(shape: [1, 1, 2, w])
        for i in 0..<(2 * w) { x.data[i] = 1 }   // every window is a four-way tie
        let pool = MaxPool(kernel: 2)
        let y = pool.forward(x, mode: .training)
        #expect(y.data == [Float](repeating: 1, count: 8))
        let dx = pool.backward(Tensor(shape: y.shape, repeating: 1))
        for ox in 0..<8 {
            #expect(dx.data[2 * ox] == 1 && dx.data[2 * ox + 1] == 0 && dx.data[w + 2 * ox] == 0)
        }
    }
}

@Suite("Inference fusion")
struct InferenceFusionTests {
    /// The network's fused batch-norm + ReLU inference path equals running the layers one by one.
    @Test func fusedInferenceEqualsLayerByLayer() {
        let net = Network.make(.compactCNN, inputShape: [3, 8, 8], classes: 3, seed: 4)
        // give batch norm non-trivial running statistics
        _ = net.forward(randomTensor([6, 3, 8, 8], seed: 5, scale: 3), mode: .training)
        let x = randomTensor([4, 3, 8, 8], seed: 6)
        var h = x
        for layer in net.trunk { h = layer.forward(h, mode: .inference) }
        let reference = net.head.forward(h, mode: .inference)
        let fused = net.forwardWithFeatures(x, mode: .inference)
        #expect(zip(fused.features.data, h.data).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(zip(fused.logits.data, reference.data).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    /// The reference CNN's batch norm + 2×2 max-pool + ReLU, fused into one pass at inference,
    /// equals the layers one by one — including a channel with a negative batch-norm scale,
    /// where pooling must see the affine's output (max of −x is not −max of x).
    @Test func fusedBatchNormPoolReLUEqualsLayerByLayer() {
        let net = Network.make(.referenceCNN, inputShape: [3, 32, 32], classes: 3, seed: 4)
        _ = net.forward(randomTensor([6, 3, 32, 32], seed: 5, scale: 3), mode: .training)
        for case let bn as BatchNorm in net.trunk { bn.gamma.value[0] = -1.5 }
        let x = randomTensor([5, 3, 32, 32], seed: 6)
        var h = x
        for layer in net.trunk { h = layer.forward(h, mode: .inference) }
        let reference = net.head.forward(h, mode: .inference)
        let fused = net.forwardWithFeatures(x, mode: .inference)
        #expect(fused.features.shape == h.shape)
        #expect(zip(fused.features.data, h.data).allSatisfy { abs($0 - $1) < 1e-4 })
        #expect(zip(fused.logits.data, reference.data).allSatisfy { abs($0 - $1) < 1e-4 })
    }
}

@Suite("Convolution against a direct loop")
struct DirectConvolutionTests {
    /// y[co, n, oy, ox] = Σ w[co, ci, i, j] · x[ci, n, oy·s − p + i, ox·s − p + j] (zero outside).
    static func direct(_ x: Tensor, _ conv: Conv2D) -> [Float] {
        let cin = x.shape[0], n = x.shape[1], h = x.shape[2], w = x.shape[3]
        let k = conv.kernelHeight, s = conv.stride, p = conv.padding
        let ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1
        var y = [Float](repeating: 0, count: conv.outputChannels * n * ho * wo)
        for co in 0..<conv.outputChannels { for ni in 0..<n { for oy in 0..<ho { for ox in 0..<wo {
            var acc: Float = 0
            for ci in 0..<cin { for i in 0..<k { for j in 0..<k {
                let iy = oy * s - p + i, ix = ox * s - p + j
                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                acc += conv.weight.value[((co * cin + ci) * k + i) * k + j] * x.data[((ci * n + ni) * h + iy) * w + ix]
            } } }
            y[((co * n + ni) * ho + oy) * wo + ox] = acc
        } } } }
        return y
    }

    /// Includes "same" convolutions (the shifted-plane unfolding) on planes smaller than the
    /// kernel, one-row and one-column planes, and strided or unpadded ones (the general path).
    @Test(arguments: [(3, 1, 1, 5, 7), (3, 1, 1, 1, 1), (3, 1, 1, 2, 2), (3, 1, 1, 1, 6), (3, 1, 1, 6, 1),
                      (5, 1, 2, 3, 2), (5, 1, 2, 8, 9), (3, 2, 1, 7, 6), (3, 1, 0, 6, 6), (7, 1, 3, 2, 3)])
    func matchesDirectConvolution(kernel: Int, stride: Int, padding: Int, height: Int, width: Int) {
        var rng = SplitMix64(seed: 40)
        let conv = Conv2D(name: "c", inputChannels: 3, outputChannels: 4, kernel: kernel, stride: stride,
                          padding: padding, rng: &rng)
        conv.imagesPerChunkOverride = 1   // several chunks, several workers
        let x = randomTensor([3, 3, height, width], seed: 41)
        let y = conv.forward(x, mode: .inference)
        let expected = Self.direct(x, conv)
        #expect(y.count == expected.count)
        #expect(zip(y.data, expected).allSatisfy { abs($0 - $1) < 1e-4 })
    }
}

@Suite("Training fusion")
struct TrainingFusionTests {
    /// Batch norm + max-pool + ReLU fused in training gives the layers' outputs, gradients and
    /// running statistics — with a negative batch-norm scale, and odd map sizes (floor pooling,
    /// so a row and a column get no gradient through the pool but still through the statistics).
    @Test(arguments: [32, 13])
    func fusedTrainingEqualsLayerByLayer(size: Int) {
        func make() -> Network {
            let net = Network.make(.referenceCNN, inputShape: [3, size, size], classes: 4, seed: 9)
            for case let bn as BatchNorm in net.trunk { bn.gamma.value[1] = -0.7; bn.beta.value[2] = 0.3 }
            return net
        }
        let fused = make(), plain = make()
        plain.fusesBatchNormPooling = false
        let x = randomTensor([6, 3, size, size], seed: 10)
        let labels = [0, 1, 2, 3, 1, 2]
        let temps = [Float](repeating: 0.5, count: 6)
        for net in [fused, plain] {
            net.zeroGradients()
            let logits = net.forward(x, mode: .training)
            let (_, grad) = softmaxCrossEntropy(logits: logits, labels: labels, temperatures: temps)
            net.backward(grad)
        }
        let lf = fused.forward(x, mode: .inference), lp = plain.forward(x, mode: .inference)
        #expect(zip(lf.data, lp.data).allSatisfy { abs($0 - $1) < 1e-4 })
        for (a, b) in zip(fused.parameters, plain.parameters) {
            let scale = max(1e-3, b.gradient.map { abs($0) }.max() ?? 0)
            let worst = zip(a.gradient, b.gradient).map { abs($0 - $1) }.max() ?? 0
            #expect(worst / scale < 1e-3, "\(a.name): \(worst) against \(scale)")
            #expect(a.gradient.contains { $0 != 0 }, "\(a.name) got no gradient")
        }
        for (a, b) in zip(fused.buffers, plain.buffers) {
            #expect(zip(a.value, b.value).allSatisfy { abs($0 - $1) < 1e-5 }, "\(a.name)")
        }
    }

    /// The fused input gradient (the first conv's input needs none, so check a fused block
    /// directly, after a convolution) matches the layers one by one.
    @Test func fusedInputGradientEqualsLayerByLayer() {
        let x = randomTensor([5, 3, 10, 12], seed: 11, scale: 2)
        let g = randomTensor([5, 3, 5, 6], seed: 12)
        let fusedBN = BatchNorm(name: "a", channels: 5), bn = BatchNorm(name: "b", channels: 5)
        for layer in [fusedBN, bn] { layer.gamma.value[0] = -1.2; layer.beta.value[4] = -0.4 }
        let pool = MaxPool(kernel: 2), relu = ReLU()
        let yFused = fusedBN.forwardTrainingPooled(x, relu: true)
        let y = relu.forward(pool.forward(bn.forward(x, mode: .training), mode: .training), mode: .training)
        #expect(yFused.shape == y.shape)
        #expect(zip(yFused.data, y.data).allSatisfy { abs($0 - $1) < 1e-5 })
        let dFused = fusedBN.backwardPooled(g)
        let d = bn.backward(pool.backward(relu.backward(g)))
        #expect(dFused.shape == d.shape)
        #expect(zip(dFused.data, d.data).allSatisfy { abs($0 - $1) < 1e-4 })
        #expect(zip(fusedBN.gamma.gradient, bn.gamma.gradient).allSatisfy { abs($0 - $1) < 1e-4 })
        #expect(zip(fusedBN.beta.gradient, bn.beta.gradient).allSatisfy { abs($0 - $1) < 1e-4 })
    }
}
