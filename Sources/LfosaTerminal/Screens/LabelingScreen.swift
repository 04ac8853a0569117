/// The labeling screen: the image large on the left, the side panel on the right, a key
/// hint (or status message) on the bottom line.
///
/// Pure: `render` is a function of the view model, the key map and the context. Below
/// `minimumSize` it draws the too-small screen instead.
public enum LabelingScreen {
    /// Below this size the screen draws `TooSmallScreen` instead.
    public static let minimumSize = TerminalSize(width: 60, height: 16)

    /// Where things go on a screen of `size`.
    public struct Layout: Hashable, Sendable {
        public var image: Rect
        /// The line under the image for the item's caption.
        public var caption: Rect
        public var side: Rect
        public var status: Rect
    }

    /// The layout for `size` (side panel a third of the width, 28…40 columns).
    public static func layout(_ size: TerminalSize) -> Layout {
        let sideWidth = min(40, max(28, size.width / 3))
        let bodyHeight = max(0, size.height - 1)
        let imageWidth = max(0, size.width - sideWidth - 1)
        return Layout(image: Rect(x: 0, y: 0, width: imageWidth, height: max(0, bodyHeight - 1)),
                      caption: Rect(x: 0, y: max(0, bodyHeight - 1), width: imageWidth, height: 1),
                      side: Rect(x: size.width - sideWidth, y: 0, width: sideWidth, height: bodyHeight),
                      status: Rect(x: 0, y: bodyHeight, width: size.width, height: 1))
    }

    /// The cells for `image` on a screen of `context` (prefetch: prepare the next images
    /// with this, put the result in `ImageContent.prepared`).
    public static func prepareImage(_ image: PixelImage, context: ScreenContext) -> CellGrid {
        let rect = layout(context.size).image
        return ImageRenderer.prepare(image, fitting: TerminalSize(width: rect.width, height: rect.height),
                                     depth: context.depth, dither: context.dither, background: context.theme.background)
    }

    /// The screen for `model`; class keys and hints come from `keys`.
    public static func render(_ model: LabelingViewModel, keys: KeyMap, context: ScreenContext) -> CellGrid {
        guard context.size.fits(minimumSize) else { return TooSmallScreen.render(need: minimumSize, context: context) }
        var grid = context.blankGrid()
        let l = layout(context.size)
        drawImage(model, into: &grid, layout: l, context: context)
        drawSide(model, keys: keys, into: &grid, rect: l.side, context: context)
        drawStatus(model, keys: keys, into: &grid, rect: l.status, context: context)
        return grid
    }

    static func drawImage(_ model: LabelingViewModel, into grid: inout CellGrid, layout: Layout, context: ScreenContext) {
        let theme = context.theme, area = layout.image
        if let caption = model.caption {
            let x = layout.caption.x + max(0, (layout.caption.width - caption.unicodeScalars.count) / 2)
            grid.text(caption, x: x, y: layout.caption.y, width: layout.caption.maxX - x, style: theme.dimmed,
                      ascii: context.ascii)
        }
        guard let image = model.image else {
            let text = model.training != nil ? "training... waiting for the next ranking" : "no image"
            grid.text(text, x: area.x + max(0, (area.width - text.unicodeScalars.count) / 2), y: area.y + area.height / 2,
                      width: area.width, style: theme.dimmed, ascii: context.ascii)
            return
        }
        let fitted = ImageRenderer.fittedPixels(imageWidth: image.pixels.width, imageHeight: image.pixels.height,
                                                cells: TerminalSize(width: area.width, height: area.height),
                                                halfBlocks: context.depth != .monochromeASCII)
        let rows = context.depth == .monochromeASCII ? fitted.height : (fitted.height + 1) / 2
        if let prepared = image.prepared, prepared.width == fitted.width, prepared.height == rows {
            ImageRenderer.draw(prepared, into: &grid, centeredIn: area)
        } else {
            ImageRenderer.render(image.pixels, into: &grid, rect: area, depth: context.depth,
                                 dither: context.dither, background: theme.background)
        }
    }

    static func drawSide(_ model: LabelingViewModel, keys: KeyMap, into grid: inout CellGrid, rect: Rect,
                         context: ScreenContext) {
        let theme = context.theme, g = context.glyphs, ascii = context.ascii
        for y in rect.y..<rect.maxY { grid.put(Cell(g.vertical, style: theme.frameStyle), x: rect.x - 1, y: y) }
        let x = rect.x + 1, w = rect.width - 2
        var y = rect.y
        let bottom = rect.maxY
        func line(_ s: String, _ style: CellStyle) {
            guard y < bottom else { return }
            grid.text(s, x: x, y: y, width: w, style: style, ascii: ascii)
            y += 1
        }
        line("\(model.position)/\(model.batchSize) \(g.dot) round \(model.round)", theme.title)
        let precision = TextLayout.fixed2(model.precision, ascii: ascii)
        line("precision \(precision) (\(model.knownQueried)/\(model.totalQueried))", theme.base)
        y += 1
        // Classes: key, name, count; the current verdict reversed. Leave room for the rest.
        let reserved = 2 + (model.hint == nil ? 0 : 2) + (model.training == nil ? 0 : 4)
            + (model.coldStartNotice == nil ? 0 : 4)
        let classRoom = max(1, bottom - y - reserved)
        let shown = model.classes.count <= classRoom ? model.classes.count : max(0, classRoom - 1)
        for (i, tally) in model.classes.prefix(shown).enumerated() {
            let key = i < keys.classKeys.count ? keys.classKeys[i].label : " "
            let selected = model.currentVerdict == .known(i)
            line(TextLayout.justified("\(key) \(tally.name)", "\(tally.count)", width: w, ascii: ascii),
                 selected ? theme.highlight : theme.base)
        }
        if shown < model.classes.count {
            line("\(ascii ? "..." : "…") +\(model.classes.count - shown) more (? for keys)", theme.dimmed)
        }
        line(TextLayout.justified("\(keys.unknown.label) unknown", "\(model.unknownCount)", width: w, ascii: ascii),
             model.currentVerdict == .unknown ? theme.highlight : theme.colored(theme.bad))
        if let hint = model.hint {
            y += 1
            line("guess: \(hint.className) (w \(TextLayout.fixed2(hint.w)))", theme.dimmed)
        }
        if let notice = model.coldStartNotice {
            y += 1
            for l in TextLayout.wrap(notice, width: w).prefix(3) { line(l, theme.colored(theme.warn)) }
        }
        if let training = model.training {
            y += 1
            for l in TextLayout.wrap(training.summary, width: w).prefix(2) { line(l, theme.colored(theme.warn)) }
            if y < bottom {
                grid.bar(x: x, y: y, width: w, fraction: training.fraction, glyphs: g,
                         filled: theme.colored(theme.warn), empty: theme.dimmed)
                y += 1
            }
        }
        if let demo = model.demo, bottom - y >= 5 {
            y += 1
            DemoPanel.draw(demo, keys: keys, into: &grid, rect: Rect(x: x, y: y, width: w, height: bottom - y), context: context)
        }
    }

    static func drawStatus(_ model: LabelingViewModel, keys: KeyMap, into grid: inout CellGrid, rect: Rect,
                           context: ScreenContext) {
        let theme = context.theme
        if let message = model.message {
            grid.text(message, x: rect.x + 1, y: rect.y, width: rect.width - 2, style: theme.colored(theme.warn, bold: true),
                      ascii: context.ascii)
            return
        }
        let first = keys.classKeys.first?.label ?? ""
        let last = keys.classKeys.prefix(model.classes.count).last?.label ?? ""
        let range = first == last ? first : "\(first)-\(last)"
        let d = " " + context.glyphs.dot + " "
        // Most needed first: a narrow terminal cuts the end of the line.
        let hint = [range + " class", "\(keys.unknown.label) unknown", "\(keys.skip.label) skip",
                    "\(keys.undo.label) undo", "\(keys.quit.label) quit", "\(keys.help.label) help",
                    "\(keys.grid.label) grid", "\(keys.histograms.label) MAV"].joined(separator: d)
        grid.text(hint, x: rect.x + 1, y: rect.y, width: rect.width - 2, style: theme.dimmed, ascii: context.ascii)
    }
}
