/// The live panel of `lfosa demo`: LfOSA against Random per batch, recall, pace.
public struct DemoPanelModel: Hashable, Sendable {
    /// Per finished batch: LfOSA's selection precision and what Random would have had in the same round.
    public var lfosaPrecision: [Double]
    public var randomPrecision: [Double]
    /// Known items labeled so far / all known items in the pool (ground truth).
    public var recall: Double
    public var pace: Duration
    public var paused: Bool
    public var humanInControl: Bool

    public init(lfosaPrecision: [Double], randomPrecision: [Double], recall: Double, pace: Duration,
                paused: Bool = false, humanInControl: Bool = false) {
        self.lfosaPrecision = lfosaPrecision
        self.randomPrecision = randomPrecision
        self.recall = recall
        self.pace = pace
        self.paused = paused
        self.humanInControl = humanInControl
    }

    /// The panel model for the demo state `control` (pace, pause, who labels).
    public init(lfosaPrecision: [Double], randomPrecision: [Double], recall: Double, control: DemoControl) {
        self.init(lfosaPrecision: lfosaPrecision, randomPrecision: randomPrecision, recall: recall,
                  pace: control.pace, paused: control.paused, humanInControl: control.humanInControl)
    }
}
