import Dispatch

/// Splits `0..<count` into contiguous chunks and runs `body(lo, hi)` on them in parallel.
///
/// Runs inline when the work is small (`count < minimumPerWorker * 2`) or one core is online.
/// `body` must only write memory that belongs to its own range.
@inline(__always)
func parallelChunks(_ count: Int, minimumPerWorker: Int = 1, _ body: (Int, Int) -> Void) {
    let workers = min(ParallelConfiguration.workers, count / max(1, minimumPerWorker))
    if workers <= 1 {
        if count > 0 { body(0, count) }
        return
    }
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let lo = count * w / workers
            let hi = count * (w + 1) / workers
            if lo < hi { body(lo, hi) }
        }
    }
}

/// How many threads the numeric core splits per-sample work across (BLAS has its own pool).
public enum ParallelConfiguration {
    nonisolated(unsafe) public static var workers: Int = onlineProcessorCount()
}

import CBLAS
import LfosaKernels

/// The arithmetic of a layer's matrix products.
///
/// `bfloat16` rounds both operands of every product to bfloat16 (8-bit mantissa) and sums in
/// float32 on Intel AMX tiles — the mixed precision GPUs train with, 2–3× the float32 sgemm
/// rate on this network's shapes. Weights, gradients, optimiser state and everything outside
/// the products stay float32. Where the CPU has no AMX-BF16 it falls back to float32.
public enum MatmulPrecision: String, Sendable, CaseIterable, Codable {
    case float32 = "fp32"
    case bfloat16 = "bf16"

    /// Whether this machine runs `bfloat16` products natively (Intel AMX-BF16).
    public static var bfloat16Available: Bool { lfosa_amx_bf16_available() != 0 }

    /// The precision products actually run at on this machine when `self` is asked for.
    public var effective: MatmulPrecision { self == .bfloat16 && !Self.bfloat16Available ? .float32 : self }
}

/// Layers whose work is matrix products and that can run them at another precision.
public protocol MatmulPrecisionSettable: AnyObject {
    var matmulPrecision: MatmulPrecision { get set }
}

/// Every matrix product of the numeric core, through OpenBLAS kept single-threaded.
///
/// OpenBLAS's results depend on its thread count (it splits the products differently), and
/// its thread count is process-wide state: toggling it around parallel regions made results
/// depend on whatever else ran at the same time (two trainings in one process, parallel
/// tests) and could leave it stuck at one thread. So OpenBLAS runs one thread, always, and
/// large products are split here by rows of C over `ParallelConfiguration.workers` — the
/// same split for the same worker count, whatever runs beside it.
enum GEMM {
    private static let singleThreaded: Void = { lfosa_blas_set_threads(1) }()

    /// C = alpha·op(A)·op(B) + beta·C, row-major, C is `m × n`. With `parallel`, large
    /// products are split by rows of C across the workers.
    @inline(__always)
    static func sgemm(_ transA: CBLAS_TRANSPOSE, _ transB: CBLAS_TRANSPOSE, m: Int, n: Int, k: Int, alpha: Float = 1,
                      a: UnsafePointer<Float>?, lda: Int, b: UnsafePointer<Float>?, ldb: Int,
                      beta: Float, c: UnsafeMutablePointer<Float>?, ldc: Int, parallel: Bool = true,
                      precision: MatmulPrecision = .float32) {
        _ = singleThreaded
        guard let a, let b, let c else { return }   // empty operands: nothing to multiply
        if precision == .bfloat16 && lfosa_amx_bf16_available() != 0 {
            bf16gemm(transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c,
                     ldc: ldc, parallel: parallel)
            return
        }
        let workers = parallel && m * n * k >= 1 << 21 ? min(ParallelConfiguration.workers, m / 8) : 1
        if workers <= 1 {
            cblas_sgemm(CblasRowMajor, transA, transB, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                        beta, c, Int32(ldc))
            return
        }
        let aRowStride = transA == CblasNoTrans ? lda : 1
        let box = (a: UnsafeRawPointer(a), c: UnsafeMutableRawPointer(c))
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let lo = m * w / workers, hi = m * (w + 1) / workers
            guard lo < hi else { return }
            let aw = box.a.assumingMemoryBound(to: Float.self) + lo * aRowStride
            let cw = box.c.assumingMemoryBound(to: Float.self) + lo * ldc
            cblas_sgemm(CblasRowMajor, transA, transB, Int32(hi - lo), Int32(n), Int32(k), alpha, aw, Int32(lda), b, Int32(ldb),
                        beta, cw, Int32(ldc))
        }
    }
}

extension GEMM {
    /// The AMX path: the same row split over workers as float32 (deterministic per worker count).
    private static func bf16gemm(_ transA: CBLAS_TRANSPOSE, _ transB: CBLAS_TRANSPOSE, m: Int, n: Int, k: Int,
                                 alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                 beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, parallel: Bool) {
        let ta: Int32 = transA == CblasNoTrans ? 0 : 1, tb: Int32 = transB == CblasNoTrans ? 0 : 1
        let workers = parallel && m * n * k >= 1 << 21 ? min(ParallelConfiguration.workers, m / 32) : 1
        if workers <= 1 {
            lfosa_bf16_gemm(ta, tb, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
            return
        }
        let aRowStride = transA == CblasNoTrans ? lda : 1
        let box = (a: UnsafeRawPointer(a), c: UnsafeMutableRawPointer(c))
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            // Row blocks of whole 16-row tiles, so the split does not add ragged tiles.
            let tiles = (m + 15) / 16
            let lo = min(m, tiles * w / workers * 16), hi = min(m, tiles * (w + 1) / workers * 16)
            guard lo < hi else { return }
            let aw = box.a.assumingMemoryBound(to: Float.self) + lo * aRowStride
            let cw = box.c.assumingMemoryBound(to: Float.self) + lo * ldc
            lfosa_bf16_gemm(ta, tb, Int32(hi - lo), Int32(n), Int32(k), alpha, aw, Int32(lda), b, Int32(ldb), beta, cw,
                            Int32(ldc))
        }
    }
}

/// Process-wide allocator tuning for training loops (call once at start-up, from the executable).
public enum AllocatorTuning {
    /// Keeps freed buffers in the heap so per-step allocations do not page-fault.
    public static func keepFreedMemory() { lfosa_malloc_keep_freed_memory() }
}
