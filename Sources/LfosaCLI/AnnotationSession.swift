import Foundation
import LfosaData
import LfosaEngine
import LfosaNumerics
import LfosaStore

typealias StoreVerdict = LfosaStore.Verdict
typealias EngineVerdict = LfosaEngine.Verdict

/// How an annotation session runs: batch size, cold start, training, who labels.
struct AnnotationSettings {
    var batch: Int = 20
    /// Until every known class has this many labels, batches are random (cold start).
    var coldStartLabels: Int = 3
    /// Ranked items asked for beyond the batch, labeled while the next model trains.
    var lookahead: Int = 40
    var profile: TrainingProfile = AnnotationProfile.interactive(steps: 30, batchSize: 32)
    var strategy: StrategyKind = .lfosa
    /// What LfOSA ranks by (`--score`).
    var score: LfOSAStrategy.Score = .margin
    var seed: UInt64 = 1
    /// The annotator name written with every verdict (undo withdraws only this annotator's).
    var annotator: String = "annotator"
    /// Where pretrained trunks are cached (nil: not cached).
    var trunkCacheDirectory: String? = nil
}

/// One labeling session: the pool, the label store and the active-learning loop, kept in step.
///
/// Contract:
/// - The store is the truth. Every verdict and skip is committed (`LabelStore.record`) before
///   the call returns, so the caller can show the next image knowing the label is durable.
///   `labels` mirrors the store's effective verdicts by pool index.
/// - The engine learns the store's labels at batch boundaries (`completeBatch`): new labels
///   are `record`ed; when a label it already holds was undone or changed, the loop is rebuilt
///   from the store (networks start again).
/// - Retraining runs on a background thread (`AnnotationTrainingJob`); meanwhile the batch
///   holds the rest of the previous ranking (`standby`), so the annotator can keep going.
///   `poll()` installs the new ranking when the job ends.
/// - Undo walks back through the store's history without limit: inside a batch it is the
///   state machine's step; past it (`undoEarlier`) the withdrawn item is shown again first.
/// - Resume: labels come from the store, the saved queue's unlabeled remainder is shown
///   first while the model trains on what is stored.
final class AnnotationSession {
    let pool: ImagePool
    let store: LabelStore
    let classNames: [String]
    let settings: AnnotationSettings
    let source: ImageBatchSource
    /// Pool indices the session can query (the first item of each distinct identity).
    let candidates: [Int]
    let identityIndex: [String: Int]
    /// Ground truth for demos: pool index → known class (nil = unknown class). Nil for `label`.
    let groundTruth: ((Int) -> Int?)?
    /// Items labeled before the session (demo's initial set); not counted in precision.
    let seedItems: Set<Int>
    /// Whether `hint(for:)` answers (the model's guess is optional on screen).
    let showHints: Bool

    private(set) var loop: ActiveLearningLoop
    /// Effective verdict per pool index (the store's, mirrored).
    private(set) var labels: [Int: StoreVerdict] = [:]
    /// The items on screen, in order.
    private(set) var batch: [Int] = []
    /// Bumped whenever `batch` is replaced (the run loop restarts its state machine then).
    private(set) var batchVersion = 0
    /// The rest of the latest ranking beyond the batch.
    private(set) var standby: [Int] = []
    /// What the model said about queried items (hint, histogram counts).
    private(set) var queried: [Int: QueryItem] = [:]
    /// The background retrain + score, while one runs.
    private(set) var job: AnnotationTrainingJob?
    /// Per-class MAVs and fitted mixtures of the latest scoring (histogram screen).
    private(set) var mixtures: [ClassMixture] = []
    /// Pool indices behind each mixture's MAVs, in the same order (demos, for the truth split).
    private(set) var groupMembers: [[Int]]?
    /// The round the mixtures were fitted in.
    private(set) var mixtureRound: Int?
    /// Per finished batch (demo): LfOSA's precision and a seeded random draw's on the same pool.
    private(set) var precisionHistory: [(lfosa: Double, random: Double)] = []
    /// Seconds of the last finished job (train, score).
    private(set) var lastJobSeconds: (train: Double, score: Double)?
    /// Every finished job's seconds (train, score), oldest first.
    private(set) var jobTimings: [(train: Double, score: Double)] = []
    /// A line for the status bar (cleared by the run loop after it is shown).
    var message: String?
    /// Items labeled since the engine last learned the labels.
    private var sinceSync: Set<Int> = []
    /// Items in the engine's D_L ∪ D_I (read without touching the loop while it trains).
    private var engineItems: Set<Int> = []
    /// Self-supervised trunk pretraining running in the background (profile.pretraining).
    private(set) var trunkJob: TrunkPretrainingJob?
    /// The pretrained trunk once available; adopted by the loop at the next retraining.
    private(set) var trunk: PretrainedTrunk?
    private var coldOrder: [Int] = []
    private var coldCursor = 0
    private var randomBaseline: SplitMix64

    /// Opens a session over `pool` with `store` (whose configuration names the classes).
    ///
    /// Throws `StoreError` when the store cannot be read or written.
    init(pool: ImagePool, store: LabelStore, settings: AnnotationSettings, groundTruth: ((Int) -> Int?)? = nil,
         seedItems: Set<Int> = [], showHints: Bool = true) throws {
        self.showHints = showHints
        self.pool = pool
        self.store = store
        self.settings = settings
        self.classNames = store.configuration.classNames
        self.groundTruth = groundTruth
        self.seedItems = seedItems
        source = ImageBatchSource(channels: pool.channels, height: pool.height, width: pool.width, pixels: pool.pixels)
        var index: [String: Int] = [:]
        var firsts: [Int] = []
        for (i, identity) in pool.identities.enumerated() where index[identity] == nil {
            index[identity] = i
            firsts.append(i)
        }
        identityIndex = index
        candidates = firsts
        randomBaseline = SplitMix64(seed: settings.seed ^ 0xBA5E_11AE)
        var order = firsts
        var rng = SplitMix64(seed: settings.seed ^ 0xC01D_57A7)
        seededShuffle(&order, using: &rng)
        coldOrder = order

        try store.upsertItems(firsts.map { (identity: pool.identities[$0], path: pool.paths[$0].map(Self.absolutePath)) })
        let resume = try store.resumeState()
        var mirror: [Int: StoreVerdict] = [:]
        for (identity, verdict) in try store.currentLabels() {
            if let i = index[identity] { mirror[i] = verdict }
        }
        labels = mirror
        let round = max((resume.lastRecordedRound ?? -1) + 1, resume.queueRound ?? 0)
        loop = Self.makeLoop(source: source, classCount: classNames.count, candidates: firsts, labels: mirror,
                             round: round, settings: settings)
        engineItems = Set(loop.labeled.keys).union(loop.invalid)
        if let pretraining = settings.profile.pretraining {
            if let cached = TrunkCache.cached(source: source, architecture: settings.profile.architecture,
                                              pretraining: pretraining, cacheDirectory: settings.trunkCacheDirectory) {
                trunk = cached
            } else {
                trunkJob = TrunkPretrainingJob(source: source, architecture: settings.profile.architecture,
                                               pretraining: pretraining, cacheDirectory: settings.trunkCacheDirectory)
            }
        }
        let pending = resume.pendingQueue.compactMap { index[$0] }.filter { mirror[$0] == nil }
        // Labels of the interrupted round count towards its record.
        for event in try store.verdictEvents() where !event.isRetracted && event.round == round
            && event.annotator == settings.annotator {
            if let i = index[event.itemIdentity], mirror[i] != nil { sinceSync.insert(i) }
        }
        if !pending.isEmpty {
            installBatch(pending, standby: [])
            if !isColdStart { startTraining() }
            message = "resumed: \(pending.count) image(s) left in round \(round + 1)"
        } else {
            try nextBatchAfterCompletion()
            if !mirror.isEmpty { message = "resumed: \(labeledCount) label(s) in the store" }
        }
    }

    /// `path` made absolute against the working directory (stored paths must not depend on it).
    static func absolutePath(_ path: String) -> String {
        path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
    }

    // MARK: - Derived state

    /// Queries recorded so far (the round being labeled).
    var round: Int { job?.round ?? loop.round }
    var isTraining: Bool { job != nil }
    /// Whether a retraining or the trunk pretraining runs (the progress bar moves).
    var isBusy: Bool { job != nil || trunkJob != nil }

    /// Known-class counts from the store's labels, by class index.
    var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classNames.count)
        for case .known(let c) in labels.values where c < counts.count { counts[c] += 1 }
        return counts
    }

    var unknownCount: Int { labels.values.filter { $0 == .unknown }.count }
    var labeledCount: Int { labels.values.filter { $0 != .skipped }.count }

    /// Known and all verdicts (known + unknown) the annotator gave, seed items excluded.
    var selection: (known: Int, total: Int) {
        var known = 0, total = 0
        for (i, v) in labels where !seedItems.contains(i) {
            switch v {
            case .known: known += 1; total += 1
            case .unknown: total += 1
            case .skipped: break
            }
        }
        return (known, total)
    }

    /// Whether some known class still has fewer than `coldStartLabels` labels.
    var isColdStart: Bool { classCounts.contains { $0 < settings.coldStartLabels } }

    /// The cold-start notice for the screen, nil once every class has enough labels.
    var coldStartNotice: String? {
        guard isColdStart, !isTraining else { return nil }
        let short = zip(classNames, classCounts).filter { $0.1 < settings.coldStartLabels }
            .map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        return "cold start: random images until every class has \(settings.coldStartLabels) labels (\(short))"
    }

    /// Known-class recall against ground truth (demo), nil without it.
    var recall: Double? {
        guard let truth = groundTruth else { return nil }
        let totalKnown = candidates.filter { truth($0) != nil }.count
        let found = labels.filter { if case .known = $0.value { return true } else { return false } }.count
        return totalKnown > 0 ? Double(found) / Double(totalKnown) : nil
    }

    /// Items queried per predicted class (histogram panels), counting labeled items only.
    var queriedPerClass: [Int] {
        var counts = [Int](repeating: 0, count: classNames.count)
        for (i, item) in queried where labels[i] != nil && labels[i] != .skipped {
            if let c = item.predictedClass, c < counts.count { counts[c] += 1 }
        }
        return counts
    }

    // MARK: - Verdicts

    /// Commits a verdict (nil = skip) for batch position `position`; returns after the commit.
    func record(_ verdict: StoreVerdict, position: Int) throws {
        let item = batch[position]
        try store.record(verdict, item: pool.identities[item], round: round, annotator: settings.annotator, at: Date())
        labels[item] = verdict
        sinceSync.insert(item)
    }

    /// Undoes the latest verdict (a step inside the current batch); returns the withdrawn verdict.
    @discardableResult
    func undoLatest() throws -> StoreVerdict? {
        guard let retracted = try store.undoLast(annotator: settings.annotator) else { return nil }
        try refreshLabel(identity: retracted.retracted.itemIdentity)
        return retracted.retracted.verdict
    }

    /// Undo past the start of the batch: withdraws the store's latest verdict and shows that
    /// item again first. Returns false when nothing is left to undo.
    ///
    /// Only valid while no item of the batch is decided (the state machine's history is empty).
    func undoEarlier() throws -> Bool {
        guard let retracted = try store.undoLast(annotator: settings.annotator) else {
            message = "nothing to undo"
            return false
        }
        let identity = retracted.retracted.itemIdentity
        try refreshLabel(identity: identity)
        guard let item = identityIndex[identity] else { return true }
        if engineItems.contains(item) {
            // The engine learned this label already: rebuild it from the store.
            let wasTraining = job != nil
            if let job {
                job.cancel()
                job.wait()
                self.job = nil
            }
            rebuildLoop()
            if wasTraining && !isColdStart { startTraining() }
        }
        installBatch([item] + batch.filter { $0 != item }, standby: standby.filter { $0 != item })
        message = "undo: \(describe(retracted.retracted.verdict)) withdrawn"
        return true
    }

    private func refreshLabel(identity: String) throws {
        guard let item = identityIndex[identity] else { return }
        let current = try store.currentLabels()[identity]
        labels[item] = current
        if current == nil { sinceSync.remove(item) } else { sinceSync.insert(item) }
    }

    func describe(_ verdict: StoreVerdict) -> String {
        switch verdict {
        case .known(let c): return c < classNames.count ? classNames[c] : "class \(c)"
        case .unknown: return "unknown"
        case .skipped: return "skip"
        }
    }

    // MARK: - Batches

    /// The batch on screen is done: the engine learns its labels and the next batch is
    /// installed (a random one in cold start, the standby ranking while training, or none).
    func completeBatch() throws {
        if job == nil { try syncEngine() }
        try nextBatchAfterCompletion()
    }

    private func nextBatchAfterCompletion() throws {
        if job == nil {
            if isColdStart {
                installBatch(nextColdBatch(), standby: [])
                return
            }
            // Every batch end retrains; a batch of skips only asks the engine again.
            if loop.phase == .awaitingVerdicts { try loop.record([]) }
            startTraining()
        }
        let rest = standby.filter { labels[$0] == nil }
        installBatch(Array(rest.prefix(settings.batch)), standby: Array(rest.dropFirst(settings.batch)))
    }

    private func nextColdBatch() -> [Int] {
        var out: [Int] = []
        while out.count < settings.batch && coldCursor < coldOrder.count {
            let i = coldOrder[coldCursor]
            coldCursor += 1
            if labels[i] == nil { out.append(i) }
        }
        if out.isEmpty {
            // Every item was seen once: go round again over the skipped ones.
            out = coldOrder.filter { labels[$0] == .skipped }.prefix(settings.batch).map { $0 }
        }
        return out
    }

    private func installBatch(_ items: [Int], standby rest: [Int]) {
        batch = items
        standby = rest
        batchVersion += 1
        // The standby remainder is not saved: after a restart it goes back to the pool.
        try? store.saveQueue(round: round, identities: items.map { pool.identities[$0] })
    }

    /// Teaches the engine the store's labels: records new ones, rebuilds on changes; writes
    /// the round record. Requires no running job.
    private func syncEngine() throws {
        precondition(job == nil)
        var additions: [(index: Int, verdict: EngineVerdict)] = []
        var changed = false
        for (i, c) in loop.labeled where labels[i] != .known(c) { changed = true; break }
        if !changed { for i in loop.invalid where labels[i] != .unknown { changed = true; break } }
        let poolSet = Set(loop.pool)
        for (i, v) in labels where poolSet.contains(i) {
            switch v {
            case .known(let c): additions.append((i, .known(c)))
            case .unknown: additions.append((i, .unknown))
            case .skipped: break
            }
        }
        let queriedItems = sinceSync.filter { labels[$0] != nil && labels[$0] != .skipped }
        let knownQueried = queriedItems.filter { if case .known = labels[$0]! { return true } else { return false } }.count
        guard changed || !additions.isEmpty || !queriedItems.isEmpty else { return }
        let r = loop.round
        if groundTruth != nil, !queriedItems.isEmpty {
            precisionHistory.append((Double(knownQueried) / Double(queriedItems.count), randomPrecision(size: queriedItems.count)))
        }
        if changed {
            rebuildLoop(round: r + 1)
        } else {
            try loop.record(additions.sorted { $0.index < $1.index })
            for a in additions { engineItems.insert(a.index) }
        }
        sinceSync = []
        do {
            try store.recordRound(RoundRecord(round: r, labeledCount: loop.labeled.count, invalidCount: loop.invalid.count,
                                              queriedCount: queriedItems.count, knownQueriedCount: knownQueried,
                                              timings: lastJobSeconds.map { ["training": $0.train, "scoring": $0.score] } ?? [:],
                                              recordedAt: Date()))
        } catch StoreError.roundAlreadyRecorded {
            // A resumed session may repeat a round number whose record survived; keep the first.
        }
    }

    /// What a random query of `size` from the unlabeled pool would have scored (seeded).
    private func randomPrecision(size: Int) -> Double {
        guard let truth = groundTruth else { return 0 }
        var pool = loop.pool
        guard !pool.isEmpty else { return 0 }
        seededShuffle(&pool, using: &randomBaseline)
        let picked = pool.prefix(size)
        return Double(picked.filter { truth($0) != nil }.count) / Double(picked.count)
    }

    private func rebuildLoop(round: Int? = nil) {
        loop = Self.makeLoop(source: source, classCount: classNames.count, candidates: candidates, labels: labels,
                             round: round ?? loop.round, settings: settings)
        loop.pretrainedTrunk = trunk
        engineItems = Set(loop.labeled.keys).union(loop.invalid)
        sinceSync = []
    }

    private static func makeLoop(source: ImageBatchSource, classCount: Int, candidates: [Int], labels: [Int: StoreVerdict],
                                 round: Int, settings: AnnotationSettings) -> ActiveLearningLoop {
        var known: [LabeledSets.Item] = [], invalid: [Int] = []
        for (i, v) in labels {
            switch v {
            case .known(let c): known.append(.init(index: i, label: c))
            case .unknown: invalid.append(i)
            case .skipped: break
            }
        }
        let strategy = settings.strategy.make(temperature: settings.profile.detectorTemperature, mcDropout: settings.profile.mcDropout,
                                              score: settings.score)
        return ActiveLearningLoop(source: source, knownClasses: classCount, candidates: candidates,
                                  restoring: LabeledSets(labeled: known, invalid: invalid, round: round),
                                  strategy: strategy, profile: settings.profile, seed: settings.seed)
    }

    // MARK: - Training

    private func startTraining() {
        guard job == nil, !loop.labeled.isEmpty else { return }
        if let trunk, loop.pretrainedTrunk == nil {
            // The trunk arrived after the networks were first trained: start them again from it.
            loop.pretrainedTrunk = trunk
            if loop.detector != nil || loop.classifier != nil { try? loop.resetNetworks() }
        }
        let target = StoreBox(store: store)
        job = AnnotationTrainingJob(loop: loop, round: loop.round, lookahead: settings.batch + settings.lookahead,
                                    withGroups: groundTruth != nil, checkpoint: { bytes in
            // A file write beside the database (atomic, fsynced): no SQLite access off the UI thread.
            do { try target.store.saveModel(name: LabelExport.weightsFileName, bytes: bytes); return nil } catch {
                return "\(error)"
            }
        })
    }

    /// The running job's progress for the screen (fraction over both networks, ETA).
    var trainingStatus: (network: String, epoch: Int, epochs: Int, loss: Double?, fraction: Double, eta: Double?)? {
        guard let job else {
            guard let trunkJob else { return nil }
            guard let p = trunkJob.progress else { return ("pretraining trunk", 0, 1, nil, 0, nil) }
            let fraction = Double(p.step) / Double(max(1, p.totalSteps))
            let perStep = p.epoch > 0 ? Double(p.step) / p.epoch : 1
            let epochs = Int((Double(p.totalSteps) / max(perStep, 1e-9)).rounded(.up))
            let elapsed = Date().timeIntervalSince(trunkJob.started)
            return ("pretraining trunk", Int(p.epoch.rounded(.up)), max(1, epochs), Double(p.loss), fraction,
                    fraction > 0.02 ? elapsed * (1 - fraction) / fraction : nil)
        }
        guard let p = job.progress else { return ("detector", 0, 1, nil, 0, nil) }
        let fraction = settings.profile.networks(for: settings.strategy.make().requirements).fraction(at: p)
        let perStep = p.epoch > 0 ? Double(p.step) / p.epoch : 1
        let epochs = Int((Double(p.totalSteps) / max(perStep, 1e-9)).rounded(.up))
        let elapsed = Date().timeIntervalSince(job.started)
        let eta = fraction > 0.02 ? elapsed * (1 - fraction) / fraction : nil
        var name = p.role.rawValue
        if let t = trunkJob?.progress {   // pretraining continues beside the retraining
            name += " (trunk \(Int(100 * Double(t.step) / Double(max(1, t.totalSteps))))%)"
        }
        return (name, Int(p.epoch.rounded(.up)), max(1, epochs), Double(p.loss), fraction, eta)
    }

    /// Installs a finished job's ranking as the next batch (items labeled meanwhile are
    /// left out; the engine learns them at the next batch's end). Returns true when the
    /// screen changed.
    @discardableResult
    func poll() throws -> Bool {
        var changed = false
        if let trunkJob, let outcome = trunkJob.outcome {
            trunkJob.wait()
            self.trunkJob = nil
            switch outcome {
            case .finished(let t, _, let seconds):
                trunk = t
                message = "self-supervised trunk ready after \(Int(seconds.rounded())) s: the next retraining starts from it"
            case .failed(let why):
                message = "pretraining failed (training continues without it): \(why)"
            case .cancelled:
                break
            }
            changed = true
        }
        guard let job, let outcome = job.outcome else { return changed }
        job.wait()
        self.job = nil
        switch outcome {
        case .cancelled:
            return changed
        case .failed(let why):
            message = "training failed: \(why)"
            return true
        case .finished(let result):
            mixtures = result.mixtures
            groupMembers = result.groupMembers
            mixtureRound = job.round
            lastJobSeconds = (result.trainSeconds, result.scoreSeconds)
            jobTimings.append((result.trainSeconds, result.scoreSeconds))
            if let problem = result.checkpointProblem { message = "weights not saved: \(problem)" }
            for item in result.ranking { queried[item.index] = item }
            let fresh = result.ranking.map(\.index).filter { labels[$0] == nil }
            installBatch(Array(fresh.prefix(settings.batch)), standby: Array(fresh.dropFirst(settings.batch)))
            return true
        }
    }

    private struct StoreBox: @unchecked Sendable { let store: LabelStore }

    /// Stops training and flushes the store (call before closing).
    func shutdown() {
        trunkJob?.cancel()
        trunkJob?.wait()
        trunkJob = nil
        job?.cancel()
        job?.wait()
        job = nil
        store.flush()
    }

    // MARK: - Images

    /// The model's hint for pool item `item`, when it was queried by a trained model.
    func hint(for item: Int) -> (className: String, w: Double)? {
        guard showHints, let q = queried[item] else { return nil }
        let name = q.predictedClass.map { $0 < classNames.count ? classNames[$0] : "class \($0)" } ?? "unknown"
        return (name, Double(q.score))
    }
}
