import Testing
@testable import LfosaTerminal

func makeState(items: Int = 4, classes: Int = 3, demo: DemoControl? = nil) -> AnnotatorState {
    AnnotatorState(keyMap: .standard(classCount: classes), classCount: classes, itemCount: items, demo: demo)
}

extension AnnotatorState {
    /// Feeds a string of single-character keys; returns all actions.
    mutating func type(_ keys: String) -> [AnnotatorAction] {
        keys.flatMap { handle(.character($0)) }
    }
}

@Test func labelingRecordsAndAdvancesToTheNextItem() {
    var s = makeState()
    #expect(s.handle(.character("2")) == [.record(.known(1), item: 0)])
    #expect(s.current == 1)
    #expect(s.handle(.character("u")) == [.record(.unknown, item: 1)])
    #expect(s.handle(.character(" ")) == [.skip(item: 2)])
    #expect(s.handle(.character("1")) == [.record(.known(0), item: 3), .batchComplete])
    #expect(s.current == s.itemCount && s.isBatchComplete && s.decidedCount == 3)
    // Nothing left: labeling keys do nothing.
    #expect(s.handle(.character("1")) == [])
}

@Test func classKeysBeyondTheClassCountDoNothing() {
    var s = makeState(classes: 2)
    #expect(s.handle(.character("3")) == [])
    #expect(s.current == 0)
}

@Test func undoGoesBackAnyNumberOfStepsAcrossBatches() {
    var s = makeState(items: 3)
    _ = s.type("1 u")
    #expect(s.handle(.backspace) == [.undo(item: 2)])
    #expect(s.current == 2 && s.items[2] == .pending)
    #expect(s.handle(.backspace) == [.unskip(item: 1)])
    #expect(s.handle(.backspace) == [.undo(item: 0)])
    #expect(s.current == 0)
    // Past this batch the store withdraws earlier verdicts.
    #expect(s.handle(.backspace) == [.undo(item: nil)])
    #expect(s.handle(.backspace) == [.undo(item: nil)])
    // After an undo, the next verdict goes to the undone item.
    #expect(s.handle(.character("3")) == [.record(.known(2), item: 0)])
    #expect(s.current == 1)
}

@Test func undoAfterCompletionReopensTheBatch() {
    var s = makeState(items: 2)
    #expect(s.type("11") == [.record(.known(0), item: 0), .record(.known(0), item: 1), .batchComplete])
    #expect(s.handle(.backspace) == [.undo(item: 1)])
    #expect(!s.isBatchComplete)
    #expect(s.type("2") == [.record(.known(1), item: 1), .batchComplete])
}

@Test func nextPendingWrapsAroundAfterArrowNavigation() {
    var s = makeState(items: 3)
    _ = s.handle(.right); _ = s.handle(.right)
    #expect(s.current == 2)
    #expect(s.type("1") == [.record(.known(0), item: 2)])
    #expect(s.current == 0)
    _ = s.handle(.left)
    #expect(s.current == 0)
}

@Test func quitWorksFromEveryMode() {
    for setup in ["", "g", "m", "?"] {
        var s = makeState()
        _ = s.type(setup)
        #expect(s.handle(.character("q")) == [.quit], "mode after \(setup)")
    }
}

@Test func helpOpensOverAnyScreenAndAnyKeyReturns() {
    var s = makeState()
    #expect(s.type("m") == [.modeChanged(.histograms)])
    #expect(s.type("?") == [.modeChanged(.help)])
    // A labeling key only closes help: it must not record.
    #expect(s.type("1") == [.modeChanged(.histograms)])
    #expect(s.handle(.escape) == [.modeChanged(.label)])
    #expect(s.items.allSatisfy { $0 == .pending })
}

@Test func histogramScreenKeepsUndoWorking() {
    var s = makeState()
    _ = s.type("1m")
    #expect(s.handle(.backspace) == [.undo(item: 0)])
    #expect(s.mode == .histograms)
    #expect(s.type("1") == [])
    #expect(s.type("m") == [.modeChanged(.label)])
}

@Test func gridCursorMovesAndLabelsTheHighlightedItem() {
    var s = makeState(items: 10)
    s.setGridGeometry(columns: 4, rows: 2)
    #expect(s.type("g") == [.modeChanged(.grid)])
    _ = s.handle(.down); _ = s.handle(.right)
    #expect(s.gridCursor == 5)
    _ = s.handle(.down)
    #expect(s.gridCursor == 9 && s.gridPage == 1)
    _ = s.handle(.down)
    #expect(s.gridCursor == 9)
    _ = s.handle(.up); _ = s.handle(.up); _ = s.handle(.up)
    #expect(s.gridCursor == 1)
    _ = s.handle(.pageDown)
    #expect(s.gridCursor == 9)
    _ = s.handle(.home)
    #expect(s.type("u") == [.record(.unknown, item: 0)])
    #expect(s.gridCursor == 1)
    _ = s.handle(.right)
    #expect(s.handle(.enter) == [.modeChanged(.label)])
    #expect(s.current == 2)
}

@Test func gridUndoMovesTheCursorBack() {
    var s = makeState(items: 6)
    s.setGridGeometry(columns: 3, rows: 1)
    _ = s.type("g"); _ = s.handle(.end)
    _ = s.type("2")
    #expect(s.handle(.backspace) == [.undo(item: 5)])
    #expect(s.gridCursor == 5)
}

@Test func demoKeysChangePacePauseAndTakeOver() {
    var s = makeState(items: 3, demo: DemoControl(pace: .milliseconds(200)))
    #expect(s.type("+") == [.demoPace(.milliseconds(100))])
    #expect(s.type("--") == [.demoPace(.milliseconds(200)), .demoPace(.milliseconds(500))])
    #expect(s.applySimulated(.known(1)) == [.record(.known(1), item: 0)])
    #expect(s.type("p") == [.demoPaused(true)])
    #expect(s.applySimulated(.unknown) == [])
    #expect(s.type("p") == [.demoPaused(false)])
    // A human label takes over; the simulator is then ignored until `p`.
    #expect(s.type("u") == [.demoTakeOver(true), .record(.unknown, item: 1)])
    #expect(s.applySimulated(.known(0)) == [])
    #expect(s.type("p") == [.demoTakeOver(false)])
    #expect(s.applySimulated(.known(0)) == [.record(.known(0), item: 2), .batchComplete])
    // Pace clamps at the fastest step.
    for _ in 0..<20 { _ = s.type("+") }
    #expect(s.demo?.pace == DemoControl.paces[0])
}

@Test func demoKeysAreOrdinaryOutsideADemo() {
    var s = makeState()
    #expect(s.type("+p") == [])
    #expect(s.applySimulated(.unknown) == [])
}

@Test func beginBatchResetsItemsAndLeavesGrid() {
    var s = makeState(items: 2)
    _ = s.type("1g")
    s.beginBatch(itemCount: 5)
    #expect(s.itemCount == 5 && s.current == 0 && s.history.isEmpty && s.mode == .label)
    #expect(s.handle(.backspace) == [.undo(item: nil)])
}

@Test func resizeIsNotACommand() {
    var s = makeState()
    #expect(s.handle(.resize) == [])
}

@Test func histogramPagesMoveWithArrowsAndClamp() {
    var s = makeState()
    _ = s.type("m")
    _ = s.handle(.right); _ = s.handle(.pageDown); _ = s.handle(.right)
    #expect(s.histogramPage == 3)
    s.setHistogramPageCount(2)
    #expect(s.histogramPage == 1)
    _ = s.handle(.left); _ = s.handle(.left)
    #expect(s.histogramPage == 0)
}
