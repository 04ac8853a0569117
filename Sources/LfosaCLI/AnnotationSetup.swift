import ArgumentParser
import Foundation
import LfosaData
import LfosaStore
import LfosaTerminal

/// A session config file (`lfosa label --config FILE`): JSON, every field optional.
///
///     {"source": "photos/", "classes": ["cat", "dog"], "batch": 20, "seed": 7,
///      "annotator": "ana", "session": "photos.lfosa",
///      "keys": {"classes": ["a", "s"], "unknown": "x", "skip": "space", "undo": "backspace",
///               "grid": "g", "histograms": "m", "help": "?", "quit": "q"}}
///
/// Key names are those of `KeyPress(name:)` ("space", "backspace", "f5", a single character).
struct AnnotationConfigFile: Decodable {
    struct Keys: Decodable {
        var classes: [String]?
        var unknown: String?
        var skip: String?
        var undo: String?
        var grid: String?
        var histograms: String?
        var help: String?
        var quit: String?
    }
    var source: String?
    var classes: [String]?
    var batch: Int?
    var seed: UInt64?
    var annotator: String?
    var session: String?
    var keys: Keys?

    /// Reads `path`; a missing file or bad JSON is one line naming the file and the problem.
    static func load(_ path: String) throws -> AnnotationConfigFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AnnotationSetup.fail("label", "\(path): cannot read the session config")
        }
        do {
            return try JSONDecoder().decode(AnnotationConfigFile.self, from: data)
        } catch let DecodingError.dataCorrupted(context) {
            throw AnnotationSetup.fail("label", "\(path): not valid JSON (\(context.debugDescription))")
        } catch let DecodingError.typeMismatch(_, context) {
            throw AnnotationSetup.fail("label", "\(path): wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))")
        } catch {
            throw AnnotationSetup.fail("label", "\(path): \(error)")
        }
    }

    /// The standard key map for `classCount` classes with this file's overrides applied.
    func keyMap(classCount: Int, file: String) throws -> KeyMap {
        var map = KeyMap.standard(classCount: classCount)
        guard let keys else { return map }
        func key(_ name: String?, _ what: String) throws -> KeyPress? {
            guard let name else { return nil }
            guard let k = KeyPress(name: name) else { throw AnnotationSetup.fail("label", "\(file): unknown key name '\(name)' for \(what)") }
            return k
        }
        if let classes = keys.classes {
            map.classKeys = try classes.enumerated().map { try key($0.element, "class \($0.offset + 1)")! }
        }
        if let k = try key(keys.unknown, "unknown") { map.unknown = k }
        if let k = try key(keys.skip, "skip") { map.skip = k }
        if let k = try key(keys.undo, "undo") { map.undo = k }
        if let k = try key(keys.grid, "grid") { map.grid = k }
        if let k = try key(keys.histograms, "histograms") { map.histograms = k }
        if let k = try key(keys.help, "help") { map.help = k }
        if let k = try key(keys.quit, "quit") { map.quit = k }
        do { try map.validate() } catch { throw AnnotationSetup.fail("label", "\(file): \(error)") }
        return map
    }
}

/// What `label` and `demo` share: errors, opening the session store, running the terminal.
enum AnnotationSetup {
    /// Writes `lfosa <command>: <message>` to stderr; returns the exit code to throw.
    static func fail(_ command: String, _ message: String) -> ExitCode {
        StoreCommandSupport.fail(command: command, message)
    }

    /// The annotator name: `--annotator`, else `$USER`, else "annotator".
    static func annotatorName(_ given: String?) -> String {
        if let given, !given.isEmpty { return given }
        if let user = ProcessInfo.processInfo.environment["USER"], !user.isEmpty { return user }
        return "annotator"
    }

    /// Opens the session in `directory` for labeling, creating it with `configuration` when
    /// it does not exist; an existing session must have the same classes (when given).
    static func openStore(directory: String, configuration: SessionConfiguration, classesGiven: Bool,
                          command: String) throws -> (store: LabelStore, created: Bool) {
        let database = (directory as NSString).appendingPathComponent(LabelStore.databaseFileName)
        do {
            if FileManager.default.fileExists(atPath: database) {
                let store = try LabelStore.open(sessionDirectory: directory, forLabeling: true)
                if classesGiven && store.configuration.classNames != configuration.classNames {
                    store.close()
                    throw fail(command, "\(directory): the session's classes are \(store.configuration.classNames.joined(separator: ",")), not \(configuration.classNames.joined(separator: ",")) (use another --session)")
                }
                return (store, false)
            }
            return (try LabelStore.create(sessionDirectory: directory, configuration: configuration), true)
        } catch let error as StoreError {
            throw fail(command, error.description)
        }
    }

    /// Runs `session` on the real terminal; restores it however the loop ends, then prints
    /// where the labels are.
    static func runOnTerminal(_ session: AnnotationSession, keyMap: KeyMap, demo: DemoControl?, command: String) throws {
        let terminal: CursesTerminal
        do {
            terminal = try CursesTerminal()
        } catch {
            session.shutdown()
            session.store.close()
            throw fail(command, "\(error)")
        }
        let exit: AnnotationExit
        do {
            let loop = AnnotationRunLoop(session: session, terminal: terminal, keyMap: keyMap, demo: demo)
            exit = try loop.run()
        } catch {
            session.shutdown()
            terminal.restore()
            session.store.close()
            throw fail(command, "\(error)")
        }
        session.shutdown()
        terminal.restore()
        let counts = zip(session.classNames, session.classCounts).map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        session.store.close()
        var line = "saved: \(counts), unknown \(session.unknownCount) in \(session.store.sessionDirectory)"
        if case .interrupted(let why) = exit { line = "stopped (\(why)); " + line }
        print(line)
        if !session.jobTimings.isEmpty {
            let train = session.jobTimings.map(\.train), score = session.jobTimings.map(\.score)
            print(String(format: "retraining: %d rounds, mean %.2f s (max %.2f s); scoring mean %.2f s",
                         train.count, train.reduce(0, +) / Double(train.count), train.max() ?? 0,
                         score.reduce(0, +) / Double(score.count)))
        }
    }
}
