/// The annotator's answer for one queried sample.
public enum Verdict: Sendable, Equatable, Codable {
    /// A known class, 0..<K.
    case known(Int)
    /// Not one of the known classes (goes to the invalid set D_I).
    case unknown
    /// No answer: the sample stays in the unlabeled pool.
    case skipped
}

/// The labeled sets of a loop: everything needed to rebuild it (with the same source,
/// candidates, strategy, profile and seed).
///
/// `labeled` is D_L as (index, class) pairs and `invalid` is D_I, both ascending by index;
/// `round` counts the queries recorded so far.
public struct LabeledSets: Sendable, Equatable, Codable {
    public struct Item: Sendable, Equatable, Codable {
        public var index: Int
        public var label: Int
        public init(index: Int, label: Int) {
            self.index = index
            self.label = label
        }
    }
    public var labeled: [Item]
    public var invalid: [Int]
    public var round: Int

    public init(labeled: [Item], invalid: [Int], round: Int) {
        self.labeled = labeled.sorted { $0.index < $1.index }
        self.invalid = invalid.sorted()
        self.round = round
    }
}
