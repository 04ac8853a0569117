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

    /// One layer in training (`TrainingPrecisionChecks.layerForwardAndInputGradient`, within
    /// 2e-2 of float32's).
    @Test(arguments: [(32, 64, 16, 16), (64, 128, 8, 8), (3, 32, 32, 32), (6, 10, 7, 9)])
    func layerForwardAndInputGradient(shape: (cin: Int, cout: Int, h: Int, w: Int)) {
        TrainingPrecisionChecks.layerForwardAndInputGradient(cin: shape.cin, cout: shape.cout, h: shape.h, w: shape.w,
                                                             precision: .bfloat16, tolerance: 2e-2)
    }

    /// The reference CNN trains like the float32 one (`TrainingPrecisionChecks.networkTrainsLikeFloat32`,
    /// final loss within 15 %).
    @Test func networkTrainsLikeFloat32() {
        TrainingPrecisionChecks.networkTrainsLikeFloat32(precision: .bfloat16, lossTolerance: 0.15)
    }
}
