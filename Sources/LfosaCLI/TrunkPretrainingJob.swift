import Foundation
import LfosaEngine
import LfosaNumerics

/// Self-supervised trunk pretraining on a background thread for interactive sessions: it
/// starts with the session, so the annotator labels the first (cold-start) images while it
/// runs; the session adopts the trunk at the next retraining after it finishes. Cached on
/// disk per pool (`TrunkCache`), so a resumed session gets it at once.
///
/// Contract as `AnnotationTrainingJob`: the owner polls `outcome`/`progress` and may
/// `cancel()` (honoured within one optimiser step); `wait()` joins the thread.
final class TrunkPretrainingJob: @unchecked Sendable {
    enum Outcome: @unchecked Sendable {
        case finished(PretrainedTrunk, cached: Bool, seconds: Double)
        case cancelled
        case failed(String)
    }

    private let lock = NSLock()
    private var cancelled = false
    private var latest: LfosaEngine.TrainingProgress?
    private var result: Outcome?
    private let done = DispatchSemaphore(value: 0)
    private var joined = false
    let started = Date()

    init(source: ImageBatchSource, architecture: Architecture, pretraining: RotationPretraining, cacheDirectory: String?) {
        let thread = Thread { [self] in
            let outcome: Outcome
            do {
                let (trunk, cached) = try TrunkCache.trunk(
                    source: source, architecture: architecture, pretraining: pretraining, cacheDirectory: cacheDirectory,
                    progress: { p in self.lock.lock(); self.latest = p; self.lock.unlock() },
                    isCancelled: { self.isCancelled })
                outcome = .finished(trunk, cached: cached, seconds: Date().timeIntervalSince(started))
            } catch EngineError.cancelled {
                outcome = .cancelled
            } catch {
                outcome = .failed("\(error)")
            }
            lock.lock(); result = outcome; lock.unlock()
            done.signal()
        }
        thread.stackSize = 8 << 20
        thread.name = "lfosa-pretraining"
        thread.start()
    }

    func cancel() { lock.lock(); cancelled = true; lock.unlock() }

    var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return cancelled }

    var progress: LfosaEngine.TrainingProgress? { lock.lock(); defer { lock.unlock() }; return latest }

    var outcome: Outcome? { lock.lock(); defer { lock.unlock() }; return result }

    @discardableResult
    func wait() -> Outcome {
        lock.lock()
        let already = joined
        joined = true
        lock.unlock()
        if !already { done.wait() }
        return outcome ?? .cancelled
    }
}
