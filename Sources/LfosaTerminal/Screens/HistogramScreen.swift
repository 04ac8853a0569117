/// The MAV histogram screen (`m`): one framed panel per known class.
///
/// Each panel: a histogram of the MAVs (one bin per column, eighth-block bar tops), split
/// into true-known (bottom, `good` colour) and true-unknown (top, `bad` colour) when ground
/// truth is given; the two weighted Gaussian components scaled to expected counts per bin
/// (`curveLow`/`curveHigh` dots); the w = 0.5 boundary as a vertical line in empty cells;
/// the MAV range under the plot; "n" and "queried" in the title. When the panels do not
/// all fit they are paged (`page`, shown as "page 2/4" in the header).
public enum HistogramScreen {
    /// The smallest panel drawn; panels are laid out at least this large.
    public static let panelMinimum = TerminalSize(width: 24, height: 8)
    /// Below this size the screen draws `TooSmallScreen` instead.
    public static let minimumSize = TerminalSize(width: 24, height: 9)

    /// Columns and rows of panels for `count` panels on `size`.
    public static func geometry(count: Int, size: TerminalSize) -> (columns: Int, rows: Int) {
        guard count > 0 else { return (1, 1) }
        let maxColumns = max(1, size.width / panelMinimum.width)
        let maxRows = max(1, (size.height - 1) / panelMinimum.height)
        // Fewest rows that hold every panel (or as many as fit), widest panels first.
        for rows in 1...maxRows {
            let columns = (count + rows - 1) / rows
            if columns <= maxColumns { return (columns, rows) }
        }
        return (maxColumns, maxRows)
    }

    /// How many pages `count` panels take on `size`.
    public static func pageCount(count: Int, size: TerminalSize) -> Int {
        let (columns, rows) = geometry(count: count, size: size)
        return max(1, (count + columns * rows - 1) / (columns * rows))
    }

    /// The screen showing page `page` (clamped) of the panels.
    public static func render(_ model: HistogramViewModel, page: Int = 0, context: ScreenContext) -> CellGrid {
        guard context.size.fits(minimumSize) else { return TooSmallScreen.render(need: minimumSize, context: context) }
        let theme = context.theme, g = context.glyphs
        var grid = context.blankGrid()
        let (columns, rows) = geometry(count: model.panels.count, size: context.size)
        let perPage = columns * rows
        let pages = pageCount(count: model.panels.count, size: context.size)
        let page = min(max(0, page), pages - 1)
        let first = page * perPage
        let shown = min(model.panels.count - first, perPage)
        var header = "MAV histograms \(g.dot) round \(model.round)"
        if pages > 1 {
            header += " \(g.dot) page \(page + 1)/\(pages) (classes \(first + 1)-\(first + shown) of \(model.panels.count), arrows)"
        }
        grid.text(header, x: 1, y: 0, width: context.size.width - 2, style: theme.title, ascii: context.ascii)
        if model.panels.isEmpty {
            grid.text("no scores yet (the detector has not scored the pool)", x: 1, y: 2, width: context.size.width - 2,
                      style: theme.dimmed, ascii: context.ascii)
        }
        let panelWidth = context.size.width / columns
        let panelHeight = (context.size.height - 1) / rows
        for i in 0..<max(0, shown) {
            let rect = Rect(x: (i % columns) * panelWidth, y: 1 + (i / columns) * panelHeight, width: panelWidth, height: panelHeight)
            drawPanel(model.panels[first + i], into: &grid, rect: rect, context: context)
        }
        return grid
    }

    /// Draws one class panel (frame included) into `rect`.
    public static func drawPanel(_ panel: HistogramPanelModel, into grid: inout CellGrid, rect: Rect, context: ScreenContext) {
        let theme = context.theme, g = context.glyphs
        let title = "\(panel.className) \(g.dot) n \(panel.mavs.count) \(g.dot) queried \(panel.queried)"
        grid.box(rect, glyphs: g, style: theme.frameStyle, title: title, titleStyle: theme.colored(theme.text, bold: true))
        let inner = rect.inset(1)
        guard inner.width >= 4, inner.height >= 3 else { return }
        let plot = Rect(x: inner.x, y: inner.y, width: inner.width, height: inner.height - 1)
        let values = panel.mavs.filter { $0.isFinite }
        guard !values.isEmpty else {
            grid.text("no items", x: plot.x + 1, y: plot.y + plot.height / 2, width: plot.width - 1, style: theme.dimmed,
                      ascii: context.ascii)
            return
        }
        let boundary = panel.boundary ?? panel.components?.posteriorBoundary()
        var lo = values.min()!, hi = values.max()!
        if let b = boundary, b.isFinite { lo = min(lo, b); hi = max(hi, b) }
        if hi - lo < 1e-6 { lo -= 0.5; hi += 0.5 }
        let bins = plot.width
        let binWidth = (hi - lo) / Float(bins)
        var known = [Int](repeating: 0, count: bins), unknown = [Int](repeating: 0, count: bins)
        for (i, v) in panel.mavs.enumerated() where v.isFinite {
            let bin = min(bins - 1, max(0, Int((v - lo) / binWidth)))
            if let truth = panel.isKnown, !truth[i] { unknown[bin] += 1 } else { known[bin] += 1 }
        }
        let n = Float(values.count)
        // Expected count per bin of each component, so curves share the bars' scale.
        var curves: [[Float]] = []
        if let c = panel.components {
            for k in c.means.indices {
                curves.append((0..<bins).map { b in c.density(k, at: lo + (Float(b) + 0.5) * binWidth) * n * binWidth })
            }
        }
        let maxBar = Float((0..<bins).map { known[$0] + unknown[$0] }.max() ?? 1)
        let scale = max(1, max(maxBar, curves.flatMap { $0 }.max() ?? 0))
        let eighths = plot.height * 8
        let split = panel.isKnown != nil
        let knownStyle = theme.colored(split ? theme.good : theme.accent)
        let unknownStyle = theme.colored(theme.bad)
        for b in 0..<bins {
            let total = known[b] + unknown[b]
            guard total > 0 else { continue }
            let totalH = max(1, Int((Float(total) / scale * Float(eighths)).rounded()))
            let knownH = Int((Float(known[b]) / scale * Float(eighths)).rounded())
            for r in 0..<plot.height {
                let base = r * 8
                guard totalH > base else { break }
                let fill = min(8, totalH - base)
                let style = knownH >= base + 4 || (knownH > base && knownH >= totalH) ? knownStyle : unknownStyle
                grid.put(Cell(g.verticalEighths[fill - 1], style: style), x: plot.x + b, y: plot.maxY - 1 - r)
            }
        }
        if let c = panel.components {
            let high = c.highComponent
            for (k, curve) in curves.enumerated() {
                let style = theme.colored(k == high ? theme.curveHigh : theme.curveLow, bold: true)
                for b in 0..<bins where curve[b] / scale * Float(plot.height) >= 0.5 {
                    let row = min(plot.height - 1, Int(curve[b] / scale * Float(plot.height) - 0.5))
                    grid.put(Cell(g.curvePoint, style: style), x: plot.x + b, y: plot.maxY - 1 - row)
                }
            }
        }
        if let b = boundary, b.isFinite {
            let column = plot.x + min(bins - 1, max(0, Int((b - lo) / binWidth)))
            for y in plot.y..<plot.maxY where grid[column, y].character == " " {
                grid.put(Cell(g.boundary, style: theme.colored(theme.warn)), x: column, y: y)
            }
            let label = "w=.5"
            let lx = min(plot.maxX - label.count, column + 1)
            if grid[lx, plot.y].character == " " || grid[lx, plot.y].character == g.boundary {
                grid.text(label, x: lx, y: plot.y, style: theme.colored(theme.warn))
            }
        }
        let loText = TextLayout.fixed2(Double(lo)), hiText = TextLayout.fixed2(Double(hi))
        let axisY = inner.maxY - 1
        grid.text(loText, x: inner.x, y: axisY, style: theme.dimmed)
        grid.text(hiText, x: inner.maxX - hiText.count, y: axisY, style: theme.dimmed)
        if inner.width > loText.count + hiText.count + 6 {
            grid.text("MAV", x: inner.x + (inner.width - 3) / 2, y: axisY, style: theme.dimmed)
        }
    }
}
