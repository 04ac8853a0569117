import LfosaKernels
import Testing
@testable import LfosaNumerics

/// Training with float16 convolution products (`TrainingPrecision.float16`, AVX512-FP16): the
/// per-image scaled kernel keeps gradients far below float16's normal range, a layer's forward
/// pass and input gradient stay within float16 rounding of float32's while its weight gradient
/// and inference are float32's exactly, and a network trains like the float32 one (skipped
/// where the CPU has no AVX512-FP16).
@Suite(.enabled(if: MatmulPrecision.float16Available, "no AVX512-FP16 on this CPU"))
struct Float16TrainingTests {
    static func convolve(_ x: [Float], cin: Int, cout: Int, n: Int, h: Int, w: Int, weight: [Float],
                         scale: Float?) -> [Float] {
        var out = [Float](repeating: .nan, count: cout * n * h * w)
        if let scale {
            let bad = lfosa_f16_conv_same_forward_scaled(Int32(cout), Int32(cin), 3, 3, Int32(n), Int32(h), Int32(w), x, 0,
                                                         Int32(n), weight, &out, Int32(n * h * w), scale)
            #expect(bad == 0)
        } else {
            lfosa_f32_conv_same_forward(Int32(cout), Int32(cin), 3, 3, Int32(n), Int32(h), Int32(w), x, 0, Int32(n), weight,
                                        &out, Int32(n * h * w))
        }
        return out
    }

    /// Images whose values span 1 down to 1e-10 (gradients late in training): scaled per image
    /// (scale 0), each image's outputs are within float16 rounding of float32's at that image's
    /// own scale; unscaled, the small ones vanish (float16's smallest normal is 2^-14 ≈ 6e-5).
    /// An explicit power-of-two scale gives exactly the unscaled numbers on ordinary inputs.
    @Test func perImageScalingKeepsTinyValues() {
        let cin = 16, cout = 12, n = 4, h = 8, w = 8, hw = h * w
        let magnitudes: [Float] = [1, 1e-4, 1e-7, 1e-10]
        var rng = SplitMix64(seed: 21)
        let weight = (0..<(cout * cin * 9)).map { _ in (rng.nextUnitFloat() - 0.5) * 0.2 }
        var x = [Float](repeating: 0, count: cin * n * hw)
        for c in 0..<cin {
            for i in 0..<n {
                for p in 0..<hw { x[(c * n + i) * hw + p] = (rng.nextUnitFloat() * 2 - 1) * magnitudes[i] }
            }
        }
        let reference = Self.convolve(x, cin: cin, cout: cout, n: n, h: h, w: w, weight: weight, scale: nil)
        let scaled = Self.convolve(x, cin: cin, cout: cout, n: n, h: h, w: w, weight: weight, scale: 0)
        let unscaled = Self.convolve(x, cin: cin, cout: cout, n: n, h: h, w: w, weight: weight, scale: 1)
        func worstRelative(_ y: [Float], image i: Int) -> Float {
            var worst: Float = 0, size: Float = 0
            for c in 0..<cout {
                for p in 0..<hw {
                    let k = (c * n + i) * hw + p
                    worst = max(worst, abs(y[k] - reference[k]))
                    size = max(size, abs(reference[k]))
                }
            }
            return worst / size
        }
        for i in 0..<n { #expect(worstRelative(scaled, image: i) <= 4e-3, "image \(i)") }
        #expect(worstRelative(unscaled, image: 0) <= 4e-3)
        #expect(worstRelative(unscaled, image: 2) > 0.5, "1e-7 is below float16's range unscaled")
        #expect(worstRelative(unscaled, image: 3) > 0.5)
        // powers of two are exact: scale 8 is the unscaled kernel's numbers for the ordinary image
        let eight = Self.convolve(x, cin: cin, cout: cout, n: n, h: h, w: w, weight: weight, scale: 8)
        for c in 0..<cout {
            let k = c * n * hw
            #expect(eight[k..<(k + hw)].elementsEqual(unscaled[k..<(k + hw)]))
        }
    }

    /// One layer in training: the forward pass and the input gradient (of a gradient of size
    /// 1e-8) within float16 rounding of float32's and not equal to them (the float16 kernel ran);
    /// the weight gradient is float32's exactly (it stays float32); inference is untouched.
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
        let single = run(.float32), half = run(.float16)
        func close(_ a: [Float], _ b: [Float]) -> Bool {
            let size = b.map(abs).max()!
            return size > 0 && zip(a, b).allSatisfy { abs($0 - $1) <= 4e-3 * size }
        }
        #expect(close(half.y, single.y))
        #expect(half.y != single.y, "the float16 kernel ran forward")
        #expect(half.inference == single.inference, "inference is not training's business")
        #expect(half.dw == single.dw, "weight gradients stay float32")
        if conv.computesInputGradient {
            #expect(close(half.dx, single.dx))
            #expect(half.dx != single.dx, "the float16 kernel ran backward")
        }
    }

    /// `Network.trainingPrecision` reaches every convolution, and the reference CNN trained 30
    /// SGD steps from the same start in float16 ends with nearly float32's loss and predictions.
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
        let single = train(.float32), half = train(.float16)
        #expect(half.losses != single.losses)
        #expect(single.losses.last! < 0.5 * single.losses.first!, "it learns: \(single.losses)")
        #expect(abs(half.losses.last! - single.losses.last!) <= 0.1 * single.losses.last! + 0.01,
                "float16 \(half.losses.last!) against float32 \(single.losses.last!)")
        func argmax(_ logits: [Float]) -> [Int] {
            (0..<64).map { i in (0..<4).max { logits[i * 4 + $0] < logits[i * 4 + $1] }! }
        }
        let agree = zip(argmax(half.logits), argmax(single.logits)).filter { $0 == $1 }.count
        #expect(agree >= 60, "\(agree) of 64 predictions agree")
    }
}
