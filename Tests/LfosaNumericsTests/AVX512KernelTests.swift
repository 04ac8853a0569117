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
