/// One keystroke (or terminal event) as the state machine sees it.
///
/// Printable keys are `.character`; space is `.character(" ")`. Backends map their raw codes
/// (ncurses `KEY_*`, DEL/BS bytes) onto this. Each key has a stable `name` used in the session
/// config ("a", "space", "backspace", "up", "f5", …).
public enum KeyPress: Hashable, Sendable, CustomStringConvertible {
    case character(Character)
    case up, down, left, right, pageUp, pageDown, home, end
    case enter, escape, backspace, tab
    case function(Int)
    /// The terminal changed size (ncurses `KEY_RESIZE`).
    case resize

    static let named: [(String, KeyPress)] = [
        ("space", .character(" ")), ("up", .up), ("down", .down), ("left", .left), ("right", .right),
        ("pageup", .pageUp), ("pagedown", .pageDown), ("home", .home), ("end", .end),
        ("enter", .enter), ("escape", .escape), ("backspace", .backspace), ("tab", .tab), ("resize", .resize),
    ]

    /// The key for a config name: a single character, or one of the names above, or `f1`…`f24`.
    public init?(name: String) {
        let lower = name.lowercased()
        if let hit = KeyPress.named.first(where: { $0.0 == lower }) { self = hit.1; return }
        if lower.count > 1, lower.hasPrefix("f"), let n = Int(lower.dropFirst()), (1...24).contains(n) {
            self = .function(n); return
        }
        guard name.count == 1, let c = name.first else { return nil }
        self = .character(c)
    }

    /// The config name of this key (inverse of `init(name:)`).
    public var name: String {
        if let hit = KeyPress.named.first(where: { $0.1 == self }) { return hit.0 }
        switch self {
        case .character(let c): return String(c)
        case .function(let n): return "f\(n)"
        default: return "?"
        }
    }

    /// A short label for screens: the name, with "bksp", "esc", "pgup", "pgdn" abbreviated.
    public var label: String {
        switch self {
        case .backspace: return "bksp"
        case .escape: return "esc"
        case .pageUp: return "pgup"
        case .pageDown: return "pgdn"
        default: return name
        }
    }

    public var description: String { name }
}

extension KeyPress: Codable {
    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let key = KeyPress(name: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown key \(name)"))
        }
        self = key
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(name)
    }
}
