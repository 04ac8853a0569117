import Foundation
import Testing
@testable import LfosaCLI
import LfosaData
import LfosaEngine
import LfosaNumerics
import LfosaStore
import LfosaTerminal

/// The label flow end to end without a tty: scripted keys on a `HeadlessTerminal` drive the
/// real run loop, session, engine and SQLite store.
@Suite struct AnnotationSessionTests {
    /// `count` distinct 8×8 grey images; items with odd index have ground truth class 1, even 0,
    /// every fifth is of an unknown class (label 2).
    static func pool(count: Int) -> ImagePool {
        var pixels: [UInt8] = []
        for i in 0..<count { for p in 0..<64 { pixels.append(UInt8((i * 37 + p * (i % 7 + 1)) & 0xFF)) } }
        return ImagePool(channels: 1, height: 8, width: 8, pixels: pixels,
                         labels: (0..<count).map { $0 % 5 == 4 ? 2 : $0 % 2 }, classNames: ["a", "b", "c"],
                         identities: (0..<count).map { String(format: "item%04d", $0) },
                         paths: [String?](repeating: nil, count: count))
    }

    static func temporaryDirectory() -> String {
        let dir = NSTemporaryDirectory() + "lfosa-annotation-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func createStore(_ dir: String) throws -> LabelStore {
        try LabelStore.create(sessionDirectory: dir + "/s.lfosa",
                              configuration: SessionConfiguration(source: dir, classNames: ["a", "b"], classKeys: ["1", "2"],
                                                                  strategy: "lfosa", seed: 3, annotator: "tester"))
    }

    static func settings(batch: Int = 5, coldStart: Int = 3) -> AnnotationSettings {
        var s = AnnotationSettings()
        s.batch = batch
        s.coldStartLabels = coldStart
        s.seed = 3
        s.annotator = "tester"
        s.lookahead = 4
        s.profile = AnnotationProfile.interactive(steps: 2, batchSize: 8)
        return s
    }

    /// Runs the loop on `terminal` until `q` or the script runs dry.
    static func run(_ session: AnnotationSession, _ terminal: HeadlessTerminal, demo: DemoControl? = nil) throws -> AnnotationExit {
        let loop = AnnotationRunLoop(session: session, terminal: terminal, keyMap: .standard(classCount: 2), demo: demo)
        return try loop.run(stopWhenIdle: { terminal.pendingKeys == 0 && !session.isTraining })
    }

    @Test func labelUndoQuitLeavesExactlyTheExpectedVerdicts() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pool = Self.pool(count: 30)
        let store = try Self.createStore(dir)
        let session = try AnnotationSession(pool: pool, store: store, settings: Self.settings())
        let batch = session.batch
        #expect(batch.count == 5)
        #expect(session.coldStartNotice != nil)
        let terminal = HeadlessTerminal(size: TerminalSize(width: 100, height: 30))
        terminal.type("12u ")
        terminal.enqueue(.backspace, .backspace)   // un-skip, then withdraw "unknown"
        terminal.type("1q")
        #expect(try Self.run(session, terminal) == .quit)
        session.shutdown()
        store.close()

        let reopened = try LabelStore.open(sessionDirectory: dir + "/s.lfosa", forLabeling: false)
        defer { reopened.close() }
        let id = { pool.identities[batch[$0]] }
        #expect(try reopened.currentLabels() == [id(0): .known(0), id(1): .known(1), id(2): .known(0)])
        let events = try reopened.verdictEvents()
        #expect(events.count == 5)
        #expect(events.filter(\.isRetracted).map(\.verdict) == [.unknown, .skipped])
        // The screen showed the third item again after the undo, then the fourth after labeling it.
        #expect(terminal.screen.text().contains("4/5"))
    }

    @Test func trunkPretrainsInTheBackgroundAndSeedsTraining() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pool = Self.pool(count: 30)
        let store = try Self.createStore(dir)
        var settings = Self.settings(coldStart: 1)
        settings.profile.pretraining = RotationPretraining(steps: 12, batchSize: 16)
        settings.trunkCacheDirectory = dir + "/cache"
        let session = try AnnotationSession(pool: pool, store: store, settings: settings)
        #expect(session.trunkJob != nil && session.trunk == nil)
        #expect(session.isBusy && !session.isTraining)
        #expect(session.trainingStatus?.network == "pretraining trunk")
        let deadline = Date().addingTimeInterval(120)
        while session.trunk == nil && Date() < deadline { _ = try session.poll(); usleep(10_000) }
        #expect(session.trunk != nil && session.trunkJob == nil)
        #expect(session.message?.contains("trunk ready") == true)
        let cached = try FileManager.default.contentsOfDirectory(atPath: dir + "/cache/trunks")
        #expect(cached.count == 1 && cached[0].hasSuffix(".lfw"))
        // labeling past the cold start trains networks that start from the trunk
        let terminal = HeadlessTerminal(size: TerminalSize(width: 100, height: 30))
        terminal.type("12121q")
        #expect(try Self.run(session, terminal) == .quit)
        #expect(session.loop.pretrainedTrunk != nil)
        session.shutdown()
        store.close()

        // another session on the same pool loads the cached trunk at once
        let dir2 = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir2) }
        let store2 = try Self.createStore(dir2)
        let again = try AnnotationSession(pool: pool, store: store2, settings: settings)
        #expect(again.trunk != nil && again.trunkJob == nil)
        again.shutdown()
        store2.close()
    }

    @Test func resumeShowsTheRestOfTheSavedBatchAndKeepsEarlierLabels() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pool = Self.pool(count: 30)
        var store = try Self.createStore(dir)
        var session = try AnnotationSession(pool: pool, store: store, settings: Self.settings())
        let first = session.batch
        var terminal = HeadlessTerminal(size: TerminalSize(width: 100, height: 30))
        terminal.type("12")
        terminal.signal(.hangup)
        // A hang-up before the keys are read: nothing recorded, the loop reports it.
        #expect(try Self.run(session, terminal) == .interrupted(.hangup))
        terminal.interruption = nil
        #expect(try Self.run(session, terminal) == .scriptEnded)
        session.shutdown()
        store.close()

        store = try LabelStore.open(sessionDirectory: dir + "/s.lfosa", forLabeling: true)
        session = try AnnotationSession(pool: pool, store: store, settings: Self.settings())
        #expect(session.batch == Array(first.dropFirst(2)))
        #expect(session.classCounts == [1, 1])
        terminal = HeadlessTerminal(size: TerminalSize(width: 100, height: 30))
        terminal.type("u1u")
        #expect(try Self.run(session, terminal) == .scriptEnded)
        #expect(session.batch.count == 5 && Set(session.batch).isDisjoint(with: first))   // next cold-start batch
        session.shutdown()
        store.close()
        let reopened = try LabelStore.open(sessionDirectory: dir + "/s.lfosa", forLabeling: false)
        defer { reopened.close() }
        let labels = try reopened.currentLabels()
        #expect(labels.count == 5)
        #expect(labels[pool.identities[first[0]]] == .known(0))
        #expect(labels[pool.identities[first[3]]] == .known(0))
        #expect(try reopened.rounds().map(\.queriedCount) == [5])
    }

    @Test func undoPastTheBatchStartWithdrawsTheEarlierVerdictAndShowsItFirst() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pool = Self.pool(count: 30)
        let store = try Self.createStore(dir)
        defer { store.close() }
        let session = try AnnotationSession(pool: pool, store: store, settings: Self.settings(batch: 3))
        let first = session.batch
        let terminal = HeadlessTerminal(size: TerminalSize(width: 100, height: 30))
        terminal.type("12u")
        #expect(try Self.run(session, terminal) == .scriptEnded)
        #expect(session.batch.count == 3 && session.batch != first)
        terminal.enqueue(.backspace, .backspace)
        #expect(try Self.run(session, terminal) == .scriptEnded)
        #expect(Array(session.batch.prefix(2)) == [first[1], first[2]])
        #expect(try store.currentLabels() == [pool.identities[first[0]]: .known(0)])
        terminal.type("2")
        #expect(try Self.run(session, terminal) == .scriptEnded)
        #expect(try store.currentLabels()[pool.identities[first[1]]] == .known(1))
    }

    @Test(arguments: [true, false])
    func afterTheColdStartTheModelRetrainsInTheBackgroundAndRanksThePool(detectorClassifies: Bool) throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pool = Self.pool(count: 30)
        let store = try Self.createStore(dir)
        defer { store.close() }
        let truth: (Int) -> Int? = { i in pool.labels[i] == 2 ? nil : pool.labels[i] }
        var settings = Self.settings(batch: 4, coldStart: 1)
        settings.profile.detectorClassifies = detectorClassifies
        let session = try AnnotationSession(pool: pool, store: store, settings: settings, groundTruth: truth)
        let terminal = HeadlessTerminal(size: TerminalSize(width: 120, height: 40))
        // The simulated annotator answers from ground truth until both classes have a label.
        let loop = AnnotationRunLoop(session: session, terminal: terminal, keyMap: .standard(classCount: 2),
                                     demo: DemoControl(pace: .milliseconds(20)))
        let exit = try loop.run(stopWhenIdle: {
            if session.isTraining { usleep(2000) }
            return !session.jobTimings.isEmpty && !session.isTraining
        })
        #expect(exit == .scriptEnded)
        #expect(session.round >= 1)
        #expect(!session.batch.isEmpty)
        #expect(session.batch.allSatisfy { session.queried[$0] != nil })   // ranked by the model: hints exist
        #expect(session.mixtures.count == 2)
        #expect(try store.rounds().count >= 1)
        // The network that classifies is checkpointed in the session, where `lfosa export` finds
        // it: by default the 3-way detector (output 2 = unknown), else the 2-way classifier.
        let weights = try #require(try store.loadModel(name: LabelExport.weightsFileName))
        let archive = try WeightArchive(decoding: weights)
        #expect(archive.metadata["classes"] == "2")
        #expect(archive.metadata["outputs"] == (detectorClassifies ? "3" : "2"))
        #expect(archive.metadata["role"] == (detectorClassifies ? "detector" : "classifier"))
        #expect(archive.metadata["unknown_output"] == (detectorClassifies ? "2" : nil))
        let restored = Network.make(.referenceCNN, inputShape: [1, 8, 8], classes: detectorClassifies ? 3 : 2, seed: 0)
        try archive.load(into: restored)
        // The histogram screen gets one panel per class, split by ground truth in the demo.
        let model = loop.histogramModel()
        #expect(model.panels.count == 2)
        #expect(model.panels.allSatisfy { $0.isKnown == nil || $0.isKnown!.count == $0.mavs.count })
        session.shutdown()
    }

    @Test func aClassKeyTakesOverFromTheSimulatedAnnotatorInTheDemo() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pool = Self.pool(count: 30)
        let store = try Self.createStore(dir)
        defer { store.close() }
        let truth: (Int) -> Int? = { i in pool.labels[i] == 2 ? nil : pool.labels[i] }
        let session = try AnnotationSession(pool: pool, store: store, settings: Self.settings(batch: 6, coldStart: 50),
                                            groundTruth: truth)
        let first = session.batch
        let terminal = HeadlessTerminal(size: TerminalSize(width: 120, height: 40))
        // Paused: the simulator does not answer; the human labels the first item against its truth.
        terminal.type("pu")
        let loop = AnnotationRunLoop(session: session, terminal: terminal, keyMap: .standard(classCount: 2),
                                     demo: DemoControl(pace: .milliseconds(20)))
        #expect(try loop.run(stopWhenIdle: { terminal.pendingKeys == 0 }) == .scriptEnded)
        #expect(loop.driver.state.demo?.humanInControl == true)
        #expect(session.labels == [first[0]: .unknown])
        // Handing back (p) lets the simulator answer the rest from ground truth.
        terminal.type("p")
        _ = try loop.run(stopWhenIdle: { session.labels.count >= 6 })
        for i in first.dropFirst() {
            #expect(session.labels[i] == (truth(i).map { StoreVerdict.known($0) } ?? .unknown))
        }
        #expect(terminal.screen.text().contains("demo: LfOSA vs Random"))
    }

    @Test func aSignalWhileTrainingStopsPromptlyAndKeepsEveryLabel() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pool = Self.pool(count: 30)
        let store = try Self.createStore(dir)
        var settings = Self.settings(batch: 4, coldStart: 1)
        settings.profile = AnnotationProfile.interactive(steps: 100_000, batchSize: 8)   // would train for minutes
        let session = try AnnotationSession(pool: pool, store: store, settings: settings)
        let batch = session.batch
        let terminal = HeadlessTerminal(size: TerminalSize(width: 120, height: 40))
        // Both classes get a label in the first batch, so training starts when it is complete.
        terminal.type("1212")
        let loop = AnnotationRunLoop(session: session, terminal: terminal, keyMap: .standard(classCount: 2))
        let exit = try loop.run(stopWhenIdle: {
            if session.isTraining { terminal.signal(.terminate) }
            return terminal.pendingKeys == 0 && !session.isTraining
        })
        #expect(exit == .interrupted(.terminate))
        let clock = ContinuousClock()
        let start = clock.now
        session.shutdown()
        #expect(clock.now - start < .seconds(10))
        #expect(!session.isTraining)
        store.close()
        let reopened = try LabelStore.open(sessionDirectory: dir + "/s.lfosa", forLabeling: false)
        defer { reopened.close() }
        #expect(try reopened.currentLabels().count == 4)
        #expect(try reopened.currentLabels()[pool.identities[batch[3]]] == .known(1))
    }

    @Test func aSessionConfigRebindsKeysAndRejectsConflicts() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = dir + "/good.json", clash = dir + "/clash.json", broken = dir + "/broken.json"
        try Data(#"{"classes": ["cat", "dog"], "keys": {"classes": ["a", "s"], "unknown": "x", "skip": "space"}}"#.utf8)
            .write(to: URL(fileURLWithPath: good))
        try Data(#"{"keys": {"unknown": "1"}}"#.utf8).write(to: URL(fileURLWithPath: clash))
        try Data(#"{"classes": ["cat", "#.utf8).write(to: URL(fileURLWithPath: broken))
        let file = try AnnotationConfigFile.load(good)
        #expect(file.classes == ["cat", "dog"])
        let keys = try file.keyMap(classCount: 2, file: good)
        #expect(keys.classKeys == [.character("a"), .character("s")])
        #expect(keys.command(for: .character("x")) == .unknown)
        #expect(keys.command(for: .character("u")) == nil)
        #expect(throws: (any Error).self) { try AnnotationConfigFile.load(clash).keyMap(classCount: 2, file: clash) }
        #expect(throws: (any Error).self) { try AnnotationConfigFile.load(broken) }
        #expect(throws: (any Error).self) { try AnnotationConfigFile.load(dir + "/missing.json") }
    }
}
