/// The colours of the user interface (images keep their own).
///
/// RGB values; the backend quantises them for the terminal. Chosen to stay distinct after
/// quantising to 16 colours (reds, greens and yellows map to different system colours).
public struct Theme: Hashable, Sendable {
    public var background: RGB
    public var text: RGB
    public var dim: RGB
    public var accent: RGB
    public var frame: RGB
    public var good: RGB
    public var bad: RGB
    public var warn: RGB
    /// The two mixture components: lower-mean (unknown-like) and higher-mean (known-like).
    public var curveLow: RGB
    public var curveHigh: RGB

    /// Light text on black.
    public static let dark = Theme(
        background: RGB(0, 0, 0), text: RGB(229, 229, 229), dim: RGB(127, 127, 127),
        accent: RGB(92, 92, 255), frame: RGB(127, 127, 127), good: RGB(0, 205, 0),
        bad: RGB(205, 0, 0), warn: RGB(205, 205, 0), curveLow: RGB(205, 0, 205), curveHigh: RGB(0, 205, 205))

    public var base: CellStyle { CellStyle(foreground: text, background: background) }
    public var dimmed: CellStyle { CellStyle(foreground: dim, background: background) }
    public var title: CellStyle { CellStyle(foreground: accent, background: background, attributes: [.bold]) }
    public var frameStyle: CellStyle { CellStyle(foreground: frame, background: background) }
    public var highlight: CellStyle { CellStyle(foreground: text, background: background, attributes: [.reverse]) }
    /// Text in colour `c` on the theme background.
    public func colored(_ c: RGB, bold: Bool = false) -> CellStyle {
        CellStyle(foreground: c, background: background, attributes: bold ? [.bold] : [])
    }
}

/// What every screen needs besides its view model: the grid size, colour depth and theme.
public struct ScreenContext: Hashable, Sendable {
    public var size: TerminalSize
    public var depth: ColorDepth
    public var theme: Theme
    /// Ordered 4×4 dithering for images at 256, 16 and 8 colours.
    public var dither: Bool

    public init(size: TerminalSize, depth: ColorDepth, theme: Theme = .dark, dither: Bool = false) {
        self.size = size
        self.depth = depth
        self.theme = theme
        self.dither = dither
    }

    public var glyphs: GlyphSet { depth.glyphs }
    public var ascii: Bool { depth == .monochromeASCII }

    /// An empty grid of this size in the theme's base style.
    public func blankGrid() -> CellGrid { CellGrid(size: size, style: theme.base) }
}
