/// The live panel of `lfosa demo`, drawn inside the labeling screen's side panel.
///
/// One row per finished batch: LfOSA's precision as a bar and number, Random's beside it;
/// then recall so far, the pace and who is labeling. The most recent batches are kept when
/// the rows do not all fit.
public enum DemoPanel {
    /// Draws the panel into `rect` (clipped to it).
    public static func draw(_ model: DemoPanelModel, keys: KeyMap, into grid: inout CellGrid, rect: Rect,
                            context: ScreenContext) {
        let theme = context.theme, g = context.glyphs, ascii = context.ascii
        var y = rect.y
        let w = rect.width
        func line(_ s: String, _ style: CellStyle) {
            guard y < rect.maxY else { return }
            grid.text(s, x: rect.x, y: y, width: w, style: style, ascii: ascii)
            y += 1
        }
        line("demo: LfOSA vs Random", theme.title)
        let footer = 3
        let rowsRoom = max(0, rect.maxY - y - footer)
        let batches = min(model.lfosaPrecision.count, model.randomPrecision.count)
        let first = max(0, batches - rowsRoom)
        // "q12 ▇▇▇▇ 0.66 ▇ 0.20": label 4, two bars, two numbers of 4, spaces.
        let barWidth = max(1, (w - 4 - 2 * 5 - 2) / 2)
        for b in first..<batches {
            guard y < rect.maxY else { break }
            var x = grid.text("q\(b + 1)", x: rect.x, y: y, style: theme.dimmed)
            x = max(x, rect.x + 4)
            grid.bar(x: x, y: y, width: barWidth, fraction: model.lfosaPrecision[b], glyphs: g,
                     filled: theme.colored(theme.good), empty: theme.dimmed)
            x += barWidth + 1
            x = grid.text(TextLayout.fixed2(model.lfosaPrecision[b]), x: x, y: y, style: theme.colored(theme.good)) + 1
            grid.bar(x: x, y: y, width: barWidth, fraction: model.randomPrecision[b], glyphs: g,
                     filled: theme.dimmed, empty: theme.dimmed.with(.dim))
            x += barWidth + 1
            grid.text(TextLayout.fixed2(model.randomPrecision[b]), x: x, y: y, style: theme.dimmed)
            y += 1
        }
        if batches == 0 { line("(no batch finished yet)", theme.dimmed) }
        line("recall \(TextLayout.fixed2(model.recall))", theme.base)
        line("pace \(TextLayout.duration(model.pace))/label (\(keys.faster.label)/\(keys.slower.label))", theme.base)
        if model.humanInControl {
            line("you label (\(keys.pause.label): hand back)", theme.colored(theme.warn, bold: true))
        } else if model.paused {
            line("PAUSED (\(keys.pause.label): resume)", theme.colored(theme.warn, bold: true))
        } else {
            line("simulated annotator (\(keys.pause.label): pause)", theme.dimmed)
        }
    }
}
