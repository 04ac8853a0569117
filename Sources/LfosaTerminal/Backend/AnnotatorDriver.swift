/// Drives one annotator screen on a terminal: reads a key, updates the state machine,
/// relayouts on resize, redraws, and hands the resulting actions to the caller.
///
/// The run loop owns the driver and performs the actions (store, engine), then updates
/// whatever its `frame` closure reads. Typical loop:
///
///     let driver = AnnotatorDriver(terminal: term, state: state) { state, context in
///         AnnotatorScreen.render(state: state, labeling: model(), thumbnails: thumbs,
///                                histograms: histos, context: context)
///     }
///     driver.redraw()
///     loop: while true {
///         let actions = try driver.step(timeout: .milliseconds(50)) { actions in
///             try commit(actions)                 // store.record: durable before the next frame
///         }
///         if actions.contains(.quit) { break loop }  // also returned on SIGINT/SIGTERM/SIGHUP
///         perform(actions)                           // engine, …
///         if modelChanged { driver.redraw() }
///     }
///     commit(); term.restore()
public final class AnnotatorDriver {
    public let terminal: any Terminal
    public var state: AnnotatorState
    public var theme: Theme
    public var dither: Bool
    /// How many MAV histogram panels exist (set by the run loop), so paging stops at the last page.
    public var histogramPanelCount = 0
    private let frame: (AnnotatorState, ScreenContext) -> CellGrid

    public init(terminal: any Terminal, state: AnnotatorState, theme: Theme = .dark, dither: Bool = false,
                frame: @escaping (AnnotatorState, ScreenContext) -> CellGrid) {
        self.terminal = terminal
        self.state = state
        self.theme = theme
        self.dither = dither
        self.frame = frame
        updateGridGeometry()
    }

    /// The context for the terminal's current size and depth.
    public var context: ScreenContext {
        ScreenContext(size: terminal.size, depth: terminal.depth, theme: theme, dither: dither)
    }

    /// Renders the current state and draws it.
    public func redraw() {
        terminal.draw(frame(state, context))
    }

    /// Waits up to `timeout` for one key and applies it.
    ///
    /// Returns `[.quit]` when the terminal was interrupted (the caller must commit and
    /// restore); otherwise the state machine's actions. `beforeRedraw` gets the actions before
    /// the next frame is drawn, so a verdict can be committed durably before the next image
    /// appears (if it throws, nothing is drawn and the error propagates). Redraws after every
    /// key (a resize relayouts first); a timeout draws nothing and returns [].
    public func step(timeout: Duration,
                     beforeRedraw: ([AnnotatorAction]) throws -> Void) rethrows -> [AnnotatorAction] {
        if terminal.interruption != nil { return [.quit] }
        guard let key = terminal.readKey(timeout: timeout) else {
            return terminal.interruption != nil ? [.quit] : []
        }
        return try apply(key, beforeRedraw: beforeRedraw)
    }

    /// Applies `key` as if it had been read (relayout on `.resize`), hands the actions to
    /// `beforeRedraw`, redraws, and returns the actions.
    public func apply(_ key: KeyPress,
                      beforeRedraw: ([AnnotatorAction]) throws -> Void) rethrows -> [AnnotatorAction] {
        if key == .resize { updateGridGeometry() }
        let actions = state.handle(key)
        state.setHistogramPageCount(HistogramScreen.pageCount(count: histogramPanelCount, size: terminal.size))
        try beforeRedraw(actions)
        redraw()
        return actions
    }

    /// `step(timeout:beforeRedraw:)` for callers with nothing to commit before the frame.
    public func step(timeout: Duration) -> [AnnotatorAction] {
        step(timeout: timeout, beforeRedraw: { _ in })
    }

    /// `apply(_:beforeRedraw:)` for callers with nothing to commit before the frame.
    public func apply(_ key: KeyPress) -> [AnnotatorAction] {
        apply(key, beforeRedraw: { _ in })
    }

    /// Applies a simulated annotator's verdict (demo) and redraws when it was taken.
    public func applySimulated(_ verdict: Verdict) -> [AnnotatorAction] {
        let actions = state.applySimulated(verdict)
        if !actions.isEmpty { redraw() }
        return actions
    }

    private func updateGridGeometry() {
        let g = GridScreen.geometry(terminal.size)
        state.setGridGeometry(columns: g.columns, rows: g.rows)
    }
}
