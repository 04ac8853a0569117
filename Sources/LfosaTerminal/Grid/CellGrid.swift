/// An in-memory screen: `width × height` cells, row-major.
///
/// Screens are pure functions into a `CellGrid`; a backend only copies it to the terminal.
/// Every drawing call clips to the grid (and to an optional clip rectangle): nothing drawn
/// outside is an error, it is simply not there. Text is drawn one Unicode scalar per column.
public struct CellGrid: Hashable, Sendable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    /// A grid filled with `fill`.
    public init(width: Int, height: Int, fill: Cell = Cell(" ", foreground: .white, background: .black)) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: fill, count: self.width * self.height)
    }

    /// A grid of `size` filled with spaces in `style`.
    public init(size: TerminalSize, style: CellStyle) {
        self.init(width: size.width, height: size.height, fill: Cell(" ", style: style))
    }

    public var size: TerminalSize { TerminalSize(width: width, height: height) }
    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    /// The cell at column `x`, row `y`; both must be inside the grid.
    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { cells[y * width + x] = newValue }
    }

    /// Runs `body` with direct access to the cell storage (row-major, `width * height`).
    public mutating func withUnsafeMutableCells<R>(_ body: (inout UnsafeMutableBufferPointer<Cell>) throws -> R) rethrows -> R {
        try cells.withUnsafeMutableBufferPointer { try body(&$0) }
    }

    /// Whether (x, y) lies inside the grid.
    @inlinable public func contains(x: Int, y: Int) -> Bool { x >= 0 && y >= 0 && x < width && y < height }

    /// Sets one cell if it is inside the grid and inside `clip`.
    public mutating func put(_ cell: Cell, x: Int, y: Int, clip: Rect? = nil) {
        guard contains(x: x, y: y) else { return }
        if let clip, !(x >= clip.x && x < clip.maxX && y >= clip.y && y < clip.maxY) { return }
        cells[y * width + x] = cell
    }

    /// Fills `rect` (clipped) with `cell`.
    public mutating func fill(_ rect: Rect, with cell: Cell) {
        let r = rect.intersection(bounds)
        guard !r.isEmpty else { return }
        for y in r.y..<r.maxY {
            let row = y * width
            for x in r.x..<r.maxX { cells[row + x] = cell }
        }
    }

    /// Draws `text` from (x, y) rightwards, one scalar per column, clipped to the grid and `clip`.
    ///
    /// Control characters and scalars outside the Basic Multilingual Plane's single-width
    /// ranges we use are drawn as `?`. Returns the column after the last scalar (drawn or not).
    @discardableResult
    public mutating func text(_ text: String, x: Int, y: Int, style: CellStyle, clip: Rect? = nil) -> Int {
        var column = x
        for scalar in text.unicodeScalars {
            let shown: Unicode.Scalar = CellGrid.isSingleWidth(scalar) ? scalar : "?"
            put(Cell(shown, style: style), x: column, y: y, clip: clip)
            column += 1
        }
        return column
    }

    /// Draws `text` truncated to `width` columns (ending in `…`/`~` when cut).
    @discardableResult
    public mutating func text(_ text: String, x: Int, y: Int, width: Int, style: CellStyle,
                              ascii: Bool = false) -> Int {
        guard width > 0 else { return x }
        let scalars = Array(text.unicodeScalars)
        if scalars.count <= width { return self.text(text, x: x, y: y, style: style,
                                                    clip: Rect(x: x, y: y, width: width, height: 1)) }
        var cut = String(String.UnicodeScalarView(scalars.prefix(width - 1)))
        cut.unicodeScalars.append(ascii ? "~" : "…")
        return self.text(cut, x: x, y: y, style: style)
    }

    /// Draws a frame on the border of `rect`, with an optional title on the top edge.
    public mutating func box(_ rect: Rect, glyphs: GlyphSet, style: CellStyle, title: String? = nil,
                             titleStyle: CellStyle? = nil) {
        guard rect.width >= 2, rect.height >= 2 else { return }
        let x1 = rect.maxX - 1, y1 = rect.maxY - 1
        for x in (rect.x + 1)..<x1 {
            put(Cell(glyphs.horizontal, style: style), x: x, y: rect.y)
            put(Cell(glyphs.horizontal, style: style), x: x, y: y1)
        }
        for y in (rect.y + 1)..<y1 {
            put(Cell(glyphs.vertical, style: style), x: rect.x, y: y)
            put(Cell(glyphs.vertical, style: style), x: x1, y: y)
        }
        put(Cell(glyphs.topLeft, style: style), x: rect.x, y: rect.y)
        put(Cell(glyphs.topRight, style: style), x: x1, y: rect.y)
        put(Cell(glyphs.bottomLeft, style: style), x: rect.x, y: y1)
        put(Cell(glyphs.bottomRight, style: style), x: x1, y: y1)
        if let title, rect.width > 4 {
            text(" " + title + " ", x: rect.x + 1, y: rect.y, width: rect.width - 2,
                 style: titleStyle ?? style, ascii: !glyphs.halfBlocks)
        }
    }

    /// Draws a horizontal bar of `width` cells filled to `fraction` (clamped to 0...1).
    public mutating func bar(x: Int, y: Int, width: Int, fraction: Double, glyphs: GlyphSet,
                             filled: CellStyle, empty: CellStyle) {
        guard width > 0 else { return }
        let f = fraction.isFinite ? min(1, max(0, fraction)) : 0
        let full = Int((f * Double(width)).rounded())
        for i in 0..<width {
            put(i < full ? Cell(glyphs.barFull, style: filled) : Cell(glyphs.barEmpty, style: empty),
                x: x + i, y: y)
        }
    }

    /// Copies `other` into this grid with its top-left corner at (x, y), clipped.
    public mutating func blit(_ other: CellGrid, x: Int, y: Int) {
        let r = Rect(x: x, y: y, width: other.width, height: other.height).intersection(bounds)
        guard !r.isEmpty else { return }
        for row in r.y..<r.maxY {
            let src = (row - y) * other.width + (r.x - x)
            let dst = row * width + r.x
            for i in 0..<r.width { cells[dst + i] = other.cells[src + i] }
        }
    }

    /// The characters of the grid, one line per row, trailing spaces kept (snapshot tests).
    public func text() -> String {
        var out = String.UnicodeScalarView()
        out.reserveCapacity((width + 1) * height)
        for y in 0..<height {
            for x in 0..<width { out.append(cells[y * width + x].character) }
            if y + 1 < height { out.append("\n") }
        }
        return String(out)
    }

    /// The characters of row `y` with trailing spaces removed.
    public func line(_ y: Int) -> String {
        var s = String.UnicodeScalarView()
        for x in 0..<width { s.append(cells[y * width + x].character) }
        var str = String(s)
        while str.last == " " { str.removeLast() }
        return str
    }

    /// A colour-aware dump: the text, then a legend-coded style map.
    ///
    /// Every distinct style gets a code letter (`a`, `b`, … in order of first appearance, then
    /// digits, then `?` when more than 62 exist); the map has one code per cell, and the
    /// legend lists `code fg/bg attrs`. Stable under identical input, so it can be snapshotted.
    public func styleDump() -> String {
        let codes = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var index: [CellStyle: Int] = [:]
        var order: [CellStyle] = []
        var map = ""
        for y in 0..<height {
            for x in 0..<width {
                let style = cells[y * width + x].style
                let i: Int
                if let known = index[style] { i = known } else {
                    i = order.count; index[style] = i; order.append(style)
                }
                map.append(i < codes.count ? codes[i] : "?")
            }
            map.append("\n")
        }
        var legend = ""
        for (i, style) in order.enumerated() where i < codes.count {
            var attrs: [String] = []
            if style.attributes.contains(.bold) { attrs.append("bold") }
            if style.attributes.contains(.reverse) { attrs.append("reverse") }
            if style.attributes.contains(.dim) { attrs.append("dim") }
            legend += "\(codes[i]) \(style.foreground)/\(style.background)"
                + (attrs.isEmpty ? "" : " " + attrs.joined(separator: ",")) + "\n"
        }
        return text() + "\n--\n" + map + "--\n" + legend
    }

    /// Whether a scalar is drawn in exactly one terminal column.
    ///
    /// Accepts printable ASCII, Latin-1 and the general-punctuation, arrows, box-drawing,
    /// block-element and geometric-shape ranges the screens use; rejects controls, combining
    /// marks and East-Asian wide ranges.
    public static func isSingleWidth(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x20...0x7E, 0xA0...0x2FF, 0x370...0x52F: return true
        case 0x2000...0x200A, 0x2010...0x2027, 0x2030...0x205E: return true
        case 0x2190...0x21FF, 0x2200...0x22FF, 0x2500...0x25FF, 0x2600...0x2613: return true
        default: return false
        }
    }
}
