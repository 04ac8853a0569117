/// Why the terminal asks the program to stop: a signal caught by the backend.
public enum TerminalInterruption: Hashable, Sendable {
    /// SIGINT (Ctrl-C).
    case interrupt
    /// SIGTERM.
    case terminate
    /// SIGHUP (the SSH link dropped, the window closed).
    case hangup
}

/// A place frames are shown and keys come from: the real terminal or a test double.
///
/// Contract for every backend:
/// - `draw` shows the whole grid; backends may send only the cells that changed since the
///   previous `draw`, and after a size change they redraw everything.
/// - `readKey` waits at most `timeout`; nil means no key. A size change is reported as
///   `.resize` once, after which `size` is the new size.
/// - `interruption` turns non-nil after SIGINT/SIGTERM/SIGHUP; the run loop must then commit,
///   call `restore()` and exit. `restore()` is idempotent and puts the terminal back as it was.
/// - `elapsed` is a monotonic clock (the headless backend's is manual).
public protocol Terminal: AnyObject {
    var size: TerminalSize { get }
    var depth: ColorDepth { get }
    var interruption: TerminalInterruption? { get }
    var elapsed: Duration { get }
    func readKey(timeout: Duration) -> KeyPress?
    func draw(_ grid: CellGrid)
    func restore()
}

/// The cells of `grid` that differ from `previous`, as row runs `(y, x..<x)`.
///
/// Everything (one run per row) when there is no previous frame or its size differs.
public func changedRuns(from previous: CellGrid?, to grid: CellGrid) -> [(y: Int, xs: Range<Int>)] {
    guard let previous, previous.width == grid.width, previous.height == grid.height else {
        return (0..<grid.height).map { ($0, 0..<grid.width) }
    }
    var runs: [(y: Int, xs: Range<Int>)] = []
    grid.cells.withUnsafeBufferPointer { new in
        previous.cells.withUnsafeBufferPointer { old in
            for y in 0..<grid.height {
                let row = y * grid.width
                var x = 0
                while x < grid.width {
                    guard new[row + x] != old[row + x] else { x += 1; continue }
                    let start = x
                    while x < grid.width && new[row + x] != old[row + x] { x += 1 }
                    runs.append((y, start..<x))
                }
            }
        }
    }
    return runs
}
