/// The help screen (`?`): every key binding, class keys with their class names.
public enum HelpScreen {
    /// Every binding of `keys` in columns; demo keys only when `demo`.
    public static func render(keys: KeyMap, classNames: [String], demo: Bool, context: ScreenContext) -> CellGrid {
        let theme = context.theme
        var grid = context.blankGrid()
        guard context.size.width >= 20, context.size.height >= 6 else {
            return TooSmallScreen.render(need: TerminalSize(width: 20, height: 6), context: context)
        }
        grid.box(grid.bounds, glyphs: context.glyphs, style: theme.frameStyle, title: "keys", titleStyle: theme.title)
        var entries: [(String, String)] = []
        for (i, name) in classNames.enumerated() {
            entries.append((i < keys.classKeys.count ? keys.classKeys[i].label : "-", name))
        }
        entries += [(keys.unknown.label, "unknown (not a known class)"), (keys.skip.label, "skip"),
                    (keys.undo.label, "undo (any number of steps)"), (keys.grid.label, "grid of thumbnails"),
                    ("arrows", "move (grid, and left/right)"), (keys.histograms.label, "MAV histograms"),
                    (keys.help.label, "this help"), (keys.quit.label, "save and quit")]
        if demo {
            entries += [(keys.faster.label + "/" + keys.slower.label, "demo: faster/slower"),
                        (keys.pause.label, "demo: pause, or hand back")]
        }
        let inner = grid.bounds.inset(1)
        let rows = max(1, inner.height - 1)
        let columns = max(1, inner.width / 40)
        let columnWidth = inner.width / columns
        var hidden = 0
        for (n, entry) in entries.enumerated() {
            let column = n / rows
            guard column < columns else { hidden += 1; continue }
            let x = inner.x + 1 + column * columnWidth
            let y = inner.y + n % rows
            let w = min(columnWidth - 1, inner.maxX - x)
            let pad = max(1, 9 - entry.0.unicodeScalars.count)
            let end = grid.text(entry.0 + String(repeating: " ", count: pad), x: x, y: y, width: w,
                                style: theme.colored(theme.accent, bold: true), ascii: context.ascii)
            grid.text(entry.1, x: end, y: y, width: x + w - end, style: theme.base, ascii: context.ascii)
        }
        let footer = hidden > 0 ? "any key returns \(context.glyphs.dot) \(hidden) more hidden: enlarge the terminal"
            : "any key returns"
        grid.text(footer, x: inner.x + 1, y: inner.maxY - 1, width: inner.width - 2, style: theme.dimmed, ascii: context.ascii)
        return grid
    }
}
