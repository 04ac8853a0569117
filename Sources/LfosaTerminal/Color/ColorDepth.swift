/// How many colours the terminal can show, and so how images and the UI are drawn.
///
/// Ordered from richest to poorest. `monochromeASCII` draws images as a grey ramp of ASCII
/// characters and frames with `+-|`; every other depth draws images with `▀`.
public enum ColorDepth: String, Hashable, Sendable, CaseIterable, Codable {
    case direct
    case palette256
    case ansi16
    case ansi8
    case monochromeASCII

    /// What the terminal database and the locale say about a terminal.
    ///
    /// Plain facts, gathered by the backend (`tigetnum("colors")`, `tigetflag("RGB")`,
    /// `$TERM`, the `LC_CTYPE` codeset); `choose(_:)` turns them into a depth.
    public struct TerminalFacts: Hashable, Sendable {
        /// `colors` from terminfo (−1 or 0 when absent).
        public var colors: Int
        /// Whether terminfo has the `RGB` capability (direct colour).
        public var hasRGB: Bool
        /// The terminal name (`$TERM` or the name given to `newterm`).
        public var termName: String
        /// Whether the locale's character set is UTF-8.
        public var utf8Locale: Bool

        public init(colors: Int, hasRGB: Bool, termName: String, utf8Locale: Bool) {
            self.colors = colors
            self.hasRGB = hasRGB
            self.termName = termName
            self.utf8Locale = utf8Locale
        }
    }

    /// The depth to use for a terminal.
    ///
    /// - No UTF-8 locale, or fewer than 8 colours → `.monochromeASCII` (`▀` would not print).
    /// - `RGB` capability, or a `*-direct` name with ≥ 2²⁴ colours → `.direct`.
    ///   A `COLORTERM=truecolor` hint is deliberately not a fact here: ncurses ignores it.
    /// - ≥ 256 colours → `.palette256`; ≥ 16 → `.ansi16`; ≥ 8 → `.ansi8`.
    public static func choose(_ facts: TerminalFacts) -> ColorDepth {
        guard facts.utf8Locale, facts.colors >= 8 else { return .monochromeASCII }
        if facts.hasRGB || (facts.termName.hasSuffix("-direct") && facts.colors >= 1 << 24) {
            return .direct
        }
        if facts.colors >= 256 { return .palette256 }
        if facts.colors >= 16 { return .ansi16 }
        return .ansi8
    }

    /// The glyphs that suit this depth (ASCII only for `.monochromeASCII`).
    public var glyphs: GlyphSet { self == .monochromeASCII ? .ascii : .unicode }

    /// Whether cells carry colour at all.
    public var hasColor: Bool { self != .monochromeASCII }
}
