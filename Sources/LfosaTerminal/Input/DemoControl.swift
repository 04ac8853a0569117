/// The simulated annotator's controls in `lfosa demo`: pace, pause, who labels.
///
/// `pace` is the time between simulated verdicts, one of `paces`; `+` moves to the next
/// shorter pace, `-` to the next longer. While `paused` or `humanInControl` the simulator
/// must not answer (`AnnotatorState.applySimulated` ignores it).
public struct DemoControl: Hashable, Sendable {
    /// The selectable times between simulated verdicts, fastest first.
    public static let paces: [Duration] = [
        .milliseconds(20), .milliseconds(50), .milliseconds(100), .milliseconds(200),
        .milliseconds(500), .seconds(1), .seconds(2), .seconds(5),
    ]

    public var paceIndex: Int
    public var paused: Bool
    public var humanInControl: Bool

    public init(pace: Duration = .milliseconds(200), paused: Bool = false, humanInControl: Bool = false) {
        paceIndex = DemoControl.paces.enumerated().min(by: {
            abs(($0.element - pace) / .milliseconds(1)) < abs(($1.element - pace) / .milliseconds(1))
        })!.offset
        self.paused = paused
        self.humanInControl = humanInControl
    }

    public var pace: Duration { DemoControl.paces[paceIndex] }

    /// Whether the simulated annotator may answer now.
    public var simulatorActive: Bool { !paused && !humanInControl }
}
