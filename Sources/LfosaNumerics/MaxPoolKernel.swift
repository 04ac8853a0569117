import LfosaKernels

/// Vectorised 2×2 stride-2 max pooling of one `h × w` plane (floor output size).
///
/// Each output row reads two input rows 16 floats at a time, takes the vertical maximum, then
/// the maximum of even and odd lanes: 8 outputs per step. With `argmax`, the offset of the
/// first maximum in row-major order (as PyTorch) is written for each output, plus `base`.
/// With an affine `(scale, shift)` the inputs are `scale·x + shift` and with `relu` the output
/// is clamped at 0 — batch norm's inference affine and the ReLU, fused into the pooling pass
/// (the affine runs before the maximum, so a negative scale stays correct).
enum MaxPool2x2Kernel {
    /// Pools every plane of `[C, N, H, W]` in parallel. `argmax`, when given, receives for each
    /// output the index of its window's maximum in `x`; `affine` is per channel.
    /// `maxInput`, when given with `argmax`, receives the input value at each window's maximum
    /// (before the affine), so a backward pass can use it without a gather.
    static func pool(_ x: Tensor, argmax: UnsafeMutablePointer<Int32>?,
                     affine: (scale: [Float], shift: [Float])? = nil, relu: Bool = false,
                     maxInput: UnsafeMutablePointer<Float>? = nil) -> Tensor {
        precondition(x.shape.count == 4, "2×2 pooling expects [C, N, H, W], got \(x.shape)")
        let c = x.shape[0], n = x.shape[1], h = x.shape[2], w = x.shape[3]
        precondition(affine.map { $0.scale.count == c && $0.shift.count == c } ?? true, "one affine per channel")
        let ho = h / 2, wo = w / 2
        return Tensor(shape: [c, n, ho, wo]) { out in
            x.data.withUnsafeBufferPointer { xp in
                parallelChunks(c * n, minimumPerWorker: 8) { lo, hi in
                    for p in lo..<hi {
                        let scale = affine?.scale[p / n] ?? 1, shift = affine?.shift[p / n] ?? 0
                        if KernelDispatch.hasAVX512 {
                            lfosa_pool2x2_plane(xp.baseAddress! + p * h * w, Int32(h), Int32(w), scale, shift,
                                                affine != nil ? 1 : 0, relu ? 1 : 0, out.baseAddress! + p * ho * wo,
                                                argmax.map { $0 + p * ho * wo }, Int32(p * h * w),
                                                argmax == nil ? nil : maxInput.map { $0 + p * ho * wo })
                            continue
                        }
                        plane(xp.baseAddress! + p * h * w, h: h, w: w, out: out.baseAddress! + p * ho * wo,
                              argmax: argmax.map { $0 + p * ho * wo }, base: Int32(p * h * w),
                              maxInput: maxInput.map { $0 + p * ho * wo },
                              scale: scale, shift: shift, affine: affine != nil, relu: relu)
                    }
                }
            }
        }
    }

    @inline(__always)
    static func plane(_ x: UnsafePointer<Float>, h: Int, w: Int, out: UnsafeMutablePointer<Float>,
                      argmax: UnsafeMutablePointer<Int32>?, base: Int32, maxInput: UnsafeMutablePointer<Float>? = nil,
                      scale: Float = 1, shift: Float = 0, affine: Bool = false, relu: Bool = false) {
        let ho = h / 2, wo = w / 2
        let w32 = Int32(w)
        let lane = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
        for oy in 0..<ho {
            let r0 = x + 2 * oy * w, r1 = r0 + w, o = out + oy * wo
            var ox = 0
            while ox + 8 <= wo {
                let rawTop = UnsafeRawPointer(r0 + 2 * ox).loadUnaligned(as: SIMD16<Float>.self)
                let rawBottom = UnsafeRawPointer(r1 + 2 * ox).loadUnaligned(as: SIMD16<Float>.self)
                var top = rawTop, bottom = rawBottom
                if affine {
                    top = top * scale + shift
                    bottom = bottom * scale + shift
                }
                let a = top.evenHalf, b = top.oddHalf, c = bottom.evenHalf, d = bottom.oddHalf
                var m = vmax(vmax(a, b), vmax(c, d))
                if let argmax {
                    let one = SIMD8<Int32>(repeating: 1)
                    let zero = SIMD8<Int32>(repeating: 0)
                    let na = one.replacing(with: zero, where: a .== m)
                    let nb = one.replacing(with: zero, where: b .== m)
                    let nc = one.replacing(with: zero, where: c .== m)
                    let start = SIMD8<Int32>(repeating: base + Int32(2 * oy * w + 2 * ox)) &+ lane
                    let idx = start &+ na &* (one &+ nb &* (SIMD8<Int32>(repeating: w32 - 1) &+ nc))
                    UnsafeMutableRawPointer(argmax + oy * wo + ox).storeBytes(of: idx, as: SIMD8<Int32>.self)
                    if let maxInput {
                        // the first maximum in the order a, b, c, d, as the index above
                        var v = rawBottom.oddHalf
                        v.replace(with: rawBottom.evenHalf, where: c .== m)
                        v.replace(with: rawTop.oddHalf, where: b .== m)
                        v.replace(with: rawTop.evenHalf, where: a .== m)
                        UnsafeMutableRawPointer(maxInput + oy * wo + ox).storeBytes(of: v, as: SIMD8<Float>.self)
                    }
                }
                if relu { m = vmax(m, SIMD8<Float>(repeating: 0)) }
                UnsafeMutableRawPointer(o + ox).storeBytes(of: m, as: SIMD8<Float>.self)
                ox += 8
            }
            while ox < wo {
                var a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1]
                if affine {
                    a = a * scale + shift; b = b * scale + shift; c = c * scale + shift; d = d * scale + shift
                }
                let m = max(max(a, b), max(c, d))
                if let argmax {
                    let na: Int32 = a != m ? 1 : 0, nb: Int32 = b != m ? 1 : 0, nc: Int32 = c != m ? 1 : 0
                    argmax[oy * wo + ox] = base + Int32(2 * oy * w + 2 * ox) + na * (1 + nb * (w32 - 1 + nc))
                    if let maxInput {
                        maxInput[oy * wo + ox] = na == 0 ? r0[2 * ox] : nb == 0 ? r0[2 * ox + 1] : nc == 0 ? r1[2 * ox] : r1[2 * ox + 1]
                    }
                }
                o[ox] = relu ? max(m, 0) : m
                ox += 1
            }
        }
    }

    /// Lane-wise maximum as compare + blend (the standard library's `pointwiseMax` is a
    /// per-lane loop that is not inlined here).
    @inline(__always)
    static func vmax(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { a.replacing(with: b, where: b .> a) }
}
