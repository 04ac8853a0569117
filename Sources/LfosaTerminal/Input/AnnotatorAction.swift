/// The annotator's answer for one item.
public enum Verdict: Hashable, Sendable {
    /// Known class `index` (0-based).
    case known(Int)
    /// Not one of the known classes (goes to the invalid set).
    case unknown
}

/// Which screen the annotator is on.
public enum AnnotatorMode: Hashable, Sendable {
    case label, grid, histograms, help
}

/// Where an item of the batch stands.
public enum ItemStatus: Hashable, Sendable {
    case pending
    case skipped
    case decided(Verdict)
}

/// What the state machine asks the outside world to do, emitted by `AnnotatorState`.
///
/// The run loop performs these in order: `.record` goes to the label store (an upsert: a
/// relabel from grid mode replaces the earlier verdict), `.undo(item: nil)` withdraws the
/// store's most recent verdict from an earlier batch (the store owns that history).
public enum AnnotatorAction: Hashable, Sendable {
    /// Store `verdict` for batch item `item`.
    case record(Verdict, item: Int)
    /// The annotator passed over `item` (no verdict; it stays in the pool).
    case skip(item: Int)
    /// Withdraw the verdict of batch item `item`, or (nil) the latest verdict of an earlier batch.
    case undo(item: Int?)
    /// An undone skip: `item` is pending again (nothing to tell the store).
    case unskip(item: Int)
    /// Every item of the batch is decided or skipped (emitted each time this becomes true).
    case batchComplete
    /// Save and quit.
    case quit
    /// The screen changed (the run loop redraws anyway; useful for logging and tests).
    case modeChanged(AnnotatorMode)
    /// Demo: the simulated annotator's time per verdict changed.
    case demoPace(Duration)
    /// Demo: the simulated annotator was paused (true) or resumed (false).
    case demoPaused(Bool)
    /// Demo: the human took over (true) or gave control back to the simulator (false).
    case demoTakeOver(Bool)
}
