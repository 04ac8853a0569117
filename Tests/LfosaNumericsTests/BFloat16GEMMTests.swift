import CBLAS
import LfosaKernels
import Testing
@testable import LfosaNumerics

/// The AMX bfloat16 matrix product (skipped where the CPU has no AMX-BF16).
@Suite(.enabled(if: MatmulPrecision.bfloat16Available, "no AMX-BF16 on this CPU"))
struct BFloat16GEMMTests {
    /// `f` rounded to bfloat16 (nearest even), back as a float.
    static func bf16(_ f: Float) -> Float {
        let bits = f.bitPattern
        return Float(bitPattern: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000)
    }

    /// Every transpose combination, ragged sizes around the 16×16×32 tiles, alpha and beta: the
    /// result equals the exact product of the bfloat16-rounded operands up to float32 summation
    /// error, and differs from the float32 product (the rounding really happened).
    @Test(arguments: [(1, 1, 1), (16, 16, 32), (17, 33, 31), (37, 45, 50), (64, 768, 288), (32, 27, 300), (5, 70, 3)])
    func matchesExactProductOfRoundedOperands(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var rng = SplitMix64(seed: UInt64(m * 10_000 + n * 100 + k))
        let a = (0..<(m * k)).map { _ in rng.nextUnitFloat() - 0.5 }
        let b = (0..<(k * n)).map { _ in rng.nextUnitFloat() * 3 - 1 }
        let c0 = (0..<(m * n)).map { _ in rng.nextUnitFloat() }
        for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
            let lda = ta ? m : k, ldb = tb ? k : n
            func opA(_ i: Int, _ p: Int) -> Float { ta ? a[p * lda + i] : a[i * lda + p] }
            func opB(_ p: Int, _ j: Int) -> Float { tb ? b[j * ldb + p] : b[p * ldb + j] }
            for (alpha, beta) in [(Float(1), Float(0)), (Float(-0.5), Float(2))] {
                var c = c0, c32 = c0
                a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        GEMM.sgemm(ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m: m, n: n, k: k,
                                   alpha: alpha, a: ap.baseAddress, lda: lda, b: bp.baseAddress, ldb: ldb, beta: beta,
                                   c: &c, ldc: n, precision: .bfloat16)
                        GEMM.sgemm(ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m: m, n: n, k: k,
                                   alpha: alpha, a: ap.baseAddress, lda: lda, b: bp.baseAddress, ldb: ldb, beta: beta,
                                   c: &c32, ldc: n)
                    }
                }
                var worst = 0.0
                for i in 0..<m {
                    for j in 0..<n {
                        var exact = 0.0, magnitude = 0.0
                        for p in 0..<k {
                            let term = Double(Self.bf16(opA(i, p))) * Double(Self.bf16(opB(p, j)))
                            exact += term
                            magnitude += abs(term)
                        }
                        let want = Double(alpha) * exact + Double(beta) * Double(c0[i * n + j])
                        let scale = abs(Double(alpha)) * magnitude + abs(Double(beta) * Double(c0[i * n + j])) + 1e-6
                        worst = max(worst, abs(Double(c[i * n + j]) - want) / scale)
                    }
                }
                #expect(worst < 1e-5, "m \(m) n \(n) k \(k) transA \(ta) transB \(tb): relative error \(worst)")
                if k >= 16 { #expect(c != c32, "bfloat16 result identical to float32") }
            }
        }
    }

    /// op(B) packed once gives exactly the per-call product, for both transposes of B and A,
    /// ragged tile edges, and a beta that reads C.
    @Test(arguments: [(1, 1, 1), (17, 33, 31), (64, 256, 2048), (37, 5, 256), (96, 70, 50)])
    func prepackedBIsTheSameProduct(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var rng = SplitMix64(seed: UInt64(m * 7 + n * 11 + k))
        let a = (0..<(m * k)).map { _ in rng.nextUnitFloat() - 0.5 }
        let b = (0..<(k * n)).map { _ in rng.nextUnitFloat() * 2 - 1 }
        let c0 = (0..<(m * n)).map { _ in rng.nextUnitFloat() }
        for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
            let lda = ta ? m : k, ldb = tb ? k : n
            var packed = [UInt16](repeating: 0xFFFF, count: lfosa_bf16_packed_b_elements(Int32(k), Int32(n)))
            b.withUnsafeBufferPointer { bp in
                packed.withUnsafeMutableBufferPointer { lfosa_bf16_pack_b(tb ? 1 : 0, Int32(k), Int32(n), bp.baseAddress, Int32(ldb), $0.baseAddress) }
            }
            var direct = c0, prepacked = c0
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    lfosa_bf16_gemm(ta ? 1 : 0, tb ? 1 : 0, Int32(m), Int32(n), Int32(k), 1, ap.baseAddress, Int32(lda),
                                    bp.baseAddress, Int32(ldb), 0.5, &direct, Int32(n))
                }
                packed.withUnsafeBufferPointer { pb in
                    GEMM.bf16PackedB(ta ? CblasTrans : CblasNoTrans, m: m, n: n, k: k, a: ap.baseAddress!, lda: lda,
                                     packedB: pb.baseAddress!, beta: 0.5, c: &prepacked, ldc: n)
                }
            }
            #expect(prepacked == direct, "m \(m) n \(n) k \(k) transA \(ta) transB \(tb)")
        }
    }

    /// A bfloat16 dense layer packs its weights once and repacks after any change to them:
    /// its output always equals the per-call product of its current weights.
    @Test func denseLayerRepacksAfterItsWeightsChange() {
        var rng = SplitMix64(seed: 3)
        let layer = Linear(name: "fc", inputs: 300, outputs: 40, rng: &rng)
        layer.matmulPrecision = .bfloat16
        let x = Tensor(shape: [48, 300], data: (0..<(48 * 300)).map { _ in rng.nextUnitFloat() - 0.5 })
        func expected() -> [Float] {
            var y = [Float](repeating: 0, count: 48 * 40)
            for i in 0..<48 { for j in 0..<40 { y[i * 40 + j] = layer.bias.value[j] } }
            x.data.withUnsafeBufferPointer { xp in
                layer.weight.value.withUnsafeBufferPointer { w in
                    lfosa_bf16_gemm(0, 1, 48, 40, 300, 1, xp.baseAddress, 300, w.baseAddress, 300, 1, &y, 40)
                }
            }
            return y
        }
        let first = layer.forward(x, mode: .inference).data
        #expect(first == expected())
        #expect(layer.forward(x, mode: .inference).data == first)
        let generation = layer.weight.generation
        layer.weight.value.withUnsafeMutableBufferPointer { w in for i in w.indices { w[i] *= -1 } }   // in place
        #expect(layer.weight.generation != generation)
        let flipped = layer.forward(x, mode: .inference).data
        #expect(flipped == expected() && flipped != first)
        layer.weight.value[7] += 1                                                                      // one element
        #expect(layer.forward(x, mode: .training).data == expected())
        layer.weight.value = [Float](repeating: 0.01, count: 300 * 40)                                  // assignment
        #expect(layer.forward(x, mode: .inference).data == expected())
    }

    @Test func roundsToNearestEven() {
        // 1 + 2^-8 is halfway between two bfloat16 values: ties go to the even one (1.0);
        // 1 + 3·2^-8 rounds up to 1 + 2^-6.
        let a: [Float] = [1 + 1.0 / 256, 1 + 3.0 / 256]
        let b: [Float] = [1, 0, 0, 1]
        var c = [Float](repeating: 0, count: 2)
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                GEMM.sgemm(CblasNoTrans, CblasNoTrans, m: 1, n: 2, k: 2, a: ap.baseAddress, lda: 2,
                           b: bp.baseAddress, ldb: 2, beta: 0, c: &c, ldc: 2, precision: .bfloat16)
            }
        }
        #expect(c == [1, 1 + 1.0 / 64])
    }

    @Test func networkTrainsDeterministicallyInBFloat16() {
        let (a, accuracy) = trainToy(seed: 5, precision: .bfloat16)
        #expect(accuracy >= 0.98)
        let (b, _) = trainToy(seed: 5, precision: .bfloat16)
        #expect(a.parameters.map(\.value) == b.parameters.map(\.value))
        let (c, _) = trainToy(seed: 5, epochs: 10)
        #expect(a.parameters.map(\.value) != c.parameters.map(\.value))
    }
}

@Suite struct MatmulPrecisionTests {
    @Test func networkSettingReachesEveryProductLayer() {
        let net = Network.make(.resnet18, inputShape: [3, 32, 32], classes: 4, seed: 1)
        net.matmulPrecision = .bfloat16
        var convs = 0
        for layer in net.layers {
            if let block = layer as? ResidualBlock {
                for conv in [block.conv1, block.conv2] + (block.shortcutConv.map { [$0] } ?? []) {
                    #expect(conv.matmulPrecision == .bfloat16)
                    convs += 1
                }
            } else if let settable = layer as? MatmulPrecisionSettable {
                #expect(settable.matmulPrecision == .bfloat16)
                convs += layer is Conv2D ? 1 : 0
            }
        }
        #expect(convs == 20)   // ResNet-18: stem + 16 block convs + 3 shortcuts
    }

    @Test func fallsBackToFloat32WithoutAMX() {
        #expect(MatmulPrecision.float32.effective == .float32)
        #expect(MatmulPrecision.bfloat16.effective == (MatmulPrecision.bfloat16Available ? .bfloat16 : .float32))
        #expect(MatmulPrecision.float16Inference.effective == (MatmulPrecision.float16Available ? .float16Inference : .float32))
        #expect(MatmulPrecision(rawValue: "bf16") == .bfloat16 && MatmulPrecision(rawValue: "fp16") == .float16Inference)
        #expect(MatmulPrecision(rawValue: "fp8") == nil)
    }
}

/// The direct bfloat16 "same" convolution (no unfolded copy) against unfolding + the bfloat16
/// GEMM — the same products summed in the same order, so bit for bit the same — and against
/// float32 within bfloat16 rounding.
@Suite(.enabled(if: MatmulPrecision.bfloat16Available, "no AMX-BF16 on this CPU"))
struct DirectBFloat16ConvolutionTests {
    @Test(arguments: [(3, 32, 3, 5, 32, 32), (32, 64, 3, 4, 16, 16), (64, 128, 3, 7, 8, 8), (5, 17, 5, 2, 4, 4),
                      (7, 20, 3, 3, 8, 2), (4, 8, 3, 2, 28, 28), (3, 16, 1, 2, 16, 48), (16, 20, 5, 3, 6, 10),
                      (48, 5, 3, 2, 14, 14)])
    func equalsUnfoldedProduct(shape: (Int, Int, Int, Int, Int, Int)) {
        let (cin, cout, kernel, n, h, w) = shape
        var rng = SplitMix64(seed: UInt64(cin * 1000 + cout))
        let conv = Conv2D(name: "c", inputChannels: cin, outputChannels: cout, kernel: kernel, padding: kernel / 2, rng: &rng)
        let x = Tensor(shape: [cin, n, h, w], data: (0..<(cin * n * h * w)).map { _ in rng.nextUnitFloat() * 2 - 1 })
        let fp32 = conv.forward(x, mode: .inference)
        conv.matmulPrecision = .bfloat16
        let direct = conv.forward(x, mode: .inference)
        conv.allowsDirectBFloat16 = false
        let unfolded = conv.forward(x, mode: .inference)
        // forward, input gradient and (cin % 16 == 0) weight gradient run as implicit GEMMs
        // (another summation order): equal to unfolding up to float32 rounding
        func close(_ a: [Float], _ b: [Float]) -> Bool {
            let scale = max(1, b.map(abs).max() ?? 1)
            return a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * scale }
        }
        #expect(direct.shape == fp32.shape)
        #expect(close(direct.data, unfolded.data))
        #expect(direct.data != fp32.data)
        let fanIn = Float(cin * kernel * kernel)
        let worst = zip(direct.data, fp32.data).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 0.02 * fanIn.squareRoot(), "worst difference to float32 \(worst)")

        // backward: weight gradient straight from the input vs from the unfolded columns
        let g = Tensor(shape: direct.shape, data: (0..<direct.count).map { _ in rng.nextUnitFloat() - 0.5 })
        func gradients(direct: Bool, precision: MatmulPrecision) -> (dw: [Float], dx: [Float]) {
            conv.allowsDirectBFloat16 = direct
            conv.matmulPrecision = precision
            conv.weight.zeroGradient()
            _ = conv.forward(x, mode: .training)
            let dx = conv.backward(g)
            return (conv.weight.gradient, dx.data)
        }
        let a = gradients(direct: true, precision: .bfloat16)
        let b = gradients(direct: false, precision: .bfloat16)
        let c = gradients(direct: false, precision: .float32)
        #expect(close(a.dw, b.dw))
        #expect(close(a.dx, b.dx))
        #expect(a.dx.count == x.count)
        #expect(a.dw != c.dw)
        let scale = c.dw.map(abs).max() ?? 1
        let worstDW = zip(a.dw, c.dw).map { abs($0 - $1) }.max() ?? 0
        #expect(worstDW < 0.02 * scale, "weight gradient differs from float32 by \(worstDW) (scale \(scale))")
    }
}

/// Inference with bfloat16 convolutions fused with batch norm, max-pool and ReLU (the implicit
/// GEMM kernel) agrees with the layers one after another to float32 rounding: its sums run in
/// another order, so not bit for bit.
@Suite(.enabled(if: MatmulPrecision.bfloat16Available, "no AMX-BF16 on this CPU"))
struct PooledConvolutionInferenceTests {
    /// A reference CNN with non-trivial batch-norm statistics and a negative scale.
    static func network(side: Int, channels: Int = 3) -> Network {
        let net = Network.make(.referenceCNN, inputShape: [channels, side, side], classes: 5, seed: 3)
        net.matmulPrecision = .bfloat16
        var rng = SplitMix64(seed: 11)
        for case let bn as BatchNorm in net.trunk {
            for c in 0..<bn.channels {
                bn.runningMean.value[c] = rng.nextUnitFloat() - 0.5
                bn.runningVariance.value[c] = 0.5 + rng.nextUnitFloat()
                bn.gamma.value[c] = c == 1 ? -0.7 : 0.5 + rng.nextUnitFloat()
                bn.beta.value[c] = rng.nextUnitFloat() - 0.5
            }
        }
        return net
    }

    /// Each conv–BN–pool–ReLU block on its own: same input, fused kernel against conv, then
    /// batch norm, pool and ReLU; every value within float32 summation error, and the kernel
    /// runs on every even plane (odd ones pool separately).
    @Test(arguments: [(32, 3), (16, 32), (8, 64), (28, 1), (14, 32), (6, 5), (2, 64)])
    func fusedBlockMatchesLayers(shape: (side: Int, channels: Int)) {
        let (side, channels) = shape
        let net = Self.network(side: side, channels: channels)
        let conv = net.trunk.compactMap { $0 as? Conv2D }[0]
        let bn = net.trunk.compactMap { $0 as? BatchNorm }[0]
        var rng = SplitMix64(seed: UInt64(side * 100 + channels))
        let n = 5
        let x = Tensor(shape: [channels, n, side, side], data: (0..<(channels * n * side * side)).map { _ in rng.nextUnitFloat() * 2 - 1 })
        guard let fused = conv.forwardPooledForInference(x, affine: bn.inferenceAffine(), relu: true) else {
            Issue.record("the fused kernel did not run on a \(side)×\(side) plane")
            return
        }
        var y = conv.forward(x, mode: .inference)
        bn.normalizeInPlaceForInference(&y, thenReLU: false)
        let separate = ReLU().forward(MaxPool(kernel: 2).forward(y, mode: .inference), mode: .inference)
        #expect(fused.shape == separate.shape)
        let worst = zip(fused.data, separate.data).map { abs($0 - $1) }.max() ?? 0
        let scale = separate.data.map(abs).max() ?? 1
        #expect(worst <= 1e-5 * max(1, scale), "fused differs by \(worst) (scale \(scale))")
        #expect(scale > 0.1)
        #expect(conv.forwardPooledForInference(Tensor(shape: [channels, 1, side + 1, side + 1]), affine: bn.inferenceAffine(),
                                               relu: true) == nil)
    }

    /// The whole network (28: its last block is 7 × 7 and pools separately): the logits agree
    /// with the unfused network up to the bfloat16 rounding of activations that float32 sum
    /// order can flip, and the predicted classes are the same.
    @Test(arguments: [32, 28])
    func networkInferenceMatchesLayerByLayer(side: Int) {
        let net = Self.network(side: side)
        var rng = SplitMix64(seed: 12)
        let x = Tensor(shape: [6, 3, side, side], data: (0..<(6 * 3 * side * side)).map { _ in rng.nextUnitFloat() * 2 - 1 })
        let fused = net.forwardWithFeatures(x, mode: .inference)
        for case let conv as Conv2D in net.trunk { conv.allowsPoolFusion = false }
        let separate = net.forwardWithFeatures(x, mode: .inference)
        let scale = separate.logits.data.map(abs).max() ?? 1
        let worst = zip(fused.logits.data, separate.logits.data).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 0.01 * max(1, scale), "logits differ by \(worst) (scale \(scale))")
        func argmax(_ t: Tensor, _ i: Int) -> Int { (0..<5).max { t.data[i * 5 + $0] < t.data[i * 5 + $1] }! }
        for i in 0..<6 { #expect(argmax(fused.logits, i) == argmax(separate.logits, i)) }
    }
}
