import Foundation

/// The numbers `lfosa status` shows: label counts, rounds, precision, labeling time and pace.
///
/// Counts are of effective verdicts (after retractions). `labelingSeconds` is active time: the sum
/// of gaps between consecutive verdict events of the same annotator, each gap capped at
/// `idleCapSeconds` (a pause longer than that counts as that much), so a night away does not
/// count as labeling. `labelsPerMinute` is decisions (known + unknown + skipped verdict events,
/// retracted ones included, since they were work) per active minute; nil with under
/// `minimumPaceSeconds` of active time, where a rate would be noise.
public struct SessionStatus: Sendable {
    public struct ClassCount: Hashable, Sendable { public let name: String; public let count: Int }

    /// What the annotator decided in one round, from the history (effective verdicts only).
    ///
    /// `precision` = known / (known + unknown): the share of shown items that were of a known
    /// class; nil when nothing was labeled known or unknown in that round.
    public struct RoundActivity: Hashable, Sendable {
        public let round: Int
        public let known: Int
        public let unknown: Int
        public let skipped: Int
        public var precision: Double? { known + unknown > 0 ? Double(known) / Double(known + unknown) : nil }
    }

    public static let idleCapSeconds: Double = 120
    public static let minimumPaceSeconds: Double = 10

    public let itemCount: Int
    public let perClass: [ClassCount]
    public let unknownCount: Int
    public let skippedCount: Int
    public let unlabeledCount: Int
    public let verdictEventCount: Int
    public let retractedCount: Int
    public let rounds: [RoundRecord]
    public let activityByRound: [RoundActivity]
    public let labelingSeconds: Double
    public let labelsPerMinute: Double?
    public let annotators: [String]

    /// Computes the status from stored values (a pure function of its arguments).
    public static func compute(configuration: SessionConfiguration, itemCount: Int, events: [VerdictEvent],
                               rounds: [RoundRecord]) -> SessionStatus {
        var effective: [String: Verdict] = [:]
        var effectiveRound: [String: Int] = [:]
        for event in events where !event.isRetracted {
            effective[event.itemIdentity] = event.verdict
            effectiveRound[event.itemIdentity] = event.round
        }
        var byRound: [Int: (known: Int, unknown: Int, skipped: Int)] = [:]
        for (identity, verdict) in effective {
            let round = effectiveRound[identity]!
            var counts = byRound[round] ?? (0, 0, 0)
            switch verdict {
            case .known: counts.known += 1
            case .unknown: counts.unknown += 1
            case .skipped: counts.skipped += 1
            }
            byRound[round] = counts
        }
        var perClass = Array(repeating: 0, count: configuration.classNames.count)
        var unknown = 0, skipped = 0
        for verdict in effective.values {
            switch verdict {
            case .known(let index) where perClass.indices.contains(index): perClass[index] += 1
            case .known: break
            case .unknown: unknown += 1
            case .skipped: skipped += 1
            }
        }
        var seconds = 0.0
        var lastTime: [String: Date] = [:]
        for event in events.sorted(by: { $0.time < $1.time }) {
            if let previous = lastTime[event.annotator] {
                seconds += min(max(event.time.timeIntervalSince(previous), 0), idleCapSeconds)
            }
            lastTime[event.annotator] = event.time
        }
        return SessionStatus(
            itemCount: itemCount,
            perClass: zip(configuration.classNames, perClass).map { ClassCount(name: $0, count: $1) },
            unknownCount: unknown, skippedCount: skipped,
            unlabeledCount: max(itemCount - effective.count, 0),
            verdictEventCount: events.count, retractedCount: events.filter(\.isRetracted).count,
            rounds: rounds,
            activityByRound: byRound.keys.sorted().map { round in
                let c = byRound[round]!
                return RoundActivity(round: round, known: c.known, unknown: c.unknown, skipped: c.skipped)
            },
            labelingSeconds: seconds,
            labelsPerMinute: seconds >= minimumPaceSeconds ? Double(events.count) / (seconds / 60) : nil,
            annotators: Array(Set(events.map(\.annotator))).sorted())
    }

    /// The count of items with a known-class verdict (|D_L|).
    public var knownCount: Int { perClass.reduce(0) { $0 + $1.count } }
}

extension LabelStore {
    /// The session's status, computed from the stored history.
    public func status() throws -> SessionStatus {
        let itemCount: Int = try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM item") ?? 0 }
        return SessionStatus.compute(configuration: configuration, itemCount: itemCount,
                                     events: try verdictEvents(), rounds: try rounds())
    }
}
