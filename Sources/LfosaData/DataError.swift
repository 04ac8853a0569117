/// The one error type of LfosaData: a file (or source) and what is wrong with it.
///
/// `description` is always a single line, `PATH: problem`, fit for a CLI's stderr.
/// Inside a folder the same value becomes a `SkippedFile`; for a whole unusable source
/// it is thrown.
public struct DataError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file or directory concerned, as given or found.
    public var path: String
    /// What is wrong, in a few words; never contains a newline.
    public var problem: String

    public init(path: String, problem: String) {
        self.path = path
        self.problem = DataError.oneLine(problem)
    }

    public var description: String { "\(DataError.oneLine(path)): \(problem)" }

    static func oneLine(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for ch in text.unicodeScalars {
            if ch == "\n" || ch == "\r" || ch == "\t" { result.append(" ") } else { result.unicodeScalars.append(ch) }
        }
        while result.hasSuffix(" ") { result.removeLast() }
        return result
    }
}

/// A file the loader found but could not use, with the reason.
///
/// Folders and manifests skip-and-count such files instead of failing.
public struct SkippedFile: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(DataError.oneLine(path)): \(reason)" }
}
