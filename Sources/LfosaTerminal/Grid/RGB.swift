/// A 24-bit colour.
///
/// Cells store colours as RGB whatever the terminal's depth; quantising to a palette is the
/// job of `ColorQuantizer` (for images, which may dither) and of the backend (for everything
/// else). A palette colour's exact RGB maps back to its own index.
public struct RGB: Hashable, Sendable, CustomStringConvertible {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8

    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// The colour as a grey level (integer Rec. 601 luma), 0...255.
    public var luma: UInt8 {
        let sum: Int = 299 * Int(r) + 587 * Int(g) + 114 * Int(b) + 500
        return UInt8(sum / 1000)
    }

    /// The colour packed as 0xRRGGBB (the colour number of a direct-colour terminal).
    public var packed: Int32 {
        let red: Int32 = Int32(r) << 16
        let green: Int32 = Int32(g) << 8
        return red | green | Int32(b)
    }

    public var description: String {
        let hex = String(packed, radix: 16)
        return "#" + String(repeating: "0", count: 6 - hex.count) + hex
    }

    public static let black = RGB(0, 0, 0)
    public static let white = RGB(255, 255, 255)
}
