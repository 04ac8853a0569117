import LfosaKernels
import Testing
@testable import LfosaNumerics

/// The AVX-512 pooling and pooled batch-norm backward kernels against the Swift loops they
/// replace (skipped where the CPU has no AVX-512).
@Suite(.enabled(if: KernelDispatch.hasAVX512, "no AVX-512 on this CPU"))
struct AVX512KernelTests {
    /// Outputs, arg-max indices (first maximum on ties) and the inputs at the maxima are
    /// identical to the Swift kernel's, with and without the affine (negative scale) and ReLU,
    /// on planes with 16-output steps, tails and odd sizes.
    @Test(arguments: [(32, 32), (16, 16), (8, 8), (13, 13), (6, 10), (2, 34), (28, 28), (3, 1), (5, 66)])
    func poolingMatchesSwift(shape: (h: Int, w: Int)) {
        let (h, w) = shape
        var rng = SplitMix64(seed: UInt64(h * 100 + w))
        // few distinct values: ties in most windows
        let x = (0..<(h * w)).map { _ in Float(Int(rng.nextUnitFloat() * 5)) - 2 }
        let ho = h / 2, wo = w / 2
        for (affine, relu, scale) in [(false, false, Float(1)), (true, true, Float(-0.75)), (true, false, Float(1.5))] {
            var outC = [Float](repeating: .nan, count: ho * wo), outS = outC
            var amC = [Int32](repeating: -1, count: ho * wo), amS = amC
            var miC = [Float](repeating: .nan, count: ho * wo), miS = miC
            x.withUnsafeBufferPointer { xp in
                lfosa_pool2x2_plane(xp.baseAddress, Int32(h), Int32(w), scale, 0.25, affine ? 1 : 0, relu ? 1 : 0,
                                    &outC, &amC, 7, &miC)
                MaxPool2x2Kernel.plane(xp.baseAddress!, h: h, w: w, out: &outS, argmax: &amS, base: 7, maxInput: &miS,
                                       scale: scale, shift: 0.25, affine: affine, relu: relu)
            }
            #expect(outC == outS)
            #expect(amC == amS)
            #expect(miC == miS)
            #expect(amC.allSatisfy { $0 >= 7 && $0 < 7 + Int32(h * w) })
        }
    }

    /// Σ dy, Σ dy·x̂ and the input gradient agree with the Swift loop to float32 summation order.
    @Test(arguments: [(32, 32, 6), (8, 8, 5), (13, 13, 3), (16, 16, 1)])
    func batchNormBackwardMatchesSwift(shape: (h: Int, w: Int, n: Int)) {
        let (h, w, n) = shape
        var rng = SplitMix64(seed: UInt64(h * 31 + w * 7 + n))
        let plane = n * h * w, ho = h / 2, wo = w / 2, per = n * ho * wo
        let channelBase = 3 * plane       // the channel's place in a bigger input
        let x = (0..<plane).map { _ in rng.nextUnitFloat() * 4 - 2 }
        let g = (0..<per).map { _ in rng.nextUnitFloat() - 0.5 }
        var out = [Float](repeating: 0, count: per), argmax = [Int32](repeating: 0, count: per)
        var maxInput = [Float](repeating: 0, count: per)
        x.withUnsafeBufferPointer { xp in
            for i in 0..<n {
                MaxPool2x2Kernel.plane(xp.baseAddress! + i * h * w, h: h, w: w, out: &out[i * ho * wo],
                                       argmax: &argmax[i * ho * wo], base: Int32(channelBase + i * h * w),
                                       maxInput: &maxInput[i * ho * wo], scale: 0.8, shift: -0.1, affine: true, relu: true)
            }
        }
        var dxC = [Float](repeating: .nan, count: plane), dxS = dxC
        var dgC: Float = 0, dbC: Float = 0, dgS: Float = 0, dbS: Float = 0
        lfosa_bn_pool_backward_channel(g, maxInput, out, argmax, Int32(per), x, Int32(plane), &dxC, Int32(channelBase),
                                       0.1, 1.3, 0.8, 1, &dgC, &dbC)
        g.withUnsafeBufferPointer { gp in
            BatchNorm.backwardPooledChannel(g: gp.baseAddress!, maxInput: maxInput, output: out, argmax: argmax, count: per,
                                            x: x, plane: plane, dx: &dxS, channelBase: channelBase, mean: 0.1,
                                            inverseStd: 1.3, gamma: 0.8, relu: true, dGamma: &dgS, dBeta: &dbS)
        }
        let sumAbs = g.reduce(0) { $0 + abs($1) } * 3
        #expect(abs(dgC - dgS) <= 1e-5 * sumAbs && abs(dbC - dbS) <= 1e-5 * sumAbs, "\(dgC) \(dgS) \(dbC) \(dbS)")
        let scale = max(1, dxS.map(abs).max() ?? 1)
        #expect(zip(dxC, dxS).allSatisfy { abs($0 - $1) <= 1e-4 * scale })
        #expect(dxC.allSatisfy { $0.isFinite })
        #expect(dbS != 0)
    }
}

/// The float32 implicit-GEMM "same" convolutions (forward, input gradient as the rotated kernel's
/// forward, weight gradient) against unfolding + sgemm: the same sums in another order (fused
/// multiply-adds, per-lane partial sums), so equal to float32 rounding. Shapes cover the
/// reference CNN's layers, 1×1 and 5×5 kernels, output channels that are not a multiple of the
/// 8-channel block, planes whose pixel count is not a multiple of the 32-pixel block, rows
/// narrower and wider than a vector, and a plane smaller than the kernel.
@Suite(.enabled(if: KernelDispatch.hasAVX512, "no AVX-512 on this CPU"))
struct DirectFloat32ConvolutionTests {
    @Test(arguments: [(3, 32, 3, 5, 32, 32), (32, 64, 3, 4, 16, 16), (64, 128, 3, 3, 8, 8), (5, 17, 5, 2, 4, 4),
                      (7, 20, 3, 3, 8, 2), (4, 8, 3, 2, 28, 28), (3, 16, 1, 2, 16, 48), (16, 20, 5, 3, 6, 10),
                      (48, 5, 3, 2, 14, 14), (6, 11, 3, 2, 7, 7), (2, 3, 5, 2, 3, 1)])
    func equalsUnfoldedProduct(shape: (Int, Int, Int, Int, Int, Int)) {
        let (cin, cout, kernel, n, h, w) = shape
        var rng = SplitMix64(seed: UInt64(cin * 1000 + cout))
        let conv = Conv2D(name: "c", inputChannels: cin, outputChannels: cout, kernel: kernel, padding: kernel / 2, rng: &rng)
        #expect(conv.directKernel(h: h, w: w, ho: h, wo: w) == .float32)
        let x = Tensor(shape: [cin, n, h, w], data: (0..<(cin * n * h * w)).map { _ in rng.nextUnitFloat() * 2 - 1 })
        let g = Tensor(shape: [cout, n, h, w], data: (0..<(cout * n * h * w)).map { _ in rng.nextUnitFloat() - 0.5 })
        func run(direct: Bool, oneImagePerCall: Bool = false) -> (y: [Float], dw: [Float], dx: [Float]) {
            conv.allowsDirectFloat32 = direct
            conv.imagesPerChunkOverride = oneImagePerCall ? 1 : nil
            conv.weight.zeroGradient()
            let y = conv.forward(x, mode: .training)
            let dx = conv.backward(g)
            #expect(y.shape == [cout, n, h, w] && dx.shape == x.shape)
            return (y.data, conv.weight.gradient, dx.data)
        }
        func close(_ a: [Float], _ b: [Float]) -> Bool {
            let scale = max(1, b.map(abs).max() ?? 1)
            return a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 2e-6 * scale }
        }
        let direct = run(direct: true), unfolded = run(direct: false), perImage = run(direct: true, oneImagePerCall: true)
        #expect(close(direct.y, unfolded.y))
        #expect(close(direct.dx, unfolded.dx))
        #expect(close(direct.dw, unfolded.dw))
        // another split of the images over calls and workers: the same numbers (weight
        // gradients summed in another order)
        #expect(perImage.y == direct.y && perImage.dx == direct.dx)
        #expect(close(perImage.dw, direct.dw))
    }

    /// Output rows of images outside the call's range and elements past the map are untouched;
    /// beta scales the existing weight gradient.
    @Test func writesOnlyItsImagesAndScalesByBeta() {
        let cin = 3, cout = 10, n = 4, h = 5, w = 7, k = cin * 9
        var rng = SplitMix64(seed: 77)
        let x = (0..<(cin * n * h * w)).map { _ in rng.nextUnitFloat() - 0.5 }
        let weight = (0..<(cout * k)).map { _ in rng.nextUnitFloat() - 0.5 }
        let ldc = n * h * w + 5
        var out = [Float](repeating: 42, count: cout * ldc)
        lfosa_f32_conv_same_forward(Int32(cout), Int32(cin), 3, 3, Int32(n), Int32(h), Int32(w), x, 1, 3, weight, &out,
                                    Int32(ldc))
        for co in 0..<cout {
            for i in 0..<(h * w) { #expect(out[co * ldc + i] == 42); #expect(out[co * ldc + 3 * h * w + i] == 42) }
            for i in (n * h * w)..<ldc { #expect(out[co * ldc + i] == 42) }
            #expect(out[co * ldc + h * w] != 42 && out[co * ldc + 3 * h * w - 1] != 42)
        }
        let g = (0..<(cout * n * h * w)).map { _ in rng.nextUnitFloat() - 0.5 }
        var none = [Float](repeating: 3, count: cout * k), half = none
        lfosa_f32_conv_same_weight_gradient(Int32(cout), Int32(cin), 3, 3, Int32(n), Int32(h), Int32(w), x, 2, 2, g,
                                            Int32(n * h * w), 0.5, &none)
        #expect(none.allSatisfy { $0 == 1.5 })
        var zero = [Float](repeating: 0, count: cout * k)
        lfosa_f32_conv_same_weight_gradient(Int32(cout), Int32(cin), 3, 3, Int32(n), Int32(h), Int32(w), x, 0, Int32(n), g,
                                            Int32(n * h * w), 0, &zero)
        lfosa_f32_conv_same_weight_gradient(Int32(cout), Int32(cin), 3, 3, Int32(n), Int32(h), Int32(w), x, 0, Int32(n), g,
                                            Int32(n * h * w), 0.5, &half)
        #expect(zip(half, zero).allSatisfy { abs($0 - ($1 + 1.5)) <= 1e-5 })
    }
}
