import Testing
@testable import LfosaTerminal

let keys3 = KeyMap.standard(classCount: 3)

func context(_ w: Int, _ h: Int, _ depth: ColorDepth = .palette256) -> ScreenContext {
    ScreenContext(size: TerminalSize(width: w, height: h), depth: depth)
}

@Test(arguments: [(80, 24, ColorDepth.palette256), (200, 60, .direct), (60, 16, .ansi16), (80, 24, .monochromeASCII)])
func labelingScreenSnapshots(width: Int, height: Int, depth: ColorDepth) {
    let grid = LabelingScreen.render(Fixtures.labeling(), keys: keys3, context: context(width, height, depth))
    expectSnapshot(grid.text(), named: "labeling-\(width)x\(height)-\(depth.rawValue)")
}

@Test func labelingSidePanelShowsProgressPrecisionHintAndTraining() {
    let grid = LabelingScreen.render(Fixtures.labeling(), keys: keys3, context: context(120, 40))
    let text = grid.text()
    #expect(text.contains("12/20 · round 3"))
    #expect(text.contains("precision 0.67 (8/12)"))
    #expect(text.contains("guess: bird (w 0.93)"))
    #expect(text.contains("detector epoch 3/8 loss 0.41 ETA 12s"))
    #expect(text.contains("1 airplane") && text.contains("u unknown"))
    #expect(text.contains("pool #4711"))
    // A narrow side panel wraps the training line instead of cutting it.
    let narrow = LabelingScreen.render(Fixtures.labeling(), keys: keys3, context: context(80, 24)).text()
    #expect(narrow.contains("detector epoch 3/8 loss") && narrow.contains("0.41 ETA 12s"))
}

@Test func labelingColourDumpAtSixteenColours() {
    var model = Fixtures.labeling(image: PixelImage(width: 2, height: 2) { x, _ in x == 0 ? RGB(255, 0, 0) : RGB(0, 0, 255) })
    model.currentVerdict = .known(1)
    model.coldStartNotice = "cold start: random picks until every class has 3 labels"
    model.training = nil
    model.hint = nil
    let grid = LabelingScreen.render(model, keys: keys3, context: context(60, 16, .ansi16))
    expectSnapshot(grid.styleDump(), named: "labeling-style-60x16-ansi16")
    // The current verdict's class row is reversed.
    let row = (0..<grid.height).first { grid.line($0).contains("2 automobile") }!
    let x = grid.line(row).unicodeScalars.count - 2
    #expect(grid[x, row].attributes.contains(.reverse))
}

@Test func preparedImageIsUsedOnlyWhenItFitsTheLayout() {
    let ctx = context(80, 24, .direct)
    var model = Fixtures.labeling()
    var fake = LabelingScreen.prepareImage(Fixtures.image, context: ctx)
    fake.fill(fake.bounds, with: Cell("X", foreground: .white, background: .black))
    model.image = ImageContent(pixels: Fixtures.image, prepared: fake)
    #expect(LabelingScreen.render(model, keys: keys3, context: ctx).text().contains("XXXX"))
    // After a resize the stale cells are ignored.
    #expect(!LabelingScreen.render(model, keys: keys3, context: context(100, 30, .direct)).text().contains("XXXX"))
}

@Test func tooSmallTerminalSaysSo() {
    let grid = LabelingScreen.render(Fixtures.labeling(), keys: keys3, context: context(40, 10))
    expectSnapshot(grid.text(), named: "too-small-40x10")
    #expect(grid.text().contains("need 60x16, have 40x10"))
}

@Test func labelingShowsDemoPanelAndColdStart() {
    var model = Fixtures.labeling()
    model.coldStartNotice = "cold start: random picks until every class has 3 labels"
    model.demo = DemoPanelModel(lfosaPrecision: [0.33, 0.66, 0.85], randomPrecision: [0.2, 0.21, 0.19], recall: 0.42,
                                pace: .milliseconds(200), paused: true)
    let grid = LabelingScreen.render(model, keys: keys3, context: context(120, 40))
    expectSnapshot(grid.text(), named: "labeling-demo-120x40")
    let text = grid.text()
    #expect(text.contains("q3") && text.contains("0.85") && text.contains("recall 0.42"))
    #expect(text.contains("PAUSED") && text.contains("pace 200ms/label"))
    #expect(text.contains("cold start"))
}

@Test func gridScreenSnapshotAndHighlight() {
    let items = (0..<12).map { i in
        GridItemModel(image: Fixtures.image, status: i == 0 ? .decided(.known(2)) : i == 1 ? .decided(.unknown)
                      : i == 2 ? .skipped : .pending)
    }
    let model = GridViewModel(items: items, cursor: 5, classNames: Fixtures.classes.map(\.name), round: 3)
    let grid = GridScreen.render(model, context: context(80, 24))
    expectSnapshot(grid.text(), named: "grid-80x24")
    #expect(GridScreen.geometry(TerminalSize(width: 80, height: 24)) == (4, 2))
    // Page 2 holds the cursor at item 10.
    let page2 = GridScreen.render(GridViewModel(items: items, cursor: 9, classNames: [], round: 3), context: context(80, 24))
    #expect(page2.text().contains("page 2/2") && page2.text().contains("item 10/12"))
    // The highlighted tile's frame uses the bold warn colour.
    let tile = 5 % 4 * GridScreen.tileWidth
    #expect(grid[tile, 1 + GridScreen.tileHeight].foreground == Theme.dark.warn)
}

@Test func emptyGridSaysSo() {
    let grid = GridScreen.render(GridViewModel(items: [], cursor: 0, classNames: []), context: context(80, 24))
    #expect(grid.line(0).contains("no items"))
}

@Test(arguments: [(100, 30, ColorDepth.palette256), (80, 24, .monochromeASCII)])
func histogramScreenSnapshots(width: Int, height: Int, depth: ColorDepth) {
    let model = HistogramViewModel(panels: [Fixtures.panel(), Fixtures.panel(name: "bird", split: false)], round: 3)
    let grid = HistogramScreen.render(model, context: context(width, height, depth))
    expectSnapshot(grid.text(), named: "histograms-\(width)x\(height)-\(depth.rawValue)")
}

@Test func histogramSplitsKnownAndUnknownColoursAndMarksTheBoundary() {
    let panel = Fixtures.panel()
    var grid = CellGrid(size: TerminalSize(width: 42, height: 14), style: Theme.dark.base)
    HistogramScreen.drawPanel(panel, into: &grid, rect: grid.bounds, context: context(42, 14, .direct))
    let colours = Set(grid.cells.filter { "▁▂▃▄▅▆▇█".unicodeScalars.contains($0.character) }.map(\.foreground))
    #expect(colours == [Theme.dark.good, Theme.dark.bad])
    // Equal variances: the w = 0.5 boundary is where 0.67·N(2,1) = 0.33·N(6,1): 4 + ln(0.67/0.33)/4 ≈ 4.18.
    let boundary = panel.components!.posteriorBoundary()!
    #expect(abs(boundary - 4.177) < 0.01)
    #expect(grid.cells.contains { $0.character == "┊" })
    #expect(grid.text().contains("queried 12") && grid.text().contains("w=.5"))
    // Both mixture components are drawn.
    let dots = Set(grid.cells.filter { $0.character == "•" }.map(\.foreground))
    #expect(dots == [Theme.dark.curveLow, Theme.dark.curveHigh])
}

@Test func histogramWithoutGroundTruthUsesOneColour() {
    var grid = CellGrid(size: TerminalSize(width: 42, height: 14), style: Theme.dark.base)
    HistogramScreen.drawPanel(Fixtures.panel(split: false), into: &grid, rect: grid.bounds, context: context(42, 14, .direct))
    let colours = Set(grid.cells.filter { "▁▂▃▄▅▆▇█".unicodeScalars.contains($0.character) }.map(\.foreground))
    #expect(colours == [Theme.dark.accent])
}

@Test func histogramPanelsThatDoNotFitArePaged() {
    let panels = (0..<40).map { Fixtures.panel(name: "c\($0)") }
    let size = TerminalSize(width: 80, height: 24)
    #expect(HistogramScreen.pageCount(count: 40, size: size) == 7)
    let grid = HistogramScreen.render(HistogramViewModel(panels: panels), page: 1, context: context(80, 24))
    #expect(grid.line(0).contains("page 2/7 (classes 7-12 of 40"))
    #expect(grid.text().contains("c6 ·") && !grid.text().contains("c5 ·"))
    let last = HistogramScreen.render(HistogramViewModel(panels: panels), page: 99, context: context(80, 24))
    #expect(last.line(0).contains("page 7/7 (classes 37-40 of 40"))
    #expect(HistogramScreen.geometry(count: 2, size: TerminalSize(width: 100, height: 30)) == (2, 1))
    #expect(HistogramScreen.geometry(count: 5, size: TerminalSize(width: 80, height: 24)) == (3, 2))
}

@Test func mixtureBoundaryIsNilWithoutACrossing() {
    #expect(MixtureComponents(weights: [0.5, 0.5], means: [3, 3], variances: [1, 1]).posteriorBoundary() == nil)
    #expect(MixtureComponents(weights: [1], means: [3], variances: [1]).posteriorBoundary() == nil)
    let symmetric = MixtureComponents(weights: [0.5, 0.5], means: [6, 2], variances: [1, 1])
    #expect(abs(symmetric.posteriorBoundary()! - 4) < 1e-4)
    #expect(symmetric.highComponent == 0)
}

@Test func helpScreenListsBindings() {
    let grid = HelpScreen.render(keys: keys3, classNames: Fixtures.classes.map(\.name), demo: true, context: context(80, 24))
    expectSnapshot(grid.text(), named: "help-80x24")
    let text = grid.text()
    #expect(text.contains("3        bird") && text.contains("bksp     undo") && text.contains("+/-      demo"))
}

@Test func annotatorScreenFollowsTheMode() {
    var state = AnnotatorState(keyMap: keys3, classCount: 3, itemCount: 20)
    let histos = HistogramViewModel(panels: [Fixtures.panel()], round: 3)
    let thumbs = [PixelImage?](repeating: Fixtures.image, count: 20)
    func frame() -> String {
        AnnotatorScreen.render(state: state, labeling: Fixtures.labeling(), thumbnails: thumbs, histograms: histos,
                               context: context(80, 24)).text()
    }
    #expect(frame().contains("1/20 · round 3"))
    _ = state.handle(.character("1"))
    #expect(frame().contains("2/20 · round 3"))
    _ = state.handle(.character("m"))
    #expect(frame().contains("MAV histograms"))
    _ = state.handle(.character("g"))
    #expect(frame().contains("grid · round 3 · item 2/20"))
    _ = state.handle(.character("?"))
    #expect(frame().contains("any key returns"))
}
