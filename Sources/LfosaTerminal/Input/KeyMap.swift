/// What a key means.
public enum KeyCommand: Hashable, Sendable {
    /// Label the item with known class `index` (0-based).
    case label(Int)
    case unknown, skip, undo, grid, histograms, help, quit
    /// Demo: faster, slower, pause/resume (and give control back to the simulated annotator).
    case faster, slower, pause
}

/// The key bindings, configurable in the session config (Codable, keys by name).
///
/// Defaults: classes on `1`…`9`, then lower-case letters skipping the reserved `u g m q p`,
/// then upper-case letters (56 classes at most); `u` unknown, space skip, backspace undo,
/// `g` grid, `m` histograms, `?` help, `q` save and quit, `+`/`-`/`p` demo pace and pause.
/// Classes beyond the list of class keys get no key; `unboundClasses(classCount:)` says
/// how many, so the caller can warn (or supply more keys).
public struct KeyMap: Hashable, Sendable, Codable {
    public var classKeys: [KeyPress]
    public var unknown: KeyPress
    public var skip: KeyPress
    public var undo: KeyPress
    public var grid: KeyPress
    public var histograms: KeyPress
    public var help: KeyPress
    public var quit: KeyPress
    public var faster: KeyPress
    public var slower: KeyPress
    public var pause: KeyPress

    /// Keys a class may not take by default.
    public static let reservedLetters: Set<Character> = ["u", "g", "m", "q", "p"]

    /// The default class key sequence (56 keys).
    public static let defaultClassKeys: [KeyPress] = {
        let digits = "123456789".map { KeyPress.character($0) }
        let lower = "abcdefghijklmnopqrstuvwxyz".filter { !reservedLetters.contains($0) }.map { KeyPress.character($0) }
        let upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ".map { KeyPress.character($0) }
        return digits + lower + upper
    }()

    /// The default bindings for `classCount` known classes.
    public static func standard(classCount: Int) -> KeyMap {
        KeyMap(classKeys: Array(defaultClassKeys.prefix(max(0, classCount))),
               unknown: .character("u"), skip: .character(" "), undo: .backspace,
               grid: .character("g"), histograms: .character("m"), help: .character("?"),
               quit: .character("q"), faster: .character("+"), slower: .character("-"),
               pause: .character("p"))
    }

    public init(classKeys: [KeyPress], unknown: KeyPress, skip: KeyPress, undo: KeyPress, grid: KeyPress,
                histograms: KeyPress, help: KeyPress, quit: KeyPress, faster: KeyPress, slower: KeyPress,
                pause: KeyPress) {
        self.classKeys = classKeys
        self.unknown = unknown
        self.skip = skip
        self.undo = undo
        self.grid = grid
        self.histograms = histograms
        self.help = help
        self.quit = quit
        self.faster = faster
        self.slower = slower
        self.pause = pause
    }

    /// Every binding as (key, command), class keys first.
    public var bindings: [(KeyPress, KeyCommand)] {
        classKeys.enumerated().map { ($0.element, KeyCommand.label($0.offset)) } + [
            (unknown, .unknown), (skip, .skip), (undo, .undo), (grid, .grid), (histograms, .histograms),
            (help, .help), (quit, .quit), (faster, .faster), (slower, .slower), (pause, .pause),
        ]
    }

    /// The command bound to `key`, if any. `Enter`/`DEL`-style aliases are not added here.
    public func command(for key: KeyPress) -> KeyCommand? {
        bindings.first(where: { $0.0 == key })?.1
    }

    /// The key of a command, if bound.
    public func key(for command: KeyCommand) -> KeyPress? {
        bindings.first(where: { $0.1 == command })?.0
    }

    /// Thrown by `validate()`.
    public struct Conflict: Error, Hashable, CustomStringConvertible {
        public let key: KeyPress
        public let commands: [KeyCommand]
        public var description: String { "key \(key.name) is bound to \(commands.count) commands" }
    }

    /// Checks that no key is bound twice; throws the first `Conflict`.
    public func validate() throws {
        var seen: [KeyPress: KeyCommand] = [:]
        for (key, command) in bindings {
            if let other = seen[key] { throw Conflict(key: key, commands: [other, command]) }
            seen[key] = command
        }
    }

    /// How many of `classCount` classes have no key.
    public func unboundClasses(classCount: Int) -> Int { max(0, classCount - classKeys.count) }
}
