import Foundation
import Testing
@testable import LfosaStore

@Suite struct SeedLabelsTests {
    @Test func csvWithHeaderQuotesAndCRLFParses() throws {
        let text = "path,label\r\npics/img0.png,cat\r\n\"pics/with, comma.png\",unknown\r\n\n  pics/img2.png , bird \n"
        let rows = try SeedLabels.parseCSV(text, file: "seed.csv")
        #expect(rows.map(\.path) == ["pics/img0.png", "pics/with, comma.png", "pics/img2.png"])
        #expect(rows.map(\.label) == ["cat", "unknown", "bird"])
        #expect(rows[1].origin == "seed.csv:3")
    }

    @Test func malformedCSVNamesTheFileAndLine() {
        expectStoreError(.invalidSeedLabels(file: "seed.csv", problemCount: 2,
                                            firstProblem: "line 2: expected 'path,label', got 1 field(s)")) {
            try SeedLabels.parseCSV("a.png,cat\nb.png\nc.png,dog,extra\n", file: "seed.csv")
        }
        expectStoreError(.invalidSeedLabels(file: "s.csv", problemCount: 1, firstProblem: "line 1: unterminated quote")) {
            try SeedLabels.parseCSV("\"a.png,cat\n", file: "s.csv")
        }
    }

    @Test func resolveMapsLabelsAndPathsOrRefusesEverything() throws {
        let config = sampleConfiguration()
        let lookup = ["a.png": "ha", "b.png": "hb", "b-copy.png": "hb"]
        let rows = [SeedLabels.Row(path: "a.png", label: "dog", origin: "f:1"),
                    SeedLabels.Row(path: "b.png", label: "unknown", origin: "f:2"),
                    SeedLabels.Row(path: "b-copy.png", label: "unknown", origin: "f:3")]
        let resolved = try SeedLabels.resolve(rows, configuration: config, file: "f") { lookup[$0] }
        #expect(resolved == [.init(identity: "ha", path: "a.png", verdict: .known(1)),
                             .init(identity: "hb", path: "b.png", verdict: .unknown)])

        let bad = rows + [SeedLabels.Row(path: "a.png", label: "fish", origin: "f:4"),
                          SeedLabels.Row(path: "zzz.png", label: "cat", origin: "f:5")]
        expectStoreError(.invalidSeedLabels(file: "f", problemCount: 2,
                                            firstProblem: "f:4: label 'fish' is not one of cat, dog, bird, unknown")) {
            try SeedLabels.resolve(bad, configuration: config, file: "f") { lookup[$0] }
        }
    }

    @Test func classFoldersBecomeRows() throws {
        let dir = TemporaryDirectory()
        let fm = FileManager.default
        for (folder, file) in [("cat", "1.png"), ("cat", "2.png"), ("unknown", "3.png"), (".hidden", "4.png")] {
            try fm.createDirectory(atPath: dir.sub(folder), withIntermediateDirectories: true)
            _ = fm.createFile(atPath: dir.sub("\(folder)/\(file)"), contents: Data([1]))
        }
        _ = fm.createFile(atPath: dir.sub("README"), contents: Data([1]))
        let rows = try SeedLabels.rowsFromClassFolders(root: dir.path)
        #expect(rows.map(\.label) == ["cat", "cat", "unknown"])
        #expect(rows.map(\.path) == [dir.sub("cat/1.png"), dir.sub("cat/2.png"), dir.sub("unknown/3.png")])
        expectStoreError(.invalidSeedLabels(file: dir.sub("README"), problemCount: 1, firstProblem: "not a directory")) {
            try SeedLabels.rowsFromClassFolders(root: dir.sub("README"))
        }
    }

    @Test func importIsOneTransactionAndIdempotent() throws {
        let dir = TemporaryDirectory()
        let store = try makeSession(dir, items: 3)
        let labels: [SeedLabels.Resolved] = [.init(identity: "h0", path: "a", verdict: .known(2)),
                                             .init(identity: "h1", path: "b", verdict: .unknown)]
        #expect(try store.importSeedLabels(labels, annotator: "seed:labels.csv", at: t(1)) == 2)
        #expect(try store.importSeedLabels(labels, annotator: "seed:labels.csv", at: t(2)) == 0)
        #expect(try store.currentLabels() == ["h0": .known(2), "h1": .unknown])
        // An item the session does not hold aborts the whole import.
        let withStranger = labels + [.init(identity: "stranger", path: "c", verdict: .unknown),
                                     .init(identity: "h2", path: "d", verdict: .known(0))]
        let reordered = [withStranger[3], withStranger[2]]
        expectStoreError(.unknownItem(identity: "stranger")) {
            try store.importSeedLabels(reordered, annotator: "seed", at: t(3))
        }
        #expect(try store.currentLabels()["h2"] == nil)
        #expect(try store.verdictEvents().allSatisfy { $0.annotator == "seed:labels.csv" && $0.round == 0 })
    }

    @Test func csvFieldsRoundTrip() throws {
        let values = ["plain", "with,comma", "with \"quotes\"", "multi\nline", ""]
        let line = CSVFormat.line(values)
        let records = try CSVFormat.parse(line)
        #expect(records == [CSVFormat.Record(line: 1, fields: values)])
    }
}
