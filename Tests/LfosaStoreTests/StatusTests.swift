import Foundation
import Testing
@testable import LfosaStore

@Suite struct StatusTests {
    @Test func countsRoundsAndLabelingPace() throws {
        let dir = TemporaryDirectory()
        let store = try makeSession(dir, items: 10)
        // ada: 4 decisions 10 s apart, then a 1-hour break (counted as the 120 s idle cap), then one more.
        try store.record(.known(0), item: "h0", round: 0, annotator: "ada", at: t(1_000))
        try store.record(.known(0), item: "h1", round: 0, annotator: "ada", at: t(1_010))
        try store.record(.unknown, item: "h2", round: 0, annotator: "ada", at: t(1_020))
        try store.record(.skipped, item: "h3", round: 0, annotator: "ada", at: t(1_030))
        try store.record(.known(2), item: "h4", round: 1, annotator: "ada", at: t(4_630))
        // bob works at the same time: his gaps are measured against his own events only.
        try store.record(.known(1), item: "h5", round: 1, annotator: "bob", at: t(1_005))
        try store.record(.known(1), item: "h6", round: 1, annotator: "bob", at: t(1_025))
        try store.undoLast(annotator: "bob", at: t(1_026))
        try store.recordRound(RoundRecord(round: 0, labeledCount: 2, invalidCount: 1, queriedCount: 4,
                                          knownQueriedCount: 2, recordedAt: t(1_031)))

        let status = try store.status()
        #expect(status.itemCount == 10)
        #expect(status.perClass.map(\.count) == [2, 1, 1])
        #expect(status.perClass.map(\.name) == ["cat", "dog", "bird"])
        #expect(status.knownCount == 4)
        #expect(status.unknownCount == 1 && status.skippedCount == 1)
        #expect(status.unlabeledCount == 4)
        #expect(status.verdictEventCount == 7 && status.retractedCount == 1)
        #expect(status.labelingSeconds == 30 + 120 + 20)
        #expect(abs(status.labelsPerMinute! - 7.0 / (170.0 / 60.0)) < 1e-9)
        #expect(status.rounds.map(\.selectionPrecision) == [0.5])
        #expect(status.annotators == ["ada", "bob"])
        // Round 0: h0 h1 known, h2 unknown, h3 skipped; round 1: h4 known, h5 known (h6 undone).
        #expect(status.activityByRound == [
            .init(round: 0, known: 2, unknown: 1, skipped: 1), .init(round: 1, known: 2, unknown: 0, skipped: 0),
        ])
        #expect(status.activityByRound.map(\.precision) == [2.0 / 3.0, 1.0])
    }

    @Test func emptySessionHasNoPace() throws {
        let dir = TemporaryDirectory()
        let status = try makeSession(dir, items: 2).status()
        #expect(status.labelingSeconds == 0 && status.labelsPerMinute == nil && status.unlabeledCount == 2)
    }

    @Test func aBurstTooShortForARateHasNoPace() throws {
        let dir = TemporaryDirectory()
        let store = try makeSession(dir, items: 3)
        for i in 0..<3 { try store.record(.unknown, item: "h\(i)", round: 0, annotator: "ada", at: t(Double(i))) }
        let status = try store.status()
        #expect(status.labelingSeconds == 2 && status.labelsPerMinute == nil)
    }
}
