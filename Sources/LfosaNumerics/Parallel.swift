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

/// OpenBLAS's own thread pool size.
public enum BLASThreads {
    public static func set(_ n: Int) { lfosa_blas_set_threads(Int32(n)) }
    public static var current: Int { Int(lfosa_blas_get_threads()) }
}

/// Process-wide allocator tuning for training loops (call once at start-up, from the executable).
public enum AllocatorTuning {
    /// Keeps freed buffers in the heap so per-step allocations do not page-fault.
    public static func keepFreedMemory() { lfosa_malloc_keep_freed_memory() }
}
