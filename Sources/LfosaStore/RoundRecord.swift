import Foundation

/// What one active-learning round produced: set sizes, selection outcome, metrics, timings.
///
/// `labeledCount` is |D_L| and `invalidCount` is |D_I| after the round's labeling;
/// `queriedCount` items were shown and `knownQueriedCount` of them were known-class.
/// `metrics` (e.g. "accuracy") and `timings` (seconds, e.g. "training") are free-form.
public struct RoundRecord: Hashable, Sendable {
    public var round: Int
    public var labeledCount: Int
    public var invalidCount: Int
    public var queriedCount: Int
    public var knownQueriedCount: Int
    public var metrics: [String: Double]
    public var timings: [String: Double]
    public var recordedAt: Date

    public init(round: Int, labeledCount: Int, invalidCount: Int, queriedCount: Int, knownQueriedCount: Int,
                metrics: [String: Double] = [:], timings: [String: Double] = [:], recordedAt: Date) {
        self.round = round
        self.labeledCount = labeledCount
        self.invalidCount = invalidCount
        self.queriedCount = queriedCount
        self.knownQueriedCount = knownQueriedCount
        self.metrics = metrics
        self.timings = timings
        self.recordedAt = recordedAt
    }

    /// Selection precision: the fraction of queried items that were known-class; nil if none queried.
    public var selectionPrecision: Double? {
        queriedCount > 0 ? Double(knownQueriedCount) / Double(queriedCount) : nil
    }

    static func encode(_ values: [String: Double]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(values)) ?? Data("{}".utf8), as: UTF8.self)
    }

    static func decode(_ text: String) -> [String: Double] {
        (try? JSONDecoder().decode([String: Double].self, from: Data(text.utf8))) ?? [:]
    }
}
