import LfosaKernels
import Testing
@testable import LfosaNumerics

/// The float16 inference convolution (AVX512-FP16) against the float32 kernel: within float16
/// rounding, only at inference, the float32 fallback when a sum leaves float16's range, and
/// in a whole network (skipped where the CPU has no AVX512-FP16).
@Suite(.enabled(if: MatmulPrecision.float16Available, "no AVX512-FP16 on this CPU"))
struct Float16ConvolutionTests {
    /// Planes of whole and partial 64-pixel blocks, narrower and wider than a vector, 3- and 5-wide
    /// kernels, output channels not a multiple of 8, several images over the workers: each
    /// output within float16 rounding of the float32 kernel's (relative to the output's scale),
    /// and exactly the same numbers when the images are split over calls differently.
    @Test(arguments: [(3, 16, 32, 32, 3), (32, 40, 16, 16, 3), (64, 128, 8, 8, 3), (5, 9, 7, 9, 3), (4, 6, 13, 5, 5),
                      (2, 3, 6, 70, 3), (40, 8, 3, 3, 3)])
    func matchesFloat32WithinHalfPrecision(shape: (cin: Int, cout: Int, h: Int, w: Int, kernel: Int)) {
        let (cin, cout, h, w, kernel) = shape
        let n = 5
        var rng = SplitMix64(seed: UInt64(cin * 1000 + h))
        let conv = Conv2D(name: "c", inputChannels: cin, outputChannels: cout, kernel: kernel, padding: kernel / 2, rng: &rng)
        let x = Tensor(shape: [cin, n, h, w], data: (0..<(cin * n * h * w)).map { _ in rng.nextUnitFloat() * 4 - 2 })
        conv.matmulPrecision = .float32
        let reference = conv.forward(x, mode: .inference).data
        conv.matmulPrecision = .float16Inference
        let half = conv.forward(x, mode: .inference).data
        let training = conv.forward(x, mode: .training).data
        #expect(training == reference, "training stays in float32")
        #expect(zip(half, reference).contains { $0 != $1 }, "the float16 kernel ran")
        let scale = reference.map(abs).max()!
        let worst = zip(half, reference).map { abs($0 - $1) }.max()!
        // inputs and weights rounded to float16 (2^-11 relative each), partial sums of ≤ 48 products
        #expect(worst <= 4e-3 * scale, "worst \(worst) at scale \(scale)")
        let mean = zip(half, reference).map { abs($0 - $1) }.reduce(0, +) / Float(half.count)
        #expect(mean <= 5e-4 * scale, "mean \(mean) at scale \(scale)")
        // one call per image: the same numbers as the layer's split over its workers
        var perImage = [Float](repeating: .nan, count: half.count)
        for i in 0..<n {
            let bad = lfosa_f16_conv_same_forward(Int32(cout), Int32(cin), Int32(kernel), Int32(kernel), Int32(n), Int32(h), Int32(w),
                                                  x.data, Int32(i), Int32(i + 1), conv.weight.value, &perImage, Int32(n * h * w))
            #expect(bad == 0)
        }
        #expect(perImage.elementsEqual(half), "another split of the images: the same numbers")
    }

    /// The fused kernel (convolution, batch norm's affine, 2×2 max-pool, ReLU) against the float16
    /// convolution followed by the pooling kernel: the same float32 sums, so the same outputs up to
    /// the affine's rounding; planes it does not take (12 wide) are left to the layers.
    @Test(arguments: [(3, 16, 32, 32), (32, 40, 16, 16), (64, 20, 8, 8), (8, 8, 4, 12)])
    func pooledMatchesConvolutionThenPool(shape: (cin: Int, cout: Int, h: Int, w: Int)) {
        let (cin, cout, h, w) = shape
        let n = 3
        var rng = SplitMix64(seed: UInt64(cout * 100 + w))
        let conv = Conv2D(name: "c", inputChannels: cin, outputChannels: cout, kernel: 3, padding: 1, rng: &rng)
        conv.matmulPrecision = .float16Inference
        let x = Tensor(shape: [cin, n, h, w], data: (0..<(cin * n * h * w)).map { _ in rng.nextUnitFloat() * 4 - 2 })
        let scale = (0..<cout).map { _ in rng.nextUnitFloat() * 3 - 1 }   // some negative
        let shift = (0..<cout).map { _ in rng.nextUnitFloat() - 0.5 }
        for relu in [false, true] {
            let fused = conv.forwardPooledForInference(x, affine: (scale, shift), relu: relu)
            guard w != 12 else { #expect(fused == nil); continue }
            let reference = MaxPool2x2Kernel.pool(conv.forward(x, mode: .inference), argmax: nil, affine: (scale, shift), relu: relu)
            #expect(fused?.shape == [cout, n, h / 2, w / 2])
            let bound = 1e-5 * (reference.data.map(abs).max()! + 1)
            #expect(zip(fused!.data, reference.data).allSatisfy { abs($0 - $1) <= bound })
            #expect(!relu || fused!.data.allSatisfy { $0 >= 0 })
        }
    }

    /// A sum beyond float16's range (65504) would be infinite: the layer is redone in float32.
    @Test func overflowFallsBackToFloat32() {
        var rng = SplitMix64(seed: 3)
        let conv = Conv2D(name: "c", inputChannels: 8, outputChannels: 8, kernel: 3, padding: 1, rng: &rng)
        conv.weight.value = conv.weight.value.map { $0 > 0 ? 300 : -100 }
        let x = Tensor(shape: [8, 2, 8, 8], data: (0..<(8 * 2 * 64)).map { _ in 40 + rng.nextUnitFloat() })
        conv.matmulPrecision = .float32
        let reference = conv.forward(x, mode: .inference).data
        #expect(reference.map(abs).max()! > 65504)
        conv.matmulPrecision = .float16Inference
        let half = conv.forward(x, mode: .inference).data
        #expect(half.allSatisfy { $0.isFinite })
        #expect(half.elementsEqual(reference), "redone in float32")
        // the fused kernel reports it too and leaves the layer to the unfused path
        #expect(conv.forwardPooledForInference(x, affine: ([Float](repeating: 1, count: 8), [Float](repeating: 0, count: 8)),
                                               relu: true) == nil)
    }

    /// The reference CNN at inference: the same predictions as float32 for nearly every image,
    /// logits within a small fraction of their spread.
    @Test func networkLogitsStayClose() {
        var rng = SplitMix64(seed: 9)
        let net = Network.make(.referenceCNN, inputShape: [3, 32, 32], classes: 5, seed: 4)
        let x = Tensor(shape: [64, 3, 32, 32], data: (0..<(64 * 3072)).map { _ in rng.nextUnitFloat() * 4 - 2 })
        net.matmulPrecision = .float32
        let reference = net.forward(x, mode: .inference).data
        net.matmulPrecision = .float16Inference
        let half = net.forward(x, mode: .inference).data
        let spread = reference.max()! - reference.min()!
        #expect(zip(half, reference).contains { $0 != $1 })
        #expect(zip(half, reference).allSatisfy { abs($0 - $1) <= 2e-3 * spread })
    }
}
