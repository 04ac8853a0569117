/// The annotator's state machine: which item is shown, which screen, what each key does.
///
/// Pure: `handle(_:)` maps a key to state changes plus `AnnotatorAction` values for the run
/// loop to perform; nothing here touches the store, the engine or the terminal.
///
/// Contract:
/// - `current` is the batch item on screen, or `itemCount` when none is pending.
///   Deciding or skipping moves to the next pending item after it (wrapping); `←`/`→` move
///   freely, and labeling an already decided item records again (the store upserts).
/// - Undo pops this batch's history (verdicts and skips, most recent first) and shows that
///   item again; with no history left it emits `.undo(item: nil)` for the store to withdraw
///   its latest verdict from an earlier batch — so undo goes back any number of steps.
/// - `q` quits from every screen; `?` opens help, and any key closes it.
/// - In a demo, a labeling key takes over from the simulated annotator (`.demoTakeOver(true)`),
///   `p` gives control back (or pauses/resumes the simulator), `+`/`-` change its pace.
public struct AnnotatorState: Hashable, Sendable {
    public let keyMap: KeyMap
    public let classCount: Int
    public private(set) var items: [ItemStatus]
    public private(set) var current: Int
    public private(set) var mode: AnnotatorMode = .label
    /// The screen `?` was pressed on (help returns there).
    public private(set) var modeBeforeHelp: AnnotatorMode = .label
    public private(set) var gridCursor: Int = 0
    public private(set) var gridColumns: Int = 1
    public private(set) var gridRows: Int = 1
    /// The page of MAV histogram panels shown (arrows/page keys move it; the screen clamps it).
    public private(set) var histogramPage: Int = 0
    /// Items decided or skipped in this batch, oldest first.
    public private(set) var history: [Int] = []
    /// Demo controls; nil when a person labels alone.
    public private(set) var demo: DemoControl?

    public init(keyMap: KeyMap, classCount: Int, itemCount: Int, demo: DemoControl? = nil) {
        self.keyMap = keyMap
        self.classCount = classCount
        items = Array(repeating: .pending, count: max(0, itemCount))
        current = 0
        self.demo = demo
    }

    public var itemCount: Int { items.count }
    /// Whether no item of the batch is pending.
    public var isBatchComplete: Bool { !items.contains(.pending) }
    public var decidedCount: Int { items.filter { if case .decided = $0 { true } else { false } }.count }
    /// The thumbnails per grid page.
    public var gridPageSize: Int { max(1, gridColumns * gridRows) }
    /// The grid page holding the cursor.
    public var gridPage: Int { gridCursor / gridPageSize }

    /// Starts a new batch of `itemCount` items on the labeling screen (history restarts; undo
    /// past it reaches earlier batches through `.undo(item: nil)`).
    public mutating func beginBatch(itemCount: Int) {
        items = Array(repeating: .pending, count: max(0, itemCount))
        current = 0
        gridCursor = 0
        history = []
        if mode == .grid { mode = .label }
    }

    /// Clamps the histogram page to the pages that exist (the screen's `pageCount`).
    public mutating func setHistogramPageCount(_ pages: Int) {
        histogramPage = min(histogramPage, max(0, pages - 1))
    }

    /// Tells the state how many thumbnails fit (from the grid screen's layout).
    public mutating func setGridGeometry(columns: Int, rows: Int) {
        gridColumns = max(1, columns)
        gridRows = max(1, rows)
    }

    /// Applies one key; returns what the run loop must do, in order.
    public mutating func handle(_ key: KeyPress) -> [AnnotatorAction] {
        if key == .resize { return [] }
        let command = keyMap.command(for: key)
        if command == .quit { return [.quit] }
        if mode == .help { return switchMode(to: modeBeforeHelp) }
        if command == .help { modeBeforeHelp = mode; return switchMode(to: .help) }
        if let demoActions = handleDemo(command) { return demoActions }
        if command == .undo { return undo() }
        switch mode {
        case .label: return handleLabel(key, command)
        case .grid: return handleGrid(key, command)
        case .histograms:
            if command == .histograms || key == .escape { return switchMode(to: .label) }
            if command == .grid { return enterGrid() }
            switch key {
            case .right, .down, .pageDown: histogramPage += 1
            case .left, .up, .pageUp: histogramPage = max(0, histogramPage - 1)
            case .home: histogramPage = 0
            default: break
            }
            return []
        case .help: return []
        }
    }

    /// A verdict from the simulated annotator for the current item; ignored (no actions)
    /// unless a demo is running with the simulator in control and an item is pending.
    public mutating func applySimulated(_ verdict: Verdict) -> [AnnotatorAction] {
        guard let demo, demo.simulatorActive, current < itemCount else { return [] }
        return decide(current, .some(verdict))
    }

    // MARK: - Modes

    mutating func switchMode(to newMode: AnnotatorMode) -> [AnnotatorAction] {
        guard newMode != mode else { return [] }
        mode = newMode
        return [.modeChanged(newMode)]
    }

    mutating func enterGrid() -> [AnnotatorAction] {
        gridCursor = min(max(0, current), max(0, itemCount - 1))
        return switchMode(to: .grid)
    }

    mutating func handleLabel(_ key: KeyPress, _ command: KeyCommand?) -> [AnnotatorAction] {
        switch (key, command) {
        case (_, .grid?): return enterGrid()
        case (_, .histograms?): return switchMode(to: .histograms)
        case (.right, _): if itemCount > 0 { current = min(itemCount - 1, current + 1) }; return []
        case (.left, _): if itemCount > 0 { current = max(0, min(current, itemCount) - 1) }; return []
        default: break
        }
        guard current < itemCount, let verdict = verdict(for: command) else { return [] }
        return takeOverIfNeeded() + decide(current, verdict)
    }

    mutating func handleGrid(_ key: KeyPress, _ command: KeyCommand?) -> [AnnotatorAction] {
        let last = max(0, itemCount - 1)
        switch (key, command) {
        case (_, .grid?), (.escape, _): return switchMode(to: .label)
        case (_, .histograms?): return switchMode(to: .histograms)
        case (.enter, _):
            current = gridCursor
            return switchMode(to: .label)
        case (.left, _): gridCursor = max(0, gridCursor - 1); return []
        case (.right, _): gridCursor = min(last, gridCursor + 1); return []
        case (.up, _): if gridCursor - gridColumns >= 0 { gridCursor -= gridColumns }; return []
        case (.down, _): if gridCursor + gridColumns <= last { gridCursor += gridColumns }; return []
        case (.pageUp, _): gridCursor = max(0, gridCursor - gridPageSize); return []
        case (.pageDown, _): gridCursor = min(last, gridCursor + gridPageSize); return []
        case (.home, _): gridCursor = 0; return []
        case (.end, _): gridCursor = last; return []
        default: break
        }
        guard gridCursor < itemCount, let verdict = verdict(for: command) else { return [] }
        let item = gridCursor
        let actions = takeOverIfNeeded() + decide(item, verdict)
        gridCursor = min(last, item + 1)
        return actions
    }

    // MARK: - Verdicts

    /// `.some(verdict)` to decide, `.none` to skip; nil when the command decides nothing.
    func verdict(for command: KeyCommand?) -> Verdict?? {
        switch command {
        case .label(let c)? where c < classCount: return .some(.known(c))
        case .unknown?: return .some(.unknown)
        case .skip?: return .some(nil)
        default: return nil
        }
    }

    mutating func decide(_ item: Int, _ verdict: Verdict?) -> [AnnotatorAction] {
        var actions: [AnnotatorAction]
        if let verdict {
            items[item] = .decided(verdict)
            actions = [.record(verdict, item: item)]
        } else {
            items[item] = .skipped
            actions = [.skip(item: item)]
        }
        history.append(item)
        current = nextPending(after: item) ?? itemCount
        if current == itemCount { actions.append(.batchComplete) }
        return actions
    }

    func nextPending(after item: Int) -> Int? {
        guard itemCount > 0 else { return nil }
        for step in 1...itemCount {
            let i = (item + step) % itemCount
            if items[i] == .pending { return i }
        }
        return nil
    }

    mutating func undo() -> [AnnotatorAction] {
        guard let item = history.popLast() else { return [.undo(item: nil)] }
        let status = items[item]
        items[item] = .pending
        current = item
        gridCursor = item
        if case .skipped = status { return [.unskip(item: item)] }
        return [.undo(item: item)]
    }

    // MARK: - Demo

    mutating func takeOverIfNeeded() -> [AnnotatorAction] {
        guard var d = demo, !d.humanInControl else { return [] }
        d.humanInControl = true
        demo = d
        return [.demoTakeOver(true)]
    }

    mutating func handleDemo(_ command: KeyCommand?) -> [AnnotatorAction]? {
        guard var d = demo else { return nil }
        let actions: [AnnotatorAction]
        switch command {
        case .faster?:
            d.paceIndex = max(0, d.paceIndex - 1)
            actions = [.demoPace(d.pace)]
        case .slower?:
            d.paceIndex = min(DemoControl.paces.count - 1, d.paceIndex + 1)
            actions = [.demoPace(d.pace)]
        case .pause?:
            if d.humanInControl {
                d.humanInControl = false
                d.paused = false
                actions = [.demoTakeOver(false)]
            } else {
                d.paused.toggle()
                actions = [.demoPaused(d.paused)]
            }
        default: return nil
        }
        demo = d
        return actions
    }
}
