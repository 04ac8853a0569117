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
                      beta: Float, c: UnsafeMutablePointer<Float>?, ldc: Int, parallel: Bool = true) {
        _ = singleThreaded
        guard let a, let b, let c else { return }   // empty operands: nothing to multiply
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

/// Process-wide allocator tuning for training loops (call once at start-up, from the executable).
public enum AllocatorTuning {
    /// Keeps freed buffers in the heap so per-step allocations do not page-fault.
    public static func keepFreedMemory() { lfosa_malloc_keep_freed_memory() }
}
