import Foundation
import ArgumentParser
import LfosaEngine
import LfosaNumerics

/// What one background training job produced: the new ranking and what the screens show of it.
struct AnnotationTrainingResult: @unchecked Sendable {
    /// The ranking, best first (the batch plus the look-ahead the annotator may label while
    /// the next job trains).
    var ranking: [QueryItem]
    var mixtures: [ClassMixture]
    /// Pool indices of each mixture's group, in the order of its MAVs (nil unless requested).
    var groupMembers: [[Int]]?
    var summary: TrainingSummary
    var trainSeconds: Double
    var scoreSeconds: Double
    /// Why the classifier checkpoint could not be written, if it could not.
    var checkpointProblem: String?
}

/// How a background training job ended.
enum AnnotationTrainingOutcome: @unchecked Sendable {
    case finished(AnnotationTrainingResult)
    case cancelled
    case failed(String)
}

/// One retrain + score of an `ActiveLearningLoop` on a background thread.
///
/// Contract: while the job runs, only its thread touches the loop; the owner polls `outcome`
/// (and `progress` for the screen) from the UI thread, and may `cancel()` — the engine checks
/// the flag every optimiser step, so cancelling takes at most one step. `wait()` blocks until
/// the thread has left the loop. Progress and outcome cross threads under one lock.
final class AnnotationTrainingJob: @unchecked Sendable {
    private let work: BackgroundWork<AnnotationTrainingOutcome>
    /// When the job started (for the ETA).
    var started: Date { work.started }
    /// The round the ranking will be for.
    let round: Int

    /// Starts training `loop` now; `lookahead` ranked items are asked for; with
    /// `withGroups`, the detector's groups are recomputed so the screen can split them by
    /// ground truth (demo).
    /// `checkpoint`, when given, receives the trained classifier's weight archive (on the job's
    /// thread) and returns a problem description if it could not store it.
    init(loop: ActiveLearningLoop, round: Int, lookahead: Int, withGroups: Bool,
         checkpoint: (@Sendable ([UInt8]) -> String?)? = nil) {
        self.round = round
        let box = LoopBox(loop: loop)
        work = BackgroundWork(threadName: "lfosa-training") { work in
            Self.run(box.loop, lookahead: lookahead, withGroups: withGroups, checkpoint: checkpoint, work: work)
        }
    }

    /// Asks the engine to stop at its next step (the networks keep their previous weights).
    func cancel() { work.cancel() }

    /// The latest progress report, nil before the first.
    var progress: LfosaEngine.TrainingProgress? { work.progress }

    /// The outcome once the thread is done, nil while it runs.
    var outcome: AnnotationTrainingOutcome? { work.outcome }

    /// Blocks until the thread has finished with the loop; returns the outcome.
    @discardableResult
    func wait() -> AnnotationTrainingOutcome { work.wait() ?? .cancelled }

    private struct LoopBox: @unchecked Sendable { let loop: ActiveLearningLoop }

    private static func run(_ loop: ActiveLearningLoop, lookahead: Int, withGroups: Bool,
                            checkpoint: (@Sendable ([UInt8]) -> String?)?,
                            work: BackgroundWork<AnnotationTrainingOutcome>) -> AnnotationTrainingOutcome {
        do {
            let t0 = Date()
            let summary = try loop.retrain(progress: { work.report($0) }, isCancelled: { work.isCancelled })
            let t1 = Date()
            if work.isCancelled { return .cancelled }
            // With groups, the whole pool is ranked: every item's predicted class gives the
            // mixture groups in pool order (no second inference pass).
            let full = try loop.nextQuery(batch: withGroups ? Int.max : lookahead, queryBatch: lookahead)
            var groups: [[Int]]? = nil
            if withGroups {
                var g = [[Int]](repeating: [], count: loop.knownClasses)
                for item in full { if let c = item.predictedClass, c < g.count { g[c].append(item.index) } }
                groups = g.map { $0.sorted() }
            }
            let ranking = Array(full.prefix(lookahead))
            let scoreSeconds = Date().timeIntervalSince(t1)
            var problem: String? = nil
            if let checkpoint, let network = loop.classifyingNetwork {
                var metadata = [
                    "architecture": loop.profile.architecture.rawValue, "classes": "\(loop.knownClasses)",
                    "outputs": "\(network.classes)", "role": network === loop.classifier ? "classifier" : "detector",
                    "input_shape": loop.source.imageShape.map(String.init).joined(separator: "x"),
                    "round": "\(loop.round)", "labeled": "\(loop.labeled.count)", "profile": loop.profile.name,
                    "normalization_mean": loop.normalization.mean.map { "\($0)" }.joined(separator: ","),
                    "normalization_std": loop.normalization.std.map { "\($0)" }.joined(separator: ","),
                ]
                if network.classes > loop.knownClasses { metadata["unknown_output"] = "\(loop.knownClasses)" }
                problem = checkpoint(WeightArchive(network: network, metadata: metadata).encoded())
            }
            return .finished(AnnotationTrainingResult(ranking: ranking, mixtures: loop.lastMixtures, groupMembers: groups,
                                                      summary: summary, trainSeconds: t1.timeIntervalSince(t0),
                                                      scoreSeconds: scoreSeconds, checkpointProblem: problem))
        } catch EngineError.cancelled {
            return .cancelled
        } catch {
            return .failed("\(error)")
        }
    }
}

/// Training settings for interactive use: a bounded, fixed number of steps per round.
enum AnnotationProfile {
    /// The `fast` profile's network and schedules, with `steps` optimiser steps per network
    /// per round (the first round too) at batch `batchSize`, warm-started. With
    /// `detectorClassifies` (the default, as in `fast`) only the (K+1)-way detector trains and
    /// its first K logits give the hints: half the retraining time, the same queries.
    static func interactive(steps: Int, batchSize: Int, architecture: Architecture = .referenceCNN,
                            detectorClassifies: Bool = true) -> TrainingProfile {
        TrainingProfile(name: "interactive-\(steps)x\(batchSize)", architecture: architecture, epochsPerRound: 1,
                        firstRoundEpochs: 1, minStepsPerRound: steps, maxStepsPerRound: steps, batchSize: batchSize,
                        schedule: .oneCycle(max: 0.05, warmupFraction: 0.25),
                        warmSchedule: .oneCycle(max: 0.02, warmupFraction: 0.15),
                        momentum: 0.9, weightDecay: 5e-4, augmentation: .cropFlip, warmStart: true, inferenceBatch: 64,
                        detectorClassifies: detectorClassifies)
    }

    /// What a `label` or `demo` session trains with: `interactive(steps:batchSize:detectorClassifies:)`,
    /// the background trunk for a pool of `poolSize` images (`pretraining`), class-balanced
    /// batches when `classBalanced` says so (nil: off), the scoring's flip averaging (nil: off)
    /// with `candidateShifts` shifted views under `.candidates` (nil: `fast`'s) and the
    /// products at `matmul` / `training` precision.
    static func session(steps: Int, batchSize: Int, detectorClassifies: Bool, classBalanced: Bool?, poolSize: Int,
                        pretrainSteps: Int?, flipScoring: FlipScoring?, candidateShifts: Int?, matmul: MatmulPrecision,
                        training: TrainingPrecision) -> TrainingProfile {
        var profile = interactive(steps: steps, batchSize: batchSize, detectorClassifies: detectorClassifies)
        profile.pretraining = pretraining(poolSize: poolSize, steps: pretrainSteps)
        if let classBalanced { profile.classBalanced = classBalanced }
        profile.flipScoring = flipScoring ?? .off
        profile.candidateShifts = candidateShifts ?? TrainingProfile.fast.candidateShifts
        return profile.withMatmulPrecision(matmul).withTrainingPrecision(training)
    }

    /// Background self-supervised pretraining for a pool of `poolSize` images: `steps` when
    /// given (0 = none), otherwise 10 epochs over every rotation clamped to 300–3000 steps,
    /// and none for pools under 500 images (too few to learn features from).
    static func pretraining(poolSize: Int, steps: Int?) -> RotationPretraining? {
        let s = steps ?? (poolSize < 500 ? 0 : RotationPretraining.steps(images: poolSize, epochs: 10, range: 300...3000))
        return s > 0 ? RotationPretraining(steps: s) : nil
    }
}

/// The training options `label` and `demo` share: how each retraining runs, and the profile
/// they make (`AnnotationProfile.session`).
struct InteractiveTrainingOptions: ParsableArguments {
    @Option(name: .customLong("train-steps"), help: "Optimiser steps per network per retraining.")
    var trainSteps: Int = 30

    @Option(name: .customLong("train-batch"), help: "Images per optimiser step.")
    var trainBatch: Int = 32

    @Option(name: .customLong("pretrain-steps"),
            help: "Steps of self-supervised (rotation) pretraining on the pool, run in the background and cached per pool (default: 10 epochs, 300-3000 steps, none under 500 images; 0 = none).")
    var pretrainSteps: Int?

    @Flag(name: .customLong("detector-classifies"), inversion: .prefixedNo,
          help: "The (K+1)-way detector's first K logits classify (hints, saved weights) instead of a separate K-way classifier trained beside it.")
    var detectorClassifies = true

    @Flag(name: .customLong("balanced"), inversion: .prefixedNo,
          help: "Class-balanced training batches: each batch drawn evenly over the known classes and \"unknown\" (default: off, plain shuffling; simulate's fast profile has it on).")
    var balanced: Bool?

    @Option(name: .customLong("unknown-weight"),
            help: "Under --balanced, how many known classes' shares of every detector batch the unknowns fill (default 1).")
    var unknownWeight: Int?

    @Option(name: .customLong("mixup"),
            help: "Probability that a training batch is mixed (mixup: each image blended with another of the batch, the loss alike; default 0 = none).")
    var mixup: Float?

    @Option(name: .customLong("temperature"), help: "The detector's temperature T (default 0.5, the paper's).")
    var temperature: Float?

    /// Whether the values are in range (the callers' one-line errors name the options).
    var isValid: Bool {
        (pretrainSteps ?? 0) >= 0 && trainSteps > 0 && trainBatch > 0 && (unknownWeight ?? 1) >= 1 && (0...1).contains(mixup ?? 0)
            && (temperature.map { $0 > 0 && $0.isFinite } ?? true)
    }

    /// The session's training profile for a pool of `poolSize` images.
    func profile(poolSize: Int, scoring: ScoringOptions, matmul: MatmulPrecision, training: TrainingPrecision) throws -> TrainingProfile {
        var profile = AnnotationProfile.session(steps: trainSteps, batchSize: trainBatch, detectorClassifies: detectorClassifies,
                                                classBalanced: balanced, poolSize: poolSize,
                                                pretrainSteps: pretrainSteps, flipScoring: scoring.flipScoring,
                                                candidateShifts: try scoring.validatedCandidateShifts(),
                                                matmul: matmul, training: training)
        if let unknownWeight { profile.unknownWeight = unknownWeight }
        if let mixup { profile.mixup = mixup }
        if let temperature { profile.detectorTemperature = temperature }
        return profile
    }
}
