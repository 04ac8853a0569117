/// Drawn instead of a screen when the terminal is smaller than that screen needs.
public enum TooSmallScreen {
    /// "terminal too small" and the size needed, centred, in plain ASCII.
    public static func render(need: TerminalSize, context: ScreenContext) -> CellGrid {
        var grid = context.blankGrid()
        let lines = ["terminal too small", "need \(need.width)x\(need.height), have \(context.size.width)x\(context.size.height)"]
        let top = max(0, (context.size.height - lines.count) / 2)
        for (i, l) in lines.enumerated() {
            let x = max(0, (context.size.width - l.count) / 2)
            grid.text(l, x: x, y: top + i, width: context.size.width - x,
                      style: i == 0 ? context.theme.colored(context.theme.warn, bold: true) : context.theme.base, ascii: true)
        }
        return grid
    }
}
