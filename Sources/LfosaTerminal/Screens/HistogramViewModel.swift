/// One class's panel on the MAV histogram screen.
public struct HistogramPanelModel: Hashable, Sendable {
    public var className: String
    /// The detector's MAVs of the pool items predicted as this class.
    public var mavs: [Float]
    /// Ground truth per MAV (demo): true = a known-class item. Nil when unknown.
    public var isKnown: [Bool]?
    public var components: MixtureComponents?
    /// The w = 0.5 boundary; nil = computed from `components` when possible.
    public var boundary: Float?
    /// Items queried from this class's group so far.
    public var queried: Int

    public init(className: String, mavs: [Float], isKnown: [Bool]? = nil, components: MixtureComponents? = nil,
                boundary: Float? = nil, queried: Int = 0) {
        precondition(isKnown == nil || isKnown!.count == mavs.count, "HistogramPanelModel: isKnown/mavs lengths differ")
        self.className = className
        self.mavs = mavs
        self.isKnown = isKnown
        self.components = components
        self.boundary = boundary
        self.queried = queried
    }
}

/// The MAV histogram screen's content.
public struct HistogramViewModel: Hashable, Sendable {
    public var panels: [HistogramPanelModel]
    public var round: Int

    public init(panels: [HistogramPanelModel], round: Int = 1) {
        self.panels = panels
        self.round = round
    }
}
