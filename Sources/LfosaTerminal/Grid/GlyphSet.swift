/// The characters used for frames, bars and separators.
///
/// `unicode` needs a UTF-8 locale; `ascii` is for `TERM=vt100`-like terminals and non-UTF-8
/// locales, where every glyph is printable 7-bit ASCII.
public struct GlyphSet: Hashable, Sendable {
    public var horizontal: Unicode.Scalar
    public var vertical: Unicode.Scalar
    public var topLeft: Unicode.Scalar
    public var topRight: Unicode.Scalar
    public var bottomLeft: Unicode.Scalar
    public var bottomRight: Unicode.Scalar
    /// Bar-chart fills from 1/8 to 8/8 of a cell height (index 0 = 1/8).
    public var verticalEighths: [Unicode.Scalar]
    /// Full cell used for horizontal progress bars and the filled part of gauges.
    public var barFull: Unicode.Scalar
    /// Empty part of a horizontal bar.
    public var barEmpty: Unicode.Scalar
    /// Separator between parts of a status text (`12/20 · round 3`).
    public var dot: String
    /// Marker drawn for a fitted curve.
    public var curvePoint: Unicode.Scalar
    /// Marker drawn for a vertical boundary line.
    public var boundary: Unicode.Scalar
    /// Whether images may use the upper-half block `▀`.
    public var halfBlocks: Bool

    public static let unicode = GlyphSet(
        horizontal: "─", vertical: "│", topLeft: "┌", topRight: "┐", bottomLeft: "└", bottomRight: "┘",
        verticalEighths: ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"], barFull: "█", barEmpty: "░",
        dot: "·", curvePoint: "•", boundary: "┊", halfBlocks: true)

    public static let ascii = GlyphSet(
        horizontal: "-", vertical: "|", topLeft: "+", topRight: "+", bottomLeft: "+", bottomRight: "+",
        verticalEighths: [".", ".", "_", "_", "=", "=", "#", "#"], barFull: "#", barEmpty: ".",
        dot: "-", curvePoint: "o", boundary: ":", halfBlocks: false)
}
