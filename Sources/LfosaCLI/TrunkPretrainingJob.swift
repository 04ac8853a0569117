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

    private let work: BackgroundWork<Outcome>
    var started: Date { work.started }

    init(source: ImageBatchSource, architecture: Architecture, pretraining: RotationPretraining, cacheDirectory: String?) {
        work = BackgroundWork(threadName: "lfosa-pretraining") { work in
            do {
                let t0 = Date()
                let (trunk, cached) = try TrunkCache.trunk(
                    source: source, architecture: architecture, pretraining: pretraining, cacheDirectory: cacheDirectory,
                    progress: { work.report($0) }, isCancelled: { work.isCancelled })
                return .finished(trunk, cached: cached, seconds: Date().timeIntervalSince(t0))
            } catch EngineError.cancelled {
                return .cancelled
            } catch {
                return .failed("\(error)")
            }
        }
    }

    func cancel() { work.cancel() }

    var progress: LfosaEngine.TrainingProgress? { work.progress }

    var outcome: Outcome? { work.outcome }

    @discardableResult
    func wait() -> Outcome { work.wait() ?? .cancelled }
}
