import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Splitting index ranges over the machine's cores.
enum ParallelWork {
    /// Online processor count (at least 1).
    static var processorCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// Calls `body` once per contiguous chunk of `0..<count`, chunks running concurrently
    /// on up to `workers` threads; returns when all are done. `body` receives the worker
    /// index and its range.
    static func forEachChunk(count: Int, workers: Int = processorCount, _ body: @Sendable (Int, Range<Int>) -> Void) {
        if count == 0 { return }
        let w = max(1, min(workers, count))
        if w == 1 { body(0, 0..<count); return }
        DispatchQueue.concurrentPerform(iterations: w) { k in
            body(k, (count * k / w)..<(count * (k + 1) / w))
        }
    }

    /// Dynamic scheduling for uneven work (image files of very different sizes): each
    /// worker takes the next block of `block` indices until none are left.
    static func forEachBlock(count: Int, block: Int, workers: Int = processorCount, _ body: @Sendable (Int, Range<Int>) -> Void) {
        if count == 0 { return }
        let w = max(1, min(workers, (count + block - 1) / block))
        let next = AtomicCounter()
        DispatchQueue.concurrentPerform(iterations: w) { k in
            while true {
                let start = next.add(block)
                if start >= count { break }
                body(k, start..<min(count, start + block))
            }
        }
    }
}

/// A counter shared between worker threads.
final class AtomicCounter: @unchecked Sendable {
    private var value = 0
    private var lock = pthread_mutex_t()

    init() { pthread_mutex_init(&lock, nil) }
    deinit { pthread_mutex_destroy(&lock) }

    /// Adds `n` and returns the value before.
    func add(_ n: Int) -> Int {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        let old = value
        value += n
        return old
    }
}

/// A raw buffer handed to worker threads that write disjoint parts of it.
struct SharedBuffer<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>
    let count: Int

    subscript(i: Int) -> Element {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }
}
