import Testing
@testable import LfosaTerminal

@Test func diffWritesOnlyChangedCells() {
    let term = HeadlessTerminal(size: TerminalSize(width: 10, height: 3))
    var grid = CellGrid(width: 10, height: 3)
    term.draw(grid)
    #expect(term.lastCellsWritten == 30)
    grid.text("ab", x: 4, y: 1, style: Theme.dark.base)
    term.draw(grid)
    #expect(term.lastCellsWritten == 2)
    #expect(term.screen.line(1) == "    ab")
    term.draw(grid)
    #expect(term.lastCellsWritten == 0)
    let runs = changedRuns(from: CellGrid(width: 2, height: 2), to: CellGrid(width: 3, height: 2))
    #expect(runs.map(\.xs) == [0..<3, 0..<3])
}

@Test func manualClockAdvancesOnTimeout() {
    let term = HeadlessTerminal(size: TerminalSize(width: 10, height: 3))
    term.type("a")
    #expect(term.readKey(timeout: .milliseconds(50)) == .character("a"))
    #expect(term.elapsed == .zero)
    #expect(term.readKey(timeout: .milliseconds(50)) == nil)
    #expect(term.elapsed == .milliseconds(50))
}

/// A driver over the full annotator screen, as the wiring will build it.
func makeDriver(_ term: HeadlessTerminal, items: Int = 5) -> AnnotatorDriver {
    let state = AnnotatorState(keyMap: keys3, classCount: 3, itemCount: items)
    let histos = HistogramViewModel(panels: [Fixtures.panel()], round: 3)
    return AnnotatorDriver(terminal: term, state: state) { state, context in
        AnnotatorScreen.render(state: state, labeling: Fixtures.labeling(), thumbnails: [], histograms: histos,
                               context: context)
    }
}

@Test func driverAppliesKeysAndRedraws() {
    let term = HeadlessTerminal(size: TerminalSize(width: 80, height: 24))
    let driver = makeDriver(term)
    driver.redraw()
    #expect(term.screen.text().contains("1/5 · round 3"))
    term.type("2")
    #expect(driver.step(timeout: .milliseconds(10)) == [.record(.known(1), item: 0)])
    #expect(term.screen.text().contains("2/5 · round 3"))
    // Only the changed side-panel cells were sent.
    #expect(term.lastCellsWritten > 0 && term.lastCellsWritten < 20)
    #expect(driver.step(timeout: .milliseconds(10)) == [])
}

@Test func resizeRelayoutsAtOnceAndTooSmallSaysSo() {
    let term = HeadlessTerminal(size: TerminalSize(width: 80, height: 24))
    let driver = makeDriver(term, items: 30)
    driver.redraw()
    term.resize(to: TerminalSize(width: 40, height: 10))
    #expect(driver.step(timeout: .milliseconds(10)) == [])
    #expect(term.screen.width == 40 && term.screen.text().contains("terminal too small"))
    term.resize(to: TerminalSize(width: 120, height: 40))
    _ = driver.step(timeout: .milliseconds(10))
    #expect(term.screen.width == 120 && term.screen.text().contains("1/30 · round 3"))
    // Grid geometry follows the size: 120/18 = 6 columns.
    #expect(driver.state.gridColumns == 6 && driver.state.gridRows == 3)
}

@Test func signalsQuitTheLoop() {
    for signal in [TerminalInterruption.interrupt, .terminate, .hangup] {
        let term = HeadlessTerminal(size: TerminalSize(width: 80, height: 24))
        let driver = makeDriver(term)
        term.type("1")
        term.signal(signal)
        #expect(driver.step(timeout: .milliseconds(10)) == [.quit])
        // The pending key was not consumed: nothing is lost or half-applied.
        #expect(term.pendingKeys == 1)
    }
}

@Test func simulatedAnnotatorDrivesTheDemo() {
    let term = HeadlessTerminal(size: TerminalSize(width: 80, height: 24))
    let state = AnnotatorState(keyMap: keys3, classCount: 3, itemCount: 2, demo: DemoControl())
    let driver = AnnotatorDriver(terminal: term, state: state) { state, context in
        AnnotatorScreen.render(state: state, labeling: Fixtures.labeling(), thumbnails: [],
                               histograms: HistogramViewModel(panels: []), context: context)
    }
    #expect(driver.applySimulated(.known(0)) == [.record(.known(0), item: 0)])
    #expect(term.frameCount == 1)
    term.type("p")
    #expect(driver.step(timeout: .milliseconds(1)) == [.demoPaused(true)])
    #expect(driver.applySimulated(.known(0)) == [])
    #expect(term.frameCount == 2)
}

@Test func driverStopsHistogramPagingAtTheLastPage() {
    let term = HeadlessTerminal(size: TerminalSize(width: 80, height: 24))
    let driver = makeDriver(term)
    driver.histogramPanelCount = 8  // 6 per page at 80×24: 2 pages
    term.type("m")
    term.enqueue(.right, .right, .right)
    for _ in 0..<4 { _ = driver.step(timeout: .zero) }
    #expect(driver.state.histogramPage == 1)
    term.enqueue(.left)
    _ = driver.step(timeout: .zero)
    #expect(driver.state.histogramPage == 0)
}

/// The caller commits a verdict before the frame showing the next image is drawn.
@Test func actionsReachTheCallerBeforeTheNextFrame() throws {
    let term = HeadlessTerminal(size: TerminalSize(width: 80, height: 24))
    let driver = makeDriver(term)
    driver.redraw()
    let framesBefore = term.frameCount
    term.type("1")
    var framesAtCommit = -1
    let actions = driver.step(timeout: .milliseconds(10)) { actions in
        #expect(actions == [.record(.known(0), item: 0)])
        framesAtCommit = term.frameCount
    }
    #expect(actions == [.record(.known(0), item: 0)])
    #expect(framesAtCommit == framesBefore)          // nothing drawn before the commit
    #expect(term.frameCount == framesBefore + 1)     // drawn right after it
    struct DiskFull: Error {}
    term.type("2")
    #expect(throws: DiskFull.self) { try driver.step(timeout: .milliseconds(10)) { _ in throw DiskFull() } }
    #expect(term.frameCount == framesBefore + 1)     // a failed commit shows no next image
}
