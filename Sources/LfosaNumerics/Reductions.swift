/// Vectorised reductions and updates over contiguous Float runs.
///
/// Swift does not reassociate floating-point sums, so a plain loop is a serial dependency
/// chain (one add per 4 cycles). These use independent SIMD accumulators instead; results
/// differ from a serial sum only by rounding.
@inline(__always)
func simdSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var a = SIMD16<Float>(), b = SIMD16<Float>()
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i + 32 <= n {
        a += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        b += raw.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self)
        i += 32
    }
    var s = (a + b).sum()
    while i < n { s += p[i]; i += 1 }
    return s
}

/// Σ (p[i] − shift)² over n values.
@inline(__always)
func simdSquaredDeviation(_ p: UnsafePointer<Float>, _ n: Int, shift: Float) -> Float {
    var a = SIMD16<Float>(), b = SIMD16<Float>()
    let m = SIMD16<Float>(repeating: shift)
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i + 32 <= n {
        let x = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) - m
        let y = raw.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self) - m
        a += x * x
        b += y * y
        i += 32
    }
    var s = (a + b).sum()
    while i < n { let d = p[i] - shift; s += d * d; i += 1 }
    return s
}

/// (Σ g[i], Σ g[i]·x[i]) over n values.
@inline(__always)
func simdSumAndDot(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) -> (Float, Float) {
    var s = SIMD16<Float>(), d = SIMD16<Float>()
    var i = 0
    let rg = UnsafeRawPointer(g), rx = UnsafeRawPointer(x)
    while i + 16 <= n {
        let gv = rg.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        let xv = rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        s += gv
        d += gv * xv
        i += 16
    }
    var ss = s.sum(), dd = d.sum()
    while i < n { ss += g[i]; dd += g[i] * x[i]; i += 1 }
    return (ss, dd)
}
