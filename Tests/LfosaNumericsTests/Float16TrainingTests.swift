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

    /// One layer in training (`TrainingPrecisionChecks.layerForwardAndInputGradient`, within
    /// 4e-3 of float32's).
    @Test(arguments: [(32, 64, 16, 16), (64, 128, 8, 8), (3, 32, 32, 32), (6, 10, 7, 9)])
    func layerForwardAndInputGradient(shape: (cin: Int, cout: Int, h: Int, w: Int)) {
        TrainingPrecisionChecks.layerForwardAndInputGradient(cin: shape.cin, cout: shape.cout, h: shape.h, w: shape.w,
                                                             precision: .float16, tolerance: 4e-3)
    }

    /// The reference CNN trains like the float32 one (`TrainingPrecisionChecks.networkTrainsLikeFloat32`,
    /// final loss within 10 %).
    @Test func networkTrainsLikeFloat32() {
        TrainingPrecisionChecks.networkTrainsLikeFloat32(precision: .float16, lossTolerance: 0.1)
    }
}
