import Foundation
import LfosaData
import LfosaEngine
import LfosaStore
import LfosaTerminal

/// Why an annotation run loop ended.
enum AnnotationExit: Equatable {
    /// `q`.
    case quit
    /// SIGINT, SIGTERM or SIGHUP (the terminal reported it).
    case interrupted(TerminalInterruption)
    /// The caller's `stopWhenIdle` said so (headless tests and measurements).
    case scriptEnded
}

/// The terminal front end of a session: keys → state machine → store/engine → frame.
///
/// Contract: each key's actions are performed (verdicts committed to the store) before the
/// next frame is drawn; a finished training job's ranking is installed as soon as the loop
/// sees it; a resize relayouts at once (the screens draw a too-small notice themselves).
/// In a demo the simulated annotator answers from ground truth at the demo's pace until a
/// labeling key takes over. The loop never restores the terminal: the caller does, after
/// `run` returns or throws.
final class AnnotationRunLoop {
    let session: AnnotationSession
    let terminal: any Terminal
    let images: AnnotationImages
    private(set) var driver: AnnotatorDriver!
    private var shownVersion = -1
    private var lastProgressDraw: Duration = .zero
    private var lastSimulated: Duration = .zero
    private var messageShownAt: Duration?
    private var lastMessage: String?
    /// Verdict (keystroke or simulated) → next frame drawn, in milliseconds: the store commit,
    /// the state change and the render (for measurements).
    private(set) var keyLatencies: [Double] = []
    /// Frames drawn.
    private(set) var frames = 0

    init(session: AnnotationSession, terminal: any Terminal, keyMap: KeyMap, demo: DemoControl? = nil, theme: Theme = .dark) {
        self.session = session
        self.terminal = terminal
        images = AnnotationImages(pool: session.pool)
        let state = AnnotatorState(keyMap: keyMap, classCount: session.classNames.count, itemCount: session.batch.count, demo: demo)
        driver = AnnotatorDriver(terminal: terminal, state: state, theme: theme) { [unowned self] state, context in
            self.frame(state: state, context: context)
        }
        shownVersion = session.batchVersion
    }

    /// Runs until `q`, a signal, or (headless) when `stopWhenIdle` says the script is done.
    ///
    /// `stopWhenIdle` is asked whenever no key arrived within the poll interval.
    func run(stopWhenIdle: (() -> Bool)? = nil) throws -> AnnotationExit {
        draw()
        while true {
            if let interruption = terminal.interruption { return .interrupted(interruption) }
            var changed = try session.poll()
            changed = syncBatch() || changed
            if session.isBusy, terminal.elapsed - lastProgressDraw >= .milliseconds(150) { changed = true }
            if let exit = try simulate() { return exit }
            if changed { draw() }
            let key = terminal.readKey(timeout: pollInterval)
            if let interruption = terminal.interruption { return .interrupted(interruption) }
            guard let key else {
                if let stop = stopWhenIdle, stop() { return .scriptEnded }
                expireMessage()
                continue
            }
            let start = ContinuousClock.now
            if key == .resize {
                let g = GridScreen.geometry(terminal.size)
                driver.state.setGridGeometry(columns: g.columns, rows: g.rows)
            }
            let actions = driver.state.handle(key)
            driver.state.setHistogramPageCount(HistogramScreen.pageCount(count: session.classNames.count, size: terminal.size))
            if try perform(actions) { return .quit }
            _ = syncBatch()
            draw()
            keyLatencies.append(Double((ContinuousClock.now - start) / .microseconds(1)) / 1000)
        }
    }

    private var pollInterval: Duration {
        guard let demo = driver.state.demo, demo.simulatorActive else { return .milliseconds(50) }
        let due = demo.pace - (terminal.elapsed - lastSimulated)
        return max(.milliseconds(1), min(.milliseconds(50), due))
    }

    /// The simulated annotator's turn (demo): one verdict when its pace has elapsed.
    private func simulate() throws -> AnnotationExit? {
        guard let demo = driver.state.demo, demo.simulatorActive, let truth = session.groundTruth else { return nil }
        let state = driver.state
        guard state.mode == .label || state.mode == .histograms, state.current < state.itemCount else { return nil }
        guard terminal.elapsed - lastSimulated >= demo.pace else { return nil }
        lastSimulated = terminal.elapsed
        let start = ContinuousClock.now
        let item = session.batch[state.current]
        let verdict: LfosaTerminal.Verdict = truth(item).map { .known($0) } ?? .unknown
        let actions = driver.state.applySimulated(verdict)
        if try perform(actions) { return .quit }
        _ = syncBatch()
        draw()
        keyLatencies.append(Double((ContinuousClock.now - start) / .microseconds(1)) / 1000)
        return nil
    }

    /// Performs the state machine's actions in order; returns true on quit.
    private func perform(_ actions: [AnnotatorAction]) throws -> Bool {
        for action in actions {
            switch action {
            case .record(let verdict, let item):
                switch verdict {
                case .known(let c): try session.record(.known(c), position: item)
                case .unknown: try session.record(.unknown, position: item)
                }
            case .skip(let item):
                try session.record(.skipped, position: item)
            case .undo(.some):
                // A step inside the batch: the store's latest verdict is that item's.
                if let withdrawn = try session.undoLatest() {
                    session.message = "undo: \(session.describe(withdrawn)) withdrawn"
                }
            case .undo(nil):
                _ = try session.undoEarlier()
            case .unskip:
                try session.undoLatest()
            case .batchComplete:
                try session.completeBatch()
            case .quit:
                return true
            case .modeChanged:
                break
            case .demoPace(let pace):
                session.message = "pace \(pace)/label"
            case .demoPaused(let paused):
                session.message = paused ? "simulated annotator paused" : "simulated annotator resumed"
            case .demoTakeOver(let human):
                session.message = human ? "you label now (p gives control back)" : "simulated annotator labels again"
                lastSimulated = terminal.elapsed
            }
        }
        return false
    }

    /// Restarts the state machine when the session replaced the batch; returns true if it did.
    private func syncBatch() -> Bool {
        guard session.batchVersion != shownVersion else { return false }
        shownVersion = session.batchVersion
        driver.state.beginBatch(itemCount: session.batch.count)
        return true
    }

    private func expireMessage() {
        guard let shown = messageShownAt else { return }
        if terminal.elapsed - shown > .seconds(3) {
            session.message = nil
            messageShownAt = nil
            lastMessage = nil
            draw()
        }
    }

    private func draw() {
        if session.message != lastMessage {
            lastMessage = session.message
            messageShownAt = session.message == nil ? nil : terminal.elapsed
        }
        driver.redraw()
        frames += 1
        lastProgressDraw = terminal.elapsed
        prefetchAhead()
    }

    private func prefetchAhead() {
        let state = driver.state
        let batch = session.batch
        guard state.current < batch.count else { return }
        var next: [Int] = []
        var i = state.current
        for _ in 0..<min(4, batch.count) {
            i = (i + 1) % batch.count
            if state.items[i] == .pending { next.append(batch[i]) }
        }
        images.prefetch(next, context: driver.context)
    }

    // MARK: - View models

    func frame(state: AnnotatorState, context: ScreenContext) -> CellGrid {
        AnnotatorScreen.render(state: state, labeling: labelingModel(state: state, context: context),
                               thumbnails: state.mode == .grid ? session.batch.map { images.thumbnail($0) } : [],
                               histograms: state.mode == .histograms ? histogramModel() : HistogramViewModel(panels: []),
                               context: context)
    }

    func labelingModel(state: AnnotatorState, context: ScreenContext) -> LabelingViewModel {
        let s = session
        let selection = s.selection
        var model = LabelingViewModel(classes: zip(s.classNames, s.classCounts).map { ClassTally(name: $0.0, count: $0.1) },
                                      unknownCount: s.unknownCount, batchSize: s.batch.count, round: s.round + 1,
                                      knownQueried: selection.known, totalQueried: selection.total)
        if state.current < s.batch.count {
            let item = s.batch[state.current]
            model.image = images.content(for: item, context: context)
            let name = s.pool.paths[item].map { ($0 as NSString).lastPathComponent } ?? "#\(item)"
            model.caption = images.problem(for: item) == nil ? name : "\(name) (file unreadable: stored copy)"
            if let h = s.hint(for: item) { model.hint = ModelHint(className: h.className, w: h.w) }
        }
        if let t = s.trainingStatus {
            model.training = LfosaTerminal.TrainingProgress(network: t.network, epoch: t.epoch, epochs: t.epochs, loss: t.loss,
                                                            eta: t.eta.map { .milliseconds(Int($0 * 1000)) }, fraction: t.fraction)
        }
        model.coldStartNotice = s.coldStartNotice
        model.message = s.message
        if s.batch.isEmpty && !s.isTraining && model.message == nil {
            model.message = "every image has a verdict: q saves and quits (lfosa export takes the labels out)"
        }
        if let control = state.demo {
            model.demo = DemoPanelModel(lfosaPrecision: s.precisionHistory.map(\.lfosa),
                                        randomPrecision: s.precisionHistory.map(\.random), recall: s.recall ?? 0, control: control)
        }
        return model
    }

    func histogramModel() -> HistogramViewModel {
        let s = session
        let queried = s.queriedPerClass
        var panels: [HistogramPanelModel] = []
        for mixture in s.mixtures where mixture.predictedClass < s.classNames.count {
            let c = mixture.predictedClass
            var isKnown: [Bool]? = nil
            if let truth = s.groundTruth, let groups = s.groupMembers, c < groups.count,
               groups[c].count == mixture.maxActivations.count {
                isKnown = groups[c].map { truth($0) != nil }
            }
            let components = mixture.mixture.map {
                MixtureComponents(weights: $0.weights.map(Float.init), means: $0.means.map(Float.init),
                                  variances: $0.variances.map(Float.init))
            }
            panels.append(HistogramPanelModel(className: s.classNames[c], mavs: mixture.maxActivations, isKnown: isKnown,
                                              components: components, queried: queried[c]))
        }
        return HistogramViewModel(panels: panels, round: (s.mixtureRound ?? 0) + 1)
    }
}
