/// The whole screen for an annotator state: picks the labeling, grid, histogram or help
/// screen by `state.mode` and fills the parts the state owns (grid cursor and statuses,
/// the current item's verdict, the demo controls).
///
/// Pure. The run loop calls this once per frame and hands the grid to the terminal.
public enum AnnotatorScreen {
    /// The frame for `state`.
    ///
    /// - `labeling`: the side panel's data and the current image.
    /// - `thumbnails`: one image (or nil) per batch item, for grid mode.
    /// - `histograms`: the MAV panels for `m`.
    public static func render(state: AnnotatorState, labeling: LabelingViewModel, thumbnails: [PixelImage?],
                              histograms: HistogramViewModel, context: ScreenContext) -> CellGrid {
        let classNames = labeling.classes.map(\.name)
        switch state.mode {
        case .label:
            var model = labeling
            if state.current < state.itemCount {
                model.position = state.current + 1
                if case .decided(let v) = state.items[state.current] { model.currentVerdict = v }
            } else {
                model.position = state.itemCount
            }
            model.batchSize = state.itemCount
            if let control = state.demo, var demo = model.demo {
                demo.pace = control.pace
                demo.paused = control.paused
                demo.humanInControl = control.humanInControl
                model.demo = demo
            }
            return LabelingScreen.render(model, keys: state.keyMap, context: context)
        case .grid:
            let items = state.items.indices.map { i in
                GridItemModel(image: i < thumbnails.count ? thumbnails[i] : nil, status: state.items[i])
            }
            return GridScreen.render(GridViewModel(items: items, cursor: state.gridCursor, classNames: classNames,
                                                   round: labeling.round), context: context)
        case .histograms:
            return HistogramScreen.render(histograms, page: state.histogramPage, context: context)
        case .help:
            return HelpScreen.render(keys: state.keyMap, classNames: classNames, demo: state.demo != nil, context: context)
        }
    }
}
