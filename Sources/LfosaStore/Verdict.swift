import Foundation

/// An annotator's decision about one item.
///
/// `.known(i)` names the configured class at index `i` of `SessionConfiguration.classNames`;
/// `.unknown` puts the item in D_I (open-set: none of the known classes); `.skipped` records that
/// the item was seen and deliberately left without a label (it is in neither D_L nor D_I).
public enum Verdict: Hashable, Sendable, CustomStringConvertible {
    case known(Int)
    case unknown
    case skipped

    public var description: String {
        switch self {
        case .known(let index): return "known(\(index))"
        case .unknown: return "unknown"
        case .skipped: return "skipped"
        }
    }

    /// The stored kind column: "known", "unknown" or "skipped".
    var kindName: String {
        switch self {
        case .known: return "known"
        case .unknown: return "unknown"
        case .skipped: return "skipped"
        }
    }

    /// The class index for `.known`, nil otherwise.
    var classIndex: Int? {
        if case .known(let index) = self { return index }
        return nil
    }

    /// Rebuilds a verdict from its stored columns; nil when they do not describe one.
    static func stored(kind: String, classIndex: Int?) -> Verdict? {
        switch (kind, classIndex) {
        case ("known", let index?): return .known(index)
        case ("unknown", nil): return .unknown
        case ("skipped", nil): return .skipped
        default: return nil
        }
    }
}

/// The identity of one row of the append-only event history.
///
/// Ids increase strictly in commit order; a later event always has a larger id.
public struct EventID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }
    public static func < (a: EventID, b: EventID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }
}

/// One verdict event as stored, with whether a later event retracted it.
///
/// `time` is the wall-clock time the caller passed to `LabelStore.record`.
public struct VerdictEvent: Hashable, Sendable {
    public let id: EventID
    public let itemIdentity: String
    public let verdict: Verdict
    public let round: Int
    public let annotator: String
    public let time: Date
    public let isRetracted: Bool
}

/// What `LabelStore.undoLast` did: the retraction event it appended and the verdict it retracted.
///
/// After the undo, the item's effective verdict is its previous non-retracted verdict, if any.
public struct RetractedEvent: Hashable, Sendable {
    public let retraction: EventID
    public let retracted: VerdictEvent
}
