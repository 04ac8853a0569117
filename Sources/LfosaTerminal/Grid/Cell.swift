/// Text attributes of a cell.
///
/// A set of flags; the backend maps them to the terminal's `A_BOLD`, `A_REVERSE`, `A_DIM`.
public struct CellAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let bold = CellAttributes(rawValue: 1)
    public static let reverse = CellAttributes(rawValue: 2)
    public static let dim = CellAttributes(rawValue: 4)
}

/// The colours and attributes text is drawn with.
///
/// A plain value; screens take their styles from a `Theme`.
public struct CellStyle: Hashable, Sendable {
    public var foreground: RGB
    public var background: RGB
    public var attributes: CellAttributes

    public init(foreground: RGB, background: RGB, attributes: CellAttributes = []) {
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
    }

    /// The same style with `attributes` added.
    public func with(_ extra: CellAttributes) -> CellStyle {
        var copy = self
        copy.attributes.formUnion(extra)
        return copy
    }
}

/// One terminal cell: a single-width Unicode scalar with its colours and attributes.
///
/// Every scalar a screen writes occupies exactly one column (block elements, box drawing,
/// Latin text); wide characters are not supported and are replaced by `?` when drawn as text.
public struct Cell: Hashable, Sendable {
    public var character: Unicode.Scalar
    public var foreground: RGB
    public var background: RGB
    public var attributes: CellAttributes

    public init(_ character: Unicode.Scalar, foreground: RGB, background: RGB,
                attributes: CellAttributes = []) {
        self.character = character
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
    }

    public init(_ character: Unicode.Scalar, style: CellStyle) {
        self.init(character, foreground: style.foreground, background: style.background,
                  attributes: style.attributes)
    }

    /// The style of this cell.
    public var style: CellStyle {
        CellStyle(foreground: foreground, background: background, attributes: attributes)
    }
}
