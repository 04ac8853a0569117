/// One thumbnail of grid mode.
public struct GridItemModel: Hashable, Sendable {
    public var image: PixelImage?
    public var status: ItemStatus

    public init(image: PixelImage?, status: ItemStatus) {
        self.image = image
        self.status = status
    }
}

/// Everything grid mode shows: the batch as thumbnails, the cursor, class names for captions.
public struct GridViewModel: Hashable, Sendable {
    public var items: [GridItemModel]
    public var cursor: Int
    public var classNames: [String]
    public var round: Int

    public init(items: [GridItemModel], cursor: Int, classNames: [String], round: Int = 1) {
        self.items = items
        self.cursor = cursor
        self.classNames = classNames
        self.round = round
    }
}

/// Grid mode: a page of framed thumbnails with captions; the cursor's frame is highlighted.
///
/// `geometry` tells the state machine how many columns and rows fit
/// (`AnnotatorState.setGridGeometry`); the page shown is the one holding the cursor.
public enum GridScreen {
    /// A thumbnail tile in cells: frame, 16×8 image, caption line.
    public static let tileWidth = 18
    public static let tileHeight = 11
    /// Below this size the screen draws `TooSmallScreen` instead.
    public static let minimumSize = TerminalSize(width: tileWidth, height: tileHeight + 2)

    /// Thumbnail columns and rows that fit on `size` (at least 1×1).
    public static func geometry(_ size: TerminalSize) -> (columns: Int, rows: Int) {
        (max(1, size.width / tileWidth), max(1, (size.height - 2) / tileHeight))
    }

    /// The page of thumbnails holding `model.cursor`.
    public static func render(_ model: GridViewModel, context: ScreenContext) -> CellGrid {
        guard context.size.fits(minimumSize) else { return TooSmallScreen.render(need: minimumSize, context: context) }
        let theme = context.theme, g = context.glyphs
        var grid = context.blankGrid()
        let (columns, rows) = geometry(context.size)
        let pageSize = columns * rows
        let cursor = min(max(0, model.cursor), max(0, model.items.count - 1))
        let page = cursor / pageSize
        let pages = max(1, (model.items.count + pageSize - 1) / pageSize)
        let position = model.items.isEmpty ? "no items" : "item \(cursor + 1)/\(model.items.count) \(g.dot) page \(page + 1)/\(pages)"
        grid.text("grid \(g.dot) round \(model.round) \(g.dot) " + position,
                  x: 1, y: 0, width: context.size.width - 2, style: theme.title, ascii: context.ascii)
        let start = page * pageSize
        for slot in 0..<pageSize {
            let i = start + slot
            guard i < model.items.count else { break }
            let tile = Rect(x: (slot % columns) * tileWidth, y: 1 + (slot / columns) * tileHeight,
                            width: tileWidth, height: tileHeight)
            let item = model.items[i]
            let selected = i == cursor
            let frame = selected ? theme.colored(theme.warn, bold: true) : theme.frameStyle
            grid.box(tile, glyphs: g, style: frame, title: "\(i + 1)", titleStyle: selected ? theme.highlight : theme.dimmed)
            let inner = tile.inset(1)
            if let image = item.image {
                ImageRenderer.render(image, into: &grid, rect: Rect(x: inner.x, y: inner.y, width: inner.width, height: inner.height - 1),
                                     depth: context.depth, dither: context.dither, background: theme.background)
            }
            let (caption, style) = captionText(item.status, classNames: model.classNames, theme: theme)
            let cx = inner.x + max(0, (inner.width - caption.unicodeScalars.count) / 2)
            grid.text(caption, x: cx, y: inner.maxY - 1, width: inner.maxX - cx, style: style, ascii: context.ascii)
        }
        grid.text("arrows move \(g.dot) keys label \(g.dot) enter open \(g.dot) g back", x: 1, y: context.size.height - 1,
                  width: context.size.width - 2, style: theme.dimmed, ascii: context.ascii)
        return grid
    }

    static func captionText(_ status: ItemStatus, classNames: [String], theme: Theme) -> (String, CellStyle) {
        switch status {
        case .pending: return ("-", theme.dimmed)
        case .skipped: return ("skipped", theme.dimmed)
        case .decided(.unknown): return ("unknown", theme.colored(theme.bad))
        case .decided(.known(let c)): return (c < classNames.count ? classNames[c] : "class \(c)", theme.colored(theme.good))
        }
    }
}
