/// An in-memory terminal for tests, the benchmark and the demo's scripted annotator.
///
/// Keys come from a script (`enqueue`, `type`); the clock is manual: `readKey` with an empty
/// queue advances `elapsed` by the timeout and returns nil. `screen` holds what a real
/// terminal would show: each `draw` applies only the changed runs to it, and
/// `lastCellsWritten` counts them, so the diffing is tested too.
public final class HeadlessTerminal: Terminal {
    public private(set) var size: TerminalSize
    public let depth: ColorDepth
    public private(set) var screen: CellGrid
    public private(set) var frameCount = 0
    public private(set) var lastCellsWritten = 0
    public private(set) var restored = false
    public var interruption: TerminalInterruption?
    public var elapsed: Duration = .zero
    private var queue: [KeyPress] = []
    private var previous: CellGrid?

    public init(size: TerminalSize, depth: ColorDepth = .palette256) {
        self.size = size
        self.depth = depth
        screen = CellGrid(width: size.width, height: size.height)
    }

    /// Keys still queued.
    public var pendingKeys: Int { queue.count }

    /// Queues keys for `readKey`, in order.
    public func enqueue(_ keys: KeyPress...) { queue.append(contentsOf: keys) }

    /// Queues one `.character` per character of `text`.
    public func type(_ text: String) { queue.append(contentsOf: text.map { .character($0) }) }

    /// Changes the size and queues `.resize`, as a terminal does on SIGWINCH.
    public func resize(to newSize: TerminalSize) {
        size = newSize
        queue.append(.resize)
    }

    /// Simulates a caught signal.
    public func signal(_ interruption: TerminalInterruption) { self.interruption = interruption }

    /// Advances the manual clock.
    public func advance(by duration: Duration) { elapsed += duration }

    public func readKey(timeout: Duration) -> KeyPress? {
        guard !queue.isEmpty else {
            elapsed += timeout
            return nil
        }
        return queue.removeFirst()
    }

    public func draw(_ grid: CellGrid) {
        let runs = changedRuns(from: previous, to: grid)
        if screen.width != grid.width || screen.height != grid.height {
            screen = CellGrid(width: grid.width, height: grid.height)
        }
        var written = 0
        for run in runs {
            for x in run.xs { screen[x, run.y] = grid[x, run.y] }
            written += run.xs.count
        }
        lastCellsWritten = written
        previous = grid
        frameCount += 1
    }

    public func restore() { restored = true }
}
