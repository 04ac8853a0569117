import Foundation

/// What a session was started with: source, known classes, strategy, seed, annotator.
///
/// Stored once, when the session is created, and never rewritten. `classNames[i]` is the name of
/// `Verdict.known(i)`; `classKeys[i]` is the key that labels it (same count as `classNames`).
/// Class names are unique, non-empty, contain no `/`, and none is `unknown` or `skipped` (those
/// words are the open-set verdicts in every export).
public struct SessionConfiguration: Codable, Hashable, Sendable {
    public var source: String
    public var classNames: [String]
    public var classKeys: [String]
    public var strategy: String
    public var strategyParameters: [String: String]
    public var seed: UInt64
    public var annotator: String

    public init(source: String, classNames: [String], classKeys: [String], strategy: String,
                strategyParameters: [String: String] = [:], seed: UInt64, annotator: String) {
        self.source = source
        self.classNames = classNames
        self.classKeys = classKeys
        self.strategy = strategy
        self.strategyParameters = strategyParameters
        self.seed = seed
        self.annotator = annotator
    }

    /// Throws `StoreError.invalidConfiguration` naming the first problem found.
    public func validate() throws {
        func fail(_ message: String) -> StoreError { .invalidConfiguration(message) }
        if classNames.isEmpty { throw fail("no known classes") }
        if classKeys.count != classNames.count {
            throw fail("\(classNames.count) class names but \(classKeys.count) class keys")
        }
        var seen = Set<String>()
        for name in classNames {
            if name.isEmpty { throw fail("empty class name") }
            if name.contains("/") || name == "." || name == ".." {
                throw fail("class name '\(name)' cannot be a folder name")
            }
            if name == "unknown" || name == "skipped" {
                throw fail("class name '\(name)' is reserved for the open-set verdict")
            }
            if !seen.insert(name).inserted { throw fail("class name '\(name)' appears twice") }
        }
        var keys = Set<String>()
        for key in classKeys where !keys.insert(key).inserted {
            throw fail("class key '\(key)' appears twice")
        }
        if annotator.isEmpty { throw fail("empty annotator name") }
    }

    /// The index of the class called `name`, nil if none is.
    public func classIndex(named name: String) -> Int? {
        classNames.firstIndex(of: name)
    }

    /// The label text of a verdict in exports: class name, `unknown`, or `skipped`.
    public func labelName(_ verdict: Verdict) -> String {
        switch verdict {
        case .known(let index):
            return classNames.indices.contains(index) ? classNames[index] : "class\(index)"
        case .unknown: return "unknown"
        case .skipped: return "skipped"
        }
    }
}
