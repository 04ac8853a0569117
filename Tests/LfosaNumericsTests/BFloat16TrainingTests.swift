import LfosaKernels
import Testing
@testable import LfosaNumerics

/// Training with bfloat16 convolution products summed in float32 (`TrainingPrecision.bfloat16`,
/// AVX512-BF16's vdpbf16ps, `dpbf16_conv.c`): the kernel is, to float32 summation rounding, the
/// exact convolution of bfloat16-rounded inputs and weights (so its channel pairing, padding and
/// plane shifts are right), keeps gradients far below float16's range without scaling, a layer's
/// forward pass and input gradient stay within bfloat16 rounding of float32's while its weight
/// gradient and inference are float32's exactly, and a network trains like the float32 one
/// (skipped where the CPU has no AVX512-BF16).
@Suite(.enabled(if: TrainingPrecision.bfloat16Available, "no AVX512-BF16 on this CPU"))
struct BFloat16TrainingTests {
    /// `v` rounded to the nearest bfloat16 (ties to even), as vcvtneps2bf16 rounds finite values.
    static func bfloat16(_ v: Float) -> Float {
        let u = v.bitPattern
        return Float(bitPattern: ((u &+ 0x7FFF &+ ((u >> 16) & 1)) >> 16) << 16)
    }

    /// The "same" convolution of x [cin, n, h, w] by weight [cout, cin, kh, kw], summed in Double.
    static func reference(_ x: [Float], cin: Int, cout: Int, n: Int, h: Int, w: Int, k: Int, weight: [Float]) -> [Double] {
        var out = [Double](repeating: 0, count: cout * n * h * w)
        let p = k / 2
        for co in 0..<cout {
            for i in 0..<n {
                for y in 0..<h {
                    for xx in 0..<w {
                        var s = 0.0
                        for ci in 0..<cin {
                            for a in 0..<k {
                                let yy = y + a - p
                                guard yy >= 0 && yy < h else { continue }
                                for b in 0..<k {
                                    let xs = xx + b - p
                                    guard xs >= 0 && xs < w else { continue }
                                    s += Double(weight[((co * cin + ci) * k + a) * k + b]) * Double(x[((ci * n + i) * h + yy) * w + xs])
                                }
                            }
                        }
                        out[((co * n + i) * h + y) * w + xx] = s
                    }
                }
            }
        }
        return out
    }

    static func kernel(_ x: [Float], cin: Int, cout: Int, n: Int, h: Int, w: Int, k: Int, weight: [Float],
                       images: Range<Int>? = nil) -> (out: [Float], bad: Int32) {
        var out = [Float](repeating: .nan, count: cout * n * h * w)
        let r = images ?? 0..<n
        let bad = lfosa_dpbf16_conv_same_forward(Int32(cout), Int32(cin), Int32(k), Int32(k), Int32(n), Int32(h), Int32(w), x,
                                                 Int32(r.lowerBound), Int32(r.upperBound), weight, &out, Int32(n * h * w))
        return (out, bad)
    }

    /// Odd and even channel counts (a lone last channel pairs with zero), planes that are not a
    /// multiple of the 32-pixel block, 1-, 3- and 5-wide kernels, more output channels than a
    /// block of 8: every output is the float32-rounded sum of the bfloat16-rounded products, and
    /// images outside the call's range are not written.
    @Test(arguments: [(1, 8, 5, 7, 3), (3, 16, 32, 32, 3), (6, 10, 7, 9, 3), (5, 20, 8, 8, 5), (16, 24, 16, 16, 3),
                      (4, 3, 6, 6, 1)])
    func exactConvolutionOfRoundedOperands(shape: (cin: Int, cout: Int, h: Int, w: Int, k: Int)) {
        let (cin, cout, h, w, k) = shape
        let n = 3
        var rng = SplitMix64(seed: UInt64(cin * 1000 + cout * 10 + k))
        let x = (0..<(cin * n * h * w)).map { _ in rng.nextUnitFloat() * 4 - 2 }
        let weight = (0..<(cout * cin * k * k)).map { _ in rng.nextUnitFloat() - 0.5 }
        let expected = Self.reference(x.map(Self.bfloat16), cin: cin, cout: cout, n: n, h: h, w: w, k: k,
                                      weight: weight.map(Self.bfloat16))
        let unrounded = Self.reference(x, cin: cin, cout: cout, n: n, h: h, w: w, k: k, weight: weight)
        let (out, bad) = Self.kernel(x, cin: cin, cout: cout, n: n, h: h, w: w, k: k, weight: weight, images: 1..<n)
        #expect(bad == 0)
        let hw = h * w
        var worst = 0.0, worstUnrounded = 0.0
        for co in 0..<cout {
            for p in 0..<hw { #expect(out[(co * n) * hw + p].isNaN, "image 0 is outside the range") }
            for i in 1..<n {
                for p in 0..<hw {
                    let j = (co * n + i) * hw + p
                    worst = max(worst, abs(Double(out[j]) - expected[j]))
                    worstUnrounded = max(worstUnrounded, abs(Double(out[j]) - unrounded[j]))
                }
            }
        }
        let terms = Double(cin * k * k)
        #expect(worst <= terms * 2 * 1.2e-7 * 2, "float32 summation of the rounded products: \(worst)")
        #expect(worstUnrounded > 100 * worst, "the operands are rounded to bfloat16: \(worstUnrounded) against \(worst)")
        #expect(worstUnrounded <= terms * 2 * 0.0079, "within bfloat16 rounding of the float32 convolution: \(worstUnrounded)")
    }

    /// Gradients of 1e-10 (far below float16's normal range) need no scaling: bfloat16 has
    /// float32's exponents. An infinite input is reported (the caller redoes the layer in float32).
    @Test func tinyValuesAndOverflow() {
        let cin = 16, cout = 12, n = 2, h = 8, w = 8
        var rng = SplitMix64(seed: 4)
        let weight = (0..<(cout * cin * 9)).map { _ in (rng.nextUnitFloat() - 0.5) * 0.2 }
        var x = (0..<(cin * n * h * w)).map { _ in (rng.nextUnitFloat() * 2 - 1) * 1e-10 }
        let reference = Self.reference(x, cin: cin, cout: cout, n: n, h: h, w: w, k: 3, weight: weight)
        let (out, bad) = Self.kernel(x, cin: cin, cout: cout, n: n, h: h, w: w, k: 3, weight: weight)
        #expect(bad == 0)
        let size = reference.map(abs).max()!
        #expect(size > 1e-11)
        #expect(zip(out, reference).allSatisfy { abs(Double($0) - $1) <= 1e-2 * size })
        x[5] = .infinity
        #expect(Self.kernel(x, cin: cin, cout: cout, n: n, h: h, w: w, k: 3, weight: weight).bad != 0)
    }

    /// One layer in training: forward pass and input gradient within bfloat16 rounding of
    /// float32's and not equal to them (the kernel ran), weight gradient float32's exactly,
    /// inference untouched.
    @Test(arguments: [(32, 64, 16, 16), (64, 128, 8, 8), (3, 32, 32, 32), (6, 10, 7, 9)])
    func layerForwardAndInputGradient(shape: (cin: Int, cout: Int, h: Int, w: Int)) {
        let (cin, cout, h, w) = shape
        let n = 6
        var rng = SplitMix64(seed: UInt64(cin * 100 + h))
        let conv = Conv2D(name: "c", inputChannels: cin, outputChannels: cout, kernel: 3, padding: 1, rng: &rng)
        let x = Tensor(shape: [cin, n, h, w], data: (0..<(cin * n * h * w)).map { _ in max(0, rng.nextUnitFloat() * 3 - 1) })
        let g = Tensor(shape: [cout, n, h, w], data: (0..<(cout * n * h * w)).map { _ in (rng.nextUnitFloat() - 0.5) * 2e-8 })
        func run(_ precision: TrainingPrecision) -> (y: [Float], dx: [Float], dw: [Float], inference: [Float]) {
            conv.trainingPrecision = precision
            for p in conv.parameters { p.zeroGradient() }
            let y = conv.forward(x, mode: .training).data
            let dx = conv.backward(g).data
            return (y, dx, conv.weight.gradient, conv.forward(x, mode: .inference).data)
        }
        let single = run(.float32), brain = run(.bfloat16)
        func close(_ a: [Float], _ b: [Float]) -> Bool {
            let size = b.map(abs).max()!
            return size > 0 && zip(a, b).allSatisfy { abs($0 - $1) <= 2e-2 * size }
        }
        #expect(close(brain.y, single.y))
        #expect(brain.y != single.y, "the bfloat16 kernel ran forward")
        #expect(brain.inference == single.inference, "inference is not training's business")
        #expect(brain.dw == single.dw, "weight gradients stay float32")
        if conv.computesInputGradient {
            #expect(close(brain.dx, single.dx))
            #expect(brain.dx != single.dx, "the bfloat16 kernel ran backward")
        }
    }

    /// `Network.trainingPrecision` reaches every convolution, and the reference CNN trained 30
    /// SGD steps from the same start in bfloat16 ends with nearly float32's loss and predictions.
    @Test func networkTrainsLikeFloat32() {
        var rng = SplitMix64(seed: 5)
        let x = Tensor(shape: [64, 3, 16, 16], data: (0..<(64 * 768)).map { _ in rng.nextUnitFloat() * 2 - 1 })
        let labels = (0..<64).map { _ in rng.nextInt(below: 4) }
        let temperatures = [Float](repeating: 0.5, count: 64)
        func train(_ precision: TrainingPrecision) -> (losses: [Float], logits: [Float]) {
            let net = Network.make(.referenceCNN, inputShape: [3, 16, 16], classes: 4, seed: 8)
            net.trainingPrecision = precision
            #expect(net.trunk.compactMap { $0 as? Conv2D }.allSatisfy { $0.trainingPrecision == precision })
            let sgd = SGD(learningRate: 0.02, momentum: 0.9, weightDecay: 5e-4)
            var losses: [Float] = []
            for _ in 0..<30 {
                net.zeroGradients()
                let (loss, grad) = softmaxCrossEntropy(logits: net.forward(x, mode: .training),
                                                       labels: labels, temperatures: temperatures)
                net.backward(grad)
                sgd.step(net.parameters)
                losses.append(loss)
            }
            return (losses, net.forward(x, mode: .inference).data)
        }
        let single = train(.float32), brain = train(.bfloat16)
        #expect(brain.losses != single.losses)
        #expect(single.losses.last! < 0.5 * single.losses.first!, "it learns: \(single.losses)")
        #expect(abs(brain.losses.last! - single.losses.last!) <= 0.15 * single.losses.last! + 0.01,
                "bfloat16 \(brain.losses.last!) against float32 \(single.losses.last!)")
        func argmax(_ logits: [Float]) -> [Int] {
            (0..<64).map { i in (0..<4).max { logits[i * 4 + $0] < logits[i * 4 + $1] }! }
        }
        let agree = zip(argmax(brain.logits), argmax(single.logits)).filter { $0 == $1 }.count
        #expect(agree >= 60, "\(agree) of 64 predictions agree")
    }
}
