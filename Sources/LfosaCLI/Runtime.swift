import Foundation
import LfosaNumerics

/// Process-level set-up the numeric core must not do itself (it takes no environment).
enum Runtime {
    /// Keeps freed training buffers in the heap (no mmap/munmap and page faults per step) and
    /// sets how many threads the numeric core splits work across (OpenBLAS itself runs one).
    static func prepareForNumerics(threads: Int?) {
        AllocatorTuning.keepFreedMemory()
        if let threads, threads > 0 {
            ParallelConfiguration.workers = threads
        }
    }
}
