import Foundation
import LfosaEngine

/// A computation on its own thread that the UI thread polls: cancellation, the latest
/// training progress report and the outcome cross threads under one lock.
///
/// Contract: `body` runs once on a new thread and gets this object, to `report` progress and
/// to check `isCancelled`; the owner polls `progress`/`outcome` and may `cancel()`; `wait()`
/// blocks until the thread is done (any number of calls, from the owner's thread).
final class BackgroundWork<Outcome>: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    private var latest: LfosaEngine.TrainingProgress?
    private var result: Outcome?
    private let done = DispatchSemaphore(value: 0)
    private var joined = false
    /// When the work started (for ETAs).
    let started = Date()

    init(threadName: String, _ body: @escaping @Sendable (BackgroundWork<Outcome>) -> Outcome) {
        let thread = Thread { [self] in
            let outcome = body(self)
            lock.lock(); result = outcome; lock.unlock()
            done.signal()
        }
        thread.stackSize = 8 << 20
        thread.name = threadName
        thread.start()
    }

    /// Asks the work to stop at its next check.
    func cancel() { lock.lock(); cancelled = true; lock.unlock() }

    var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return cancelled }

    /// Called by the work: the latest progress report.
    func report(_ p: LfosaEngine.TrainingProgress) { lock.lock(); latest = p; lock.unlock() }

    /// The latest progress report, nil before the first.
    var progress: LfosaEngine.TrainingProgress? { lock.lock(); defer { lock.unlock() }; return latest }

    /// The outcome once the thread is done, nil while it runs.
    var outcome: Outcome? { lock.lock(); defer { lock.unlock() }; return result }

    /// Blocks until the thread has finished; returns the outcome.
    @discardableResult
    func wait() -> Outcome? {
        lock.lock()
        let already = joined
        joined = true
        lock.unlock()
        if !already { done.wait() }
        return outcome
    }
}
