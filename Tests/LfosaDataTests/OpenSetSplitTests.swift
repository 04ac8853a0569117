import Testing
@testable import LfosaData

@Suite("Open-set split")
struct OpenSetSplitTests {
    let names = (0..<10).map { "c\($0)" }
    var trainLabels: [Int?] { (0..<1000).map { $0 % 10 } }
    var testLabels: [Int?] { (0..<200).map { $0 % 10 } }

    @Test func mismatchRatioTakesTheFirstKClasses() throws {
        let s = try OpenSetSplit.make(trainLabels: trainLabels, testLabels: testLabels, classNames: names,
                                      known: .mismatchRatio(0.2), initialPercent: 8, seed: 1)
        #expect(s.known == [0, 1])
        #expect(s.initialLabeled.count == 16)
        #expect(s.initialLabeled.allSatisfy { trainLabels[$0]! < 2 })
        #expect(Set(s.initialLabeled).isDisjoint(with: s.unlabeled))
        #expect(s.initialLabeled.count + s.unlabeled.count == 1000)
        #expect(s.testKnown.count == 40 && s.testKnown.allSatisfy { testLabels[$0]! < 2 })
        #expect(s.initialLabeled == s.initialLabeled.sorted() && s.unlabeled == s.unlabeled.sorted())
        #expect(try OpenSetSplit.resolve(.mismatchRatio(0.25), classNames: names) == [0, 1, 2]) // round(2.5) = 3
    }

    @Test func sameSeedSameSplitOtherSeedOtherSplit() throws {
        let a = try OpenSetSplit.make(trainLabels: trainLabels, testLabels: [], classNames: names, known: .ids([3, 7]), initialPercent: 10, seed: 42)
        let b = try OpenSetSplit.make(trainLabels: trainLabels, testLabels: [], classNames: names, known: .ids([7, 3]), initialPercent: 10, seed: 42)
        let c = try OpenSetSplit.make(trainLabels: trainLabels, testLabels: [], classNames: names, known: .ids([3, 7]), initialPercent: 10, seed: 43)
        #expect(a == b)
        #expect(a.initialLabeled != c.initialLabeled)
        #expect(a.known == [3, 7] && a.initialLabeled.count == 20)
    }

    @Test func namesResolve() throws {
        let s = try OpenSetSplit.make(trainLabels: trainLabels, testLabels: [], classNames: names, known: .names(["C4", "c9"]), initialPercent: 100, seed: 0)
        #expect(s.known == [4, 9] && s.initialLabeled.count == 200)
    }

    @Test func badSpecsAreErrors() {
        expectDataError(naming: "open-set split", containing: "out of range") {
            _ = try OpenSetSplit.make(trainLabels: trainLabels, testLabels: [], classNames: names, known: .ids([10]), initialPercent: 5, seed: 0)
        }
        expectDataError(naming: "open-set split", containing: "unknown class name 'cow'") {
            _ = try OpenSetSplit.make(trainLabels: trainLabels, testLabels: [], classNames: names, known: .names(["cow"]), initialPercent: 5, seed: 0)
        }
        expectDataError(naming: "open-set split", containing: "leaves no known class") {
            _ = try OpenSetSplit.make(trainLabels: trainLabels, testLabels: [], classNames: names, known: .mismatchRatio(0.01), initialPercent: 5, seed: 0)
        }
        expectDataError(naming: "open-set split", containing: "no ground-truth label") {
            _ = try OpenSetSplit.make(trainLabels: [0, nil], testLabels: [], classNames: names, known: .ids([0]), initialPercent: 5, seed: 0)
        }
        expectDataError(naming: "open-set split", containing: "percentage") {
            _ = try OpenSetSplit.make(trainLabels: trainLabels, testLabels: [], classNames: names, known: .ids([0]), initialPercent: 0, seed: 0)
        }
    }

    @Test func splitMix64IsTheReferenceSequence() {
        // Reference values of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
        var g = SplitMix64(seed: 0)
        #expect(g.next() == 0xE220_A839_7B1D_CDAF)
        #expect(g.next() == 0x6E78_9E6A_A1B9_65F4)
    }
}

@Suite("Content hash")
struct ContentHashTests {
    @Test func xxh64MatchesReferenceVectors() {
        #expect(ContentHash.xxh64([]) == 0xEF46_DB37_51D8_E999)
        #expect(ContentHash.xxh64(Array("abc".utf8)) == 0x44BC_2CF5_AD77_0999)
        #expect(ContentHash.xxh64(Array("Nobody inspects the spammish repetition".utf8)) == 0xFBCE_A83C_8A37_8BF1)
        #expect(ContentHash.hex(0x0123_4567_89AB_CDEF) == "0123456789abcdef")
    }
}
