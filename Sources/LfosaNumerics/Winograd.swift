import CBLAS

/// Winograd F(2×2, 3×3) convolution for 3×3, stride 1, padding 1, channel-major maps.
///
/// Each 2×2 output tile is A·[(G·w·Gᵀ) ⊙ (Bᵀ·d·B)]·Aᵀ over a 4×4 input tile d (Lavin & Gray
/// 2016). The 16 element-wise products over all tiles of a batch become 16 matrix products
/// `[Cout, Cin] × [Cin, tiles]`, so a layer costs 16/36 of the im2col multiplications.
/// The backward pass is the exact adjoint: weight gradients as 16 products `dM·Vᵀ`, input
/// gradients as `Uᵀ·dM`, folded back through the transposed transforms.
final class WinogradState {
    private var transformedWeights: [Float] = []   // U: [16][Cout][Cin]
    private var transformedInput: [Float] = []     // V: [16][Cin][tiles]
    private var tilesY = 0, tilesX = 0, tiles = 0

    func forward(_ x: Tensor, weight: [Float], outputChannels cout: Int, keepForBackward: Bool) -> Tensor {
        let cin = x.shape[0], n = x.shape[1], h = x.shape[2], w = x.shape[3]
        tilesY = (h + 1) / 2
        tilesX = (w + 1) / 2
        let perImage = tilesY * tilesX
        tiles = n * perImage
        let u = transformWeights(weight, cout: cout, cin: cin)
        let v = transformInput(x)
        let t = tiles
        let m = [Float](unsafeUninitializedCapacity: 16 * cout * t) { mp, count in
            count = 16 * cout * t
            u.withUnsafeBufferPointer { up in
                v.withUnsafeBufferPointer { vp in
                    // M[ξ] = U[ξ]·V[ξ]
                    sixteenProducts(CblasNoTrans, CblasNoTrans, m: cout, n: t, k: cin,
                                    a: up.baseAddress!, lda: cin, b: vp.baseAddress!, ldb: t, c: mp.baseAddress!)
                }
            }
        }
        if keepForBackward {
            transformedWeights = u
            transformedInput = v
        }
        // Output transform: y = Aᵀ m A per tile, discarding rows/columns beyond the map.
        let tx = tilesX, ty = tilesY
        return Tensor(shape: [cout, n, h, w]) { out in
            m.withUnsafeBufferPointer { mp in
                parallelChunks(cout, minimumPerWorker: 1) { lo, hi in
                    let stride16 = cout * t
                    for co in lo..<hi {
                        for ni in 0..<n {
                            let plane = (co * n + ni) * h * w
                            for by in 0..<ty {
                                for bx in 0..<tx {
                                    let tile = ni * perImage + by * tx + bx
                                    let base = co * t + tile
                                    // load 4×4
                                    @inline(__always) func g(_ k: Int) -> Float { mp[base + k * stride16] }
                                    let m00 = g(0), m01 = g(1), m02 = g(2), m03 = g(3)
                                    let m10 = g(4), m11 = g(5), m12 = g(6), m13 = g(7)
                                    let m20 = g(8), m21 = g(9), m22 = g(10), m23 = g(11)
                                    let m30 = g(12), m31 = g(13), m32 = g(14), m33 = g(15)
                                    // rows: r0 = m0+m1+m2, r1 = m1-m2-m3
                                    let r00 = m00 + m10 + m20, r01 = m01 + m11 + m21, r02 = m02 + m12 + m22, r03 = m03 + m13 + m23
                                    let r10 = m10 - m20 - m30, r11 = m11 - m21 - m31, r12 = m12 - m22 - m32, r13 = m13 - m23 - m33
                                    let y00 = r00 + r01 + r02, y01 = r01 - r02 - r03
                                    let y10 = r10 + r11 + r12, y11 = r11 - r12 - r13
                                    let oy = by * 2, ox = bx * 2
                                    out[plane + oy * w + ox] = y00
                                    if ox + 1 < w { out[plane + oy * w + ox + 1] = y01 }
                                    if oy + 1 < h {
                                        out[plane + (oy + 1) * w + ox] = y10
                                        if ox + 1 < w { out[plane + (oy + 1) * w + ox + 1] = y11 }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    func backward(_ g: Tensor, weight: [Float], weightGradient: inout [Float], inputShape: [Int],
                  outputChannels cout: Int, computeInputGradient: Bool) -> Tensor {
        let cin = inputShape[0], n = inputShape[1], h = inputShape[2], w = inputShape[3]
        let t = tiles, tx = tilesX, ty = tilesY, perImage = ty * tx
        // dM = A·dY·Aᵀ per tile (zero beyond the map).
        let dm = [Float](unsafeUninitializedCapacity: 16 * cout * t) { dp, count in
            count = 16 * cout * t
            g.data.withUnsafeBufferPointer { gp in
                parallelChunks(cout, minimumPerWorker: 1) { lo, hi in
                    let s16 = cout * t
                    for co in lo..<hi {
                        for ni in 0..<n {
                            let plane = (co * n + ni) * h * w
                            for by in 0..<ty {
                                for bx in 0..<tx {
                                    let oy = by * 2, ox = bx * 2
                                    let in1x = ox + 1 < w, in1y = oy + 1 < h
                                    let d00 = gp[plane + oy * w + ox]
                                    let d01: Float = in1x ? gp[plane + oy * w + ox + 1] : 0
                                    let d10: Float = in1y ? gp[plane + (oy + 1) * w + ox] : 0
                                    let d11: Float = (in1x && in1y) ? gp[plane + (oy + 1) * w + ox + 1] : 0
                                    // columns: [d0, d0+d1, d0-d1, -d1] per row
                                    let a0 = d00, a1 = d00 + d01, a2 = d00 - d01, a3 = -d01
                                    let b0 = d10, b1 = d10 + d11, b2 = d10 - d11, b3 = -d11
                                    let base = co * t + ni * perImage + by * tx + bx
                                    // rows: [r0, r0+r1, r0-r1, -r1]
                                    dp[base + 0 * s16] = a0; dp[base + 1 * s16] = a1; dp[base + 2 * s16] = a2; dp[base + 3 * s16] = a3
                                    dp[base + 4 * s16] = a0 + b0; dp[base + 5 * s16] = a1 + b1; dp[base + 6 * s16] = a2 + b2; dp[base + 7 * s16] = a3 + b3
                                    dp[base + 8 * s16] = a0 - b0; dp[base + 9 * s16] = a1 - b1; dp[base + 10 * s16] = a2 - b2; dp[base + 11 * s16] = a3 - b3
                                    dp[base + 12 * s16] = -b0; dp[base + 13 * s16] = -b1; dp[base + 14 * s16] = -b2; dp[base + 15 * s16] = -b3
                                }
                            }
                        }
                    }
                }
            }
        }
        // dU = dM·Vᵀ, then dw += Gᵀ·dU·G.
        var du = [Float](repeating: 0, count: 16 * cout * cin)
        dm.withUnsafeBufferPointer { dp in
            transformedInput.withUnsafeBufferPointer { vp in
                du.withUnsafeMutableBufferPointer { up in
                    sixteenProducts(CblasNoTrans, CblasTrans, m: cout, n: cin, k: t,
                                    a: dp.baseAddress!, lda: t, b: vp.baseAddress!, ldb: t, c: up.baseAddress!)
                }
            }
        }
        let pairs = cout * cin
        du.withUnsafeBufferPointer { up in
            weightGradient.withUnsafeMutableBufferPointer { dw in
                for pr in 0..<pairs {
                    var a = [Float](repeating: 0, count: 16)
                    for k in 0..<16 { a[k] = up[k * pairs + pr] }
                    // rows: 4×4 → 3×4 with Gᵀ: [u0 + .5u1 + .5u2, .5u1 - .5u2, .5u1 + .5u2 + u3]
                    var r = [Float](repeating: 0, count: 12)
                    for c in 0..<4 {
                        let u0 = a[c], u1 = a[4 + c], u2 = a[8 + c], u3 = a[12 + c]
                        r[c] = u0 + 0.5 * (u1 + u2)
                        r[4 + c] = 0.5 * (u1 - u2)
                        r[8 + c] = 0.5 * (u1 + u2) + u3
                    }
                    for i in 0..<3 {
                        let u0 = r[i * 4], u1 = r[i * 4 + 1], u2 = r[i * 4 + 2], u3 = r[i * 4 + 3]
                        dw[pr * 9 + i * 3 + 0] += u0 + 0.5 * (u1 + u2)
                        dw[pr * 9 + i * 3 + 1] += 0.5 * (u1 - u2)
                        dw[pr * 9 + i * 3 + 2] += 0.5 * (u1 + u2) + u3
                    }
                }
            }
        }
        guard computeInputGradient else { return Tensor(shape: [0]) }
        // dV = Uᵀ·dM, then dx += B·dV·Bᵀ scattered over overlapping tiles.
        let dv = [Float](unsafeUninitializedCapacity: 16 * cin * t) { vp, count in
            count = 16 * cin * t
            dm.withUnsafeBufferPointer { dp in
                transformedWeights.withUnsafeBufferPointer { up in
                    sixteenProducts(CblasTrans, CblasNoTrans, m: cin, n: t, k: cout,
                                    a: up.baseAddress!, lda: cin, b: dp.baseAddress!, ldb: t, c: vp.baseAddress!)
                }
            }
        }
        var dx = Tensor(shape: inputShape)
        dx.data.withUnsafeMutableBufferPointer { d in
            dv.withUnsafeBufferPointer { vp in
                parallelChunks(cin, minimumPerWorker: 1) { lo, hi in
                    let s16 = cin * t
                    for ci in lo..<hi {
                        for ni in 0..<n {
                            let plane = (ci * n + ni) * h * w
                            for by in 0..<ty {
                                for bx in 0..<tx {
                                    let base = ci * t + ni * perImage + by * tx + bx
                                    var e = (Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0),
                                             Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0))
                                    withUnsafeMutableBytes(of: &e) { raw in
                                        let v = raw.bindMemory(to: Float.self)
                                        // rows adjoint: dt0 = v0, dt1 = v1 - v2 + v3, dt2 = -v0 + v1 + v2, dt3 = -v3
                                        var r = (Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0),
                                                 Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0))
                                        withUnsafeMutableBytes(of: &r) { rr in
                                            let q = rr.bindMemory(to: Float.self)
                                            for c in 0..<4 {
                                                let v0 = vp[base + c * s16], v1 = vp[base + (4 + c) * s16]
                                                let v2 = vp[base + (8 + c) * s16], v3 = vp[base + (12 + c) * s16]
                                                q[c] = v0
                                                q[4 + c] = v1 - v2 + v3
                                                q[8 + c] = -v0 + v1 + v2
                                                q[12 + c] = -v3
                                            }
                                            for i in 0..<4 {
                                                let v0 = q[i * 4], v1 = q[i * 4 + 1], v2 = q[i * 4 + 2], v3 = q[i * 4 + 3]
                                                v[i * 4] = v0
                                                v[i * 4 + 1] = v1 - v2 + v3
                                                v[i * 4 + 2] = -v0 + v1 + v2
                                                v[i * 4 + 3] = -v3
                                            }
                                        }
                                        let iy0 = by * 2 - 1, ix0 = bx * 2 - 1
                                        for i in 0..<4 {
                                            let iy = iy0 + i
                                            if iy < 0 || iy >= h { continue }
                                            for j in 0..<4 {
                                                let ix = ix0 + j
                                                if ix < 0 || ix >= w { continue }
                                                d[plane + iy * w + ix] += v[i * 4 + j]
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }

    /// U = G·w·Gᵀ for every (cout, cin) pair, laid out `[16][Cout][Cin]`.
    private func transformWeights(_ weight: [Float], cout: Int, cin: Int) -> [Float] {
        let pairs = cout * cin
        return [Float](unsafeUninitializedCapacity: 16 * pairs) { u, count in
            count = 16 * pairs
            weight.withUnsafeBufferPointer { wp in
                for pr in 0..<pairs {
                    let g = wp.baseAddress! + pr * 9
                    // tmp = G·g (4×3)
                    var t = [Float](repeating: 0, count: 12)
                    for c in 0..<3 {
                        let g0 = g[c], g1 = g[3 + c], g2 = g[6 + c]
                        t[c] = g0
                        t[3 + c] = 0.5 * (g0 + g1 + g2)
                        t[6 + c] = 0.5 * (g0 - g1 + g2)
                        t[9 + c] = g2
                    }
                    for r in 0..<4 {
                        let g0 = t[r * 3], g1 = t[r * 3 + 1], g2 = t[r * 3 + 2]
                        u[(r * 4 + 0) * pairs + pr] = g0
                        u[(r * 4 + 1) * pairs + pr] = 0.5 * (g0 + g1 + g2)
                        u[(r * 4 + 2) * pairs + pr] = 0.5 * (g0 - g1 + g2)
                        u[(r * 4 + 3) * pairs + pr] = g2
                    }
                }
            }
        }
    }

    /// V = Bᵀ·d·B for every input tile, laid out `[16][Cin][tiles]`.
    private func transformInput(_ x: Tensor) -> [Float] {
        let cin = x.shape[0], n = x.shape[1], h = x.shape[2], w = x.shape[3]
        let t = tiles, ty = tilesY, tx = tilesX, perImage = ty * tx
        return [Float](unsafeUninitializedCapacity: 16 * cin * t) { v, count in
            count = 16 * cin * t
            x.data.withUnsafeBufferPointer { xp in
                parallelChunks(cin, minimumPerWorker: 1) { lo, hi in
                    let s16 = cin * t
                    for ci in lo..<hi {
                        for ni in 0..<n {
                            let plane = (ci * n + ni) * h * w
                            for by in 0..<ty {
                                let iy0 = by * 2 - 1
                                for bx in 0..<tx {
                                    let ix0 = bx * 2 - 1
                                    var d = (Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0),
                                             Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0))
                                    withUnsafeMutableBytes(of: &d) { raw in
                                        let dd = raw.bindMemory(to: Float.self)
                                        let interior = iy0 >= 0 && iy0 + 3 < h && ix0 >= 0 && ix0 + 3 < w
                                        if interior {
                                            for i in 0..<4 {
                                                let row = plane + (iy0 + i) * w + ix0
                                                dd[i * 4] = xp[row]; dd[i * 4 + 1] = xp[row + 1]
                                                dd[i * 4 + 2] = xp[row + 2]; dd[i * 4 + 3] = xp[row + 3]
                                            }
                                        } else {
                                            for i in 0..<4 {
                                                let iy = iy0 + i
                                                if iy < 0 || iy >= h { continue }
                                                for j in 0..<4 {
                                                    let ix = ix0 + j
                                                    if ix >= 0 && ix < w { dd[i * 4 + j] = xp[plane + iy * w + ix] }
                                                }
                                            }
                                        }
                                        // rows: t0 = d0 - d2, t1 = d1 + d2, t2 = d2 - d1, t3 = d1 - d3
                                        let base = ci * t + ni * perImage + by * tx + bx
                                        for c in 0..<4 {
                                            let d0 = dd[c], d1 = dd[4 + c], d2 = dd[8 + c], d3 = dd[12 + c]
                                            dd[c] = d0 - d2
                                            dd[4 + c] = d1 + d2
                                            dd[8 + c] = d2 - d1
                                            dd[12 + c] = d1 - d3
                                        }
                                        for r in 0..<4 {
                                            let t0 = dd[r * 4], t1 = dd[r * 4 + 1], t2 = dd[r * 4 + 2], t3 = dd[r * 4 + 3]
                                            v[base + (r * 4 + 0) * s16] = t0 - t2
                                            v[base + (r * 4 + 1) * s16] = t1 + t2
                                            v[base + (r * 4 + 2) * s16] = t2 - t1
                                            v[base + (r * 4 + 3) * s16] = t1 - t3
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The 16 independent matrix products of a Winograd F(2×2, 3×3) layer: for each of the 16
/// transform positions ξ, C[ξ] = op(A[ξ])·op(B[ξ]), where the operands are stored back to back
/// (`[16][rows][cols]`, row-major) and C[ξ] is `m × n`.
private func sixteenProducts(_ transA: CBLAS_TRANSPOSE, _ transB: CBLAS_TRANSPOSE, m: Int, n: Int, k: Int,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             c: UnsafeMutablePointer<Float>) {
    // The products are independent: split them over the workers (single-threaded BLAS each).
    parallelChunks(16) { lo, hi in
        for xi in lo..<hi {
            GEMM.sgemm(transA, transB, m: m, n: n, k: k, a: a + xi * m * k, lda: lda, b: b + xi * k * n, ldb: ldb,
                       beta: 0, c: c + xi * m * n, ldc: n, parallel: false)
        }
    }
}
