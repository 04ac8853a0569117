import LfosaKernels
import Testing
@testable import LfosaNumerics

/// The 8-bit integer inference convolution (AVX512-VNNI, fused with batch norm's affine, 2×2
/// max-pool and ReLU) against float32: within quantisation error, independent of how images are
/// batched, only at inference, other kernels where the input is negative, and in a whole network
/// (skipped where the CPU has no AVX512-VNNI).
@Suite(.enabled(if: MatmulPrecision.int8Available, "no AVX512-VNNI on this CPU"))
struct Int8ConvolutionTests {
    /// Non-negative input (a ReLU's output, zeros included).
    private func reluInput(_ shape: [Int], rng: inout SplitMix64) -> Tensor {
        Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in max(0, rng.nextUnitFloat() * 3 - 1) })
    }

    private func packedWeights(_ conv: Conv2D) -> (packed: [UInt32], scales: [Float]) {
        let co = Int32(conv.outputChannels), ci = Int32(conv.inputChannels), k = Int32(conv.kernelHeight)
        var packed = [UInt32](repeating: 0, count: lfosa_i8_packed_weight_words(co, ci, k, k))
        var scales = [Float](repeating: 0, count: (conv.outputChannels + 7) / 8 * 8)
        lfosa_i8_pack_weights(co, ci, k, k, conv.weight.value, &packed, &scales)
        return (packed, scales)
    }

    /// Channel counts that are and are not multiples of 4 (inputs) and 8 (outputs), 8- and 16-wide
    /// planes of one and several 32-pixel blocks, 3- and 5-wide kernels, with and without ReLU:
    /// each output within quantisation error of float32's convolution + pooling (relative to the
    /// output's scale), and exactly the same numbers whatever images share a call.
    @Test(arguments: [(32, 64, 16, 16, 3), (64, 128, 8, 8, 3), (5, 9, 8, 8, 3), (6, 12, 4, 16, 5), (3, 8, 12, 8, 3)])
    func pooledMatchesFloat32WithinQuantisation(shape: (cin: Int, cout: Int, h: Int, w: Int, kernel: Int)) {
        let (cin, cout, h, w, kernel) = shape
        let n = 5
        var rng = SplitMix64(seed: UInt64(cin * 1000 + cout))
        let conv = Conv2D(name: "c", inputChannels: cin, outputChannels: cout, kernel: kernel, padding: kernel / 2, rng: &rng)
        let x = reluInput([cin, n, h, w], rng: &rng)
        let scale = (0..<cout).map { _ in rng.nextUnitFloat() * 3 - 1 }   // some negative
        let shift = (0..<cout).map { _ in rng.nextUnitFloat() - 0.5 }
        for relu in [false, true] {
            conv.matmulPrecision = .float32
            let reference = MaxPool2x2Kernel.pool(conv.forward(x, mode: .inference), argmax: nil, affine: (scale, shift), relu: relu).data
            conv.matmulPrecision = .int8Inference
            guard let int8 = conv.forwardPooledForInference(x, affine: (scale, shift), relu: relu)?.data else {
                Issue.record("the int8 kernel did not take \(shape)"); return
            }
            #expect(int8.count == reference.count)
            #expect(zip(int8, reference).contains { $0 != $1 }, "the int8 kernel ran")
            #expect(!relu || int8.allSatisfy { $0 >= 0 })
            let range = reference.map(abs).max()!
            let errors = zip(int8, reference).map { abs($0 - $1) }
            // inputs rounded to 1/255 of the image's maximum, weights to 1/127 of the channel's largest
            #expect(errors.max()! <= 0.015 * range, "worst \(errors.max()!) at scale \(range)")
            #expect(errors.reduce(0, +) / Float(errors.count) <= 0.002 * range, "mean error at scale \(range)")
            // one call per image, images in reverse order: the same numbers
            var perImage = [Float](repeating: .nan, count: int8.count)
            let (packed, scales) = packedWeights(conv)
            for i in (0..<n).reversed() {
                let failed = lfosa_i8_conv_same_pool_forward(Int32(cout), Int32(cin), Int32(kernel), Int32(kernel), Int32(n),
                                                             Int32(h), Int32(w), x.data, Int32(i), Int32(i + 1), packed, scales,
                                                             scale, shift, relu ? 1 : 0, &perImage)
                #expect(failed == 0)
            }
            #expect(perImage.elementsEqual(int8), "another split of the images: the same numbers")
        }
    }

    /// An image's outputs depend on that image only (its own quantisation scale): alone in a batch
    /// of one or beside an image a hundred times brighter, the same numbers.
    @Test func eachImageQuantisedOnItsOwn() {
        var rng = SplitMix64(seed: 21)
        let conv = Conv2D(name: "c", inputChannels: 16, outputChannels: 16, kernel: 3, padding: 1, rng: &rng)
        conv.matmulPrecision = .int8Inference
        let a = reluInput([16, 1, 16, 16], rng: &rng), b = reluInput([16, 1, 16, 16], rng: &rng)
        var pair = [Float]()
        for c in 0..<16 { pair += a.data[(c * 256)..<((c + 1) * 256)] + b.data[(c * 256)..<((c + 1) * 256)].map { $0 * 100 } }
        let ones = [Float](repeating: 1, count: 16), zeros = [Float](repeating: 0, count: 16)
        let alone = conv.forwardPooledForInference(a, affine: (ones, zeros), relu: false)!.data
        let both = conv.forwardPooledForInference(Tensor(shape: [16, 2, 16, 16], data: pair), affine: (ones, zeros), relu: false)!.data
        for c in 0..<16 { #expect(both[(c * 128)..<(c * 128 + 64)].elementsEqual(alone[(c * 64)..<((c + 1) * 64)])) }
        // an all-zero image: the affine's shift only
        let zero = conv.forwardPooledForInference(Tensor(shape: [16, 1, 16, 16]), affine: (ones, (0..<16).map(Float.init)),
                                                  relu: false)!.data
        #expect((0..<16).allSatisfy { c in zero[(c * 64)..<((c + 1) * 64)].allSatisfy { $0 == Float(c) } })
    }

    /// Negative or non-finite input cannot be quantised to unsigned bytes: the layer runs the
    /// float16 (or float32) kernel instead — the same numbers as under `.float16Inference`.
    @Test func negativeOrNonFiniteInputTakesAnotherKernel() {
        var rng = SplitMix64(seed: 5)
        let conv = Conv2D(name: "c", inputChannels: 8, outputChannels: 8, kernel: 3, padding: 1, rng: &rng)
        let ones = [Float](repeating: 1, count: 8), zeros = [Float](repeating: 0, count: 8)
        var x = reluInput([8, 3, 8, 8], rng: &rng)
        x.data[3 * 64 + 17] = -0.25          // one negative value in the second image
        conv.matmulPrecision = .float16Inference
        let other = conv.forwardPooledForInference(x, affine: (ones, zeros), relu: true)
        conv.matmulPrecision = .int8Inference
        let int8 = conv.forwardPooledForInference(x, affine: (ones, zeros), relu: true)
        // float16's pooled kernel where the CPU has AVX512-FP16; else none: layer by layer (nil)
        #expect((int8 != nil) == MatmulPrecision.float16Available && int8 == other)
        x.data[3 * 64 + 17] = .nan
        var out = [Float](repeating: 0, count: 3 * 8 * 16)
        let (packed, scales) = packedWeights(conv)
        #expect(lfosa_i8_conv_same_pool_forward(8, 8, 3, 3, 3, 8, 8, x.data, 0, 3, packed, scales, ones, zeros, 1, &out) == 1)
        // new weights are packed again
        conv.matmulPrecision = .int8Inference
        x.data[3 * 64 + 17] = 0.5
        let before = conv.forwardPooledForInference(x, affine: (ones, zeros), relu: false)!.data
        conv.weight.value = conv.weight.value.map { -$0 }
        let after = conv.forwardPooledForInference(x, affine: (ones, zeros), relu: false)!.data
        #expect(!after.elementsEqual(before))
        // training never quantises
        conv.matmulPrecision = .float32
        let training = conv.forward(x, mode: .training).data
        conv.matmulPrecision = .int8Inference
        #expect(conv.forward(x, mode: .training).data == training)
        #expect(MatmulPrecision.int8Inference.training == .float32)
    }

    /// The reference CNN at inference without a pixel encoding (its first convolution, on values
    /// that are not pixels, in float16; the two after a ReLU and the dense layer in int8): logits
    /// within 1.5 % of their spread of float32's and nearly every image's arg-max the same.
    @Test func networkLogitsStayClose() {
        var rng = SplitMix64(seed: 9)
        let net = Network.make(.referenceCNN, inputShape: [3, 32, 32], classes: 5, seed: 4)
        let x = Tensor(shape: [64, 3, 32, 32], data: (0..<(64 * 3072)).map { _ in rng.nextUnitFloat() * 4 - 2 })
        net.matmulPrecision = .float32
        let reference = net.forward(x, mode: .inference).data
        net.matmulPrecision = .int8Inference
        let int8 = net.forward(x, mode: .inference).data
        net.matmulPrecision = .float16Inference
        let half = net.forward(x, mode: .inference).data
        #expect(!int8.elementsEqual(half), "the int8 kernel ran")
        expectLogitsClose(int8, reference, classes: 5)
    }
}

/// 8-bit scores against float32's: every logit within 1.5 % of the reference's spread and at
/// least 15 of 16 rows' arg-max the same.
func expectLogitsClose(_ int8: [Float], _ reference: [Float], classes: Int,
                       sourceLocation: SourceLocation = #_sourceLocation) {
    let spread = reference.max()! - reference.min()!
    let worst = zip(int8, reference).map { abs($0 - $1) }.max()!
    #expect(worst <= 0.015 * spread, "worst \(worst) of spread \(spread)", sourceLocation: sourceLocation)
    func argmax(_ v: [Float], _ i: Int) -> Int { (0..<classes).max { v[i * classes + $0] < v[i * classes + $1] }! }
    let rows = reference.count / classes
    let same = (0..<rows).filter { argmax(int8, $0) == argmax(reference, $0) }.count
    #expect(same * 16 >= rows * 15, "\(same) of \(rows) arg-maxes agree", sourceLocation: sourceLocation)
}
