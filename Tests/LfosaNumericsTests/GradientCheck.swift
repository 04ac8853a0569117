import Testing
@testable import LfosaNumerics

/// Central-difference gradient check of a layer (input and parameter gradients).
///
/// The scalar loss is Σ rᵢ·yᵢ for a fixed random r, so backward(r) must equal the numerical
/// derivative. `prepare` runs before every forward (e.g. to reseed dropout).
func checkGradients(_ layer: Layer, input: Tensor, seed: UInt64 = 3, epsilon: Float = 1e-2,
                    tolerance: Float = 2e-2, checkInput: Bool = true, prepare: () -> Void = {},
                    sourceLocation: SourceLocation = #_sourceLocation) {
    var rng = SplitMix64(seed: seed)
    prepare()
    let y = layer.forward(input, mode: .training)
    let r = Tensor(shape: y.shape, data: (0..<y.count).map { _ in rng.nextUnitFloat() * 2 - 1 })
    for p in layer.parameters { p.zeroGradient() }
    let dx = layer.backward(r)
    func loss(_ x: Tensor) -> Double {
        prepare()
        let out = layer.forward(x, mode: .training)
        var s = 0.0
        for i in 0..<out.count { s += Double(out.data[i]) * Double(r.data[i]) }
        return s
    }
    func compare(_ analytic: Float, _ numeric: Float, _ what: String) {
        let scale = max(1, abs(analytic), abs(numeric))
        #expect(abs(analytic - numeric) / scale <= tolerance, "\(what): analytic \(analytic) vs numeric \(numeric)",
                sourceLocation: sourceLocation)
    }
    if checkInput {
        #expect(dx.shape == input.shape, sourceLocation: sourceLocation)
        let probes = Array(stride(from: 0, to: input.count, by: max(1, input.count / 40)))
        for i in probes {
            var plus = input, minus = input
            plus.data[i] += epsilon
            minus.data[i] -= epsilon
            let numeric = Float((loss(plus) - loss(minus)) / Double(2 * epsilon))
            compare(dx.data[i], numeric, "input[\(i)]")
        }
    }
    for p in layer.parameters {
        let analytic = p.gradient
        let probes = Array(stride(from: 0, to: p.count, by: max(1, p.count / 25)))
        for i in probes {
            let original = p.value[i]
            p.value[i] = original + epsilon
            let lp = loss(input)
            p.value[i] = original - epsilon
            let lm = loss(input)
            p.value[i] = original
            compare(analytic[i], Float((lp - lm) / Double(2 * epsilon)), "\(p.name)[\(i)]")
        }
    }
}

func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var rng = SplitMix64(seed: seed)
    return Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in rng.nextNormal() * scale })
}

@Suite("Finite-difference gradient checks")
struct GradientTests {
    @Test func linear() {
        var rng = SplitMix64(seed: 1)
        checkGradients(Linear(name: "fc", inputs: 7, outputs: 5, rng: &rng), input: randomTensor([4, 7], seed: 2))
    }

    @Test(arguments: [(3, 1, 1), (3, 2, 1), (1, 1, 0), (1, 2, 0), (5, 1, 2), (2, 2, 0)])
    func convolutionIm2col(kernel: Int, stride: Int, padding: Int) {
        var rng = SplitMix64(seed: 4)
        let conv = Conv2D(name: "c", inputChannels: 3, outputChannels: 4, kernel: kernel, stride: stride,
                          padding: padding, bias: true, rng: &rng)
        conv.allowsWinograd = true   // refused for every shape but 3×3/1/1, which must still be right
        #expect(conv.allowsWinograd == (kernel == 3 && stride == 1 && padding == 1))
        conv.allowsDirectFloat32 = false
        checkGradients(conv, input: randomTensor([3, 2, 7, 6], seed: 5))
    }

    /// "Same" convolutions on the float32 implicit-GEMM kernels (AVX-512; elsewhere the same
    /// check runs the unfolded path), planes wider and narrower than a 16-lane vector.
    @Test(arguments: [(1, 7, 6), (3, 7, 6), (5, 7, 6), (3, 3, 19), (3, 9, 16)])
    func convolutionDirectFloat32(kernel: Int, height: Int, width: Int) {
        var rng = SplitMix64(seed: 12)
        let conv = Conv2D(name: "c", inputChannels: 3, outputChannels: 9, kernel: kernel, padding: kernel / 2,
                          bias: true, rng: &rng)
        #expect((conv.directKernel(h: height, w: width, ho: height, wo: width) == .float32) == KernelDispatch.hasAVX512)
        checkGradients(conv, input: randomTensor([3, 2, height, width], seed: 13))
    }

    /// One image per chunk (so chunks run on several threads, each with its own workspace and
    /// weight-gradient accumulator) gives the same outputs and gradients as one big chunk.
    @Test(arguments: [(3, 1, 1), (3, 2, 1), (5, 1, 2)])
    func chunkedConvolutionMatchesOneChunk(kernel: Int, stride: Int, padding: Int) {
        var rng = SplitMix64(seed: 30)
        let a = Conv2D(name: "c", inputChannels: 4, outputChannels: 6, kernel: kernel, stride: stride,
                       padding: padding, rng: &rng)
        rng = SplitMix64(seed: 30)
        let b = Conv2D(name: "c", inputChannels: 4, outputChannels: 6, kernel: kernel, stride: stride,
                       padding: padding, rng: &rng)
        a.imagesPerChunkOverride = 1
        b.imagesPerChunkOverride = 1000
        let x = randomTensor([4, 7, 9, 8], seed: 31)
        let ya = a.forward(x, mode: .training), yb = b.forward(x, mode: .training)
        #expect(ya.shape == yb.shape)
        #expect(zip(ya.data, yb.data).allSatisfy { abs($0 - $1) < 1e-5 })
        let g = randomTensor(ya.shape, seed: 32)
        let da = a.backward(g), db = b.backward(g)
        #expect(zip(da.data, db.data).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(zip(a.weight.gradient, b.weight.gradient).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    @Test(arguments: [(6, 6), (7, 5), (4, 9)])
    func convolutionWinograd(height: Int, width: Int) {
        var rng = SplitMix64(seed: 6)
        let conv = Conv2D(name: "c", inputChannels: 16, outputChannels: 5, kernel: 3, padding: 1, rng: &rng)
        conv.allowsWinograd = true
        #expect(conv.allowsWinograd)
        checkGradients(conv, input: randomTensor([16, 2, height, width], seed: 7))
    }

    @Test func winogradMatchesIm2col() {
        var rng = SplitMix64(seed: 8)
        let a = Conv2D(name: "c", inputChannels: 16, outputChannels: 8, kernel: 3, padding: 1, rng: &rng)
        a.allowsWinograd = true
        rng = SplitMix64(seed: 8)
        let b = Conv2D(name: "c", inputChannels: 16, outputChannels: 8, kernel: 3, padding: 1, rng: &rng)
        b.allowsWinograd = false
        let x = randomTensor([16, 3, 9, 8], seed: 9)
        let ya = a.forward(x, mode: .training), yb = b.forward(x, mode: .training)
        #expect(ya.shape == yb.shape)
        let maxDiff = zip(ya.data, yb.data).map { abs($0 - $1) }.max()!
        #expect(maxDiff < 1e-4)
        let g = randomTensor(ya.shape, seed: 10)
        let da = a.backward(g), db = b.backward(g)
        #expect(zip(da.data, db.data).map { abs($0 - $1) }.max()! < 1e-4)
        #expect(zip(a.weight.gradient, b.weight.gradient).map { abs($0 - $1) }.max()! < 1e-3)
    }

    @Test func batchNorm() {
        let bn = BatchNorm(name: "bn", channels: 3)
        bn.gamma.value = [1.5, 0.7, -0.4]
        bn.beta.value = [0.1, -0.2, 0.3]
        checkGradients(bn, input: randomTensor([3, 4, 3, 3], seed: 11), epsilon: 5e-3)
    }

    @Test func reluAndPooling() {
        checkGradients(ReLU(), input: randomTensor([2, 3, 4, 4], seed: 12))
        checkGradients(MaxPool(kernel: 2), input: randomTensor([2, 3, 4, 6], seed: 13))
        checkGradients(MaxPool(kernel: 2), input: randomTensor([2, 2, 4, 35], seed: 26))  // SIMD path + tail
        checkGradients(MaxPool(kernel: 3, stride: 2), input: randomTensor([2, 2, 7, 7], seed: 14))
        checkGradients(GlobalAveragePool(), input: randomTensor([3, 2, 4, 5], seed: 15))
        checkGradients(Flatten(), input: randomTensor([3, 2, 2, 3], seed: 16))
        let cm = ChannelMajor()
        cm.computesInputGradient = true
        checkGradients(cm, input: randomTensor([2, 3, 2, 2], seed: 17))
    }

    @Test func dropoutWithFixedMask() {
        let d = Dropout(rate: 0.3, seed: 1)
        checkGradients(d, input: randomTensor([4, 10], seed: 18), prepare: { d.reseed(99) })
    }

    /// The block's wiring (shortcut sum, final ReLU) against the same, already checked, layers
    /// chained by hand: outputs and every gradient must agree.
    @Test(arguments: [(16, 16, 1), (8, 16, 2)])
    func residualBlockMatchesHandWiredLayers(cin: Int, cout: Int, stride: Int) {
        var rng = SplitMix64(seed: 23)
        let block = ResidualBlock(name: "b", inputChannels: cin, outputChannels: cout, stride: stride, rng: &rng)
        rng = SplitMix64(seed: 23)
        let c1 = Conv2D(name: "c1", inputChannels: cin, outputChannels: cout, kernel: 3, stride: stride, padding: 1, rng: &rng)
        let b1 = BatchNorm(name: "b1", channels: cout), r1 = ReLU()
        let c2 = Conv2D(name: "c2", inputChannels: cout, outputChannels: cout, kernel: 3, padding: 1, rng: &rng)
        let b2 = BatchNorm(name: "b2", channels: cout)
        let sc: Conv2D? = stride != 1 || cin != cout
            ? Conv2D(name: "s", inputChannels: cin, outputChannels: cout, kernel: 1, stride: stride, rng: &rng) : nil
        let sb: BatchNorm? = sc == nil ? nil : BatchNorm(name: "sb", channels: cout)
        let x = randomTensor([cin, 2, 6, 6], seed: 24)
        var h = b2.forward(c2.forward(r1.forward(b1.forward(c1.forward(x, mode: .training), mode: .training), mode: .training), mode: .training), mode: .training)
        let s = sc.map { sb!.forward($0.forward(x, mode: .training), mode: .training) } ?? x
        for i in 0..<h.count { h.data[i] = max(0, h.data[i] + s.data[i]) }
        let y = block.forward(x, mode: .training)
        #expect(zip(y.data, h.data).allSatisfy { abs($0 - $1) < 1e-5 })
        let g = randomTensor(y.shape, seed: 25)
        var gz = g
        for i in 0..<gz.count where h.data[i] <= 0 { gz.data[i] = 0 }
        var dx = c1.backward(b1.backward(r1.backward(c2.backward(b2.backward(gz)))))
        let ds = sc.map { $0.backward(sb!.backward(gz)) } ?? gz
        for i in 0..<dx.count { dx.data[i] += ds.data[i] }
        let blockDx = block.backward(g)
        #expect(zip(blockDx.data, dx.data).allSatisfy { abs($0 - $1) < 1e-4 })
        var manual: [Parameter] = c1.parameters + b1.parameters
        manual += c2.parameters + b2.parameters
        manual += (sc?.parameters ?? []) + (sb?.parameters ?? [])
        #expect(manual.count == block.parameters.count)
        for (a, b) in zip(block.parameters, manual) {
            let close = zip(a.gradient, b.gradient).allSatisfy { abs($0 - $1) < 1e-3 }
            #expect(close, Comment(rawValue: a.name))
        }
    }

    @Test(arguments: [(8, 8, 1), (8, 16, 2)])
    func residualBlock(cin: Int, cout: Int, stride: Int) {
        var rng = SplitMix64(seed: 19)
        let block = ResidualBlock(name: "b", inputChannels: cin, outputChannels: cout, stride: stride, rng: &rng)
        // Two ReLU kinks and two batch norms make the block strongly curved: central differences
        // need a small step (measured: worst error 15% at 1e-2, 1.4% at 3e-4).
        checkGradients(block, input: randomTensor([cin, 3, 6, 6], seed: 20), epsilon: 4e-4, tolerance: 5e-2)
    }
}

@Suite("Tempered softmax cross-entropy")
struct LossTests {
    @Test func gradientMatchesFiniteDifferences() {
        let logits = randomTensor([5, 4], seed: 21, scale: 2)
        let labels = [0, 3, 1, 2, 3]
        let temps: [Float] = [0.5, 0.5, 1, 2, 0.5]
        let (_, g) = softmaxCrossEntropy(logits: logits, labels: labels, temperatures: temps)
        for i in 0..<logits.count {
            var p = logits, m = logits
            p.data[i] += 1e-2
            m.data[i] -= 1e-2
            let lp = softmaxCrossEntropy(logits: p, labels: labels, temperatures: temps).loss
            let lm = softmaxCrossEntropy(logits: m, labels: labels, temperatures: temps).loss
            #expect(abs((lp - lm) / 2e-2 - g.data[i]) < 2e-3)
        }
    }

    @Test func gradientIsScaledByOneOverT() {
        // ∂L/∂a_c = (1/T)(q_c^T − p_c): check the closed form for one sample at T = 0.5.
        let a: [Float] = [1.0, -0.5, 0.25]
        let t: Float = 0.5
        let (loss, g) = softmaxCrossEntropy(logits: Tensor(shape: [1, 3], data: a), labels: [1], temperatures: [t])
        let e = a.map { _expf($0 / t) }
        let s = e.reduce(0, +)
        let q = e.map { $0 / s }
        #expect(abs(loss + _logf(q[1])) < 1e-5)
        for c in 0..<3 {
            let expected = (q[c] - (c == 1 ? 1 : 0)) / t
            #expect(abs(g.data[c] - expected) < 1e-5)
        }
    }

    @Test func stableForHugeLogits() {
        let (loss, g) = softmaxCrossEntropy(logits: Tensor(shape: [1, 2], data: [1e4, -1e4]), labels: [1],
                                            temperatures: [0.5])
        #expect(loss.isFinite && loss > 1e4)
        let allFinite = g.data.allSatisfy { $0.isFinite }
        #expect(allFinite)
    }
}
