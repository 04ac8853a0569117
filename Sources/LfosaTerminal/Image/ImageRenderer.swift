/// Draws images into cells: two pixel rows per cell with `▀` (foreground = top pixel,
/// background = bottom pixel), or an ASCII grey ramp at `.monochromeASCII`.
///
/// The image is scaled to fit the target rectangle keeping its aspect ratio (a cell is
/// taken to be twice as tall as wide, so a `▀` cell holds two square pixels) and centred.
/// Shrinking averages every source pixel of the area (box filter on integer spans);
/// enlarging repeats pixels (crisp, right for 32×32 images). Colours are quantised for the
/// depth here, so ordered dithering can use the pixel position.
public enum ImageRenderer {
    /// The size in output pixels (columns, pixel rows) of `image` fitted into `cells`.
    ///
    /// Both at least 1 when the image and the area are non-empty; pixel rows ≤ 2 × rows.
    public static func fittedPixels(imageWidth: Int, imageHeight: Int, cells: TerminalSize,
                                    halfBlocks: Bool = true) -> (width: Int, height: Int) {
        guard imageWidth > 0, imageHeight > 0, cells.width > 0, cells.height > 0 else { return (0, 0) }
        let rowsPerCell = halfBlocks ? 2 : 1
        let maxW = cells.width
        let maxH = cells.height * rowsPerCell
        // ASCII cells are 1 pixel tall but a cell is ~2× as tall as wide: halve the rows.
        let aspect = halfBlocks ? 1.0 : 0.5
        let scale = min(Double(maxW) / Double(imageWidth), Double(maxH) / (Double(imageHeight) * aspect))
        let w = min(maxW, max(1, Int((Double(imageWidth) * scale).rounded())))
        let h = min(maxH, max(1, Int((Double(imageHeight) * aspect * scale).rounded())))
        return (w, h)
    }

    /// The image scaled and quantised into a block of cells (its own small grid).
    ///
    /// The result is at most `cells` in size and exactly as large as the fitted image; draw
    /// it with `draw(_:into:centeredIn:)`. This is the unit of prefetching: prepare the next
    /// images while the annotator looks at the current one.
    public static func prepare(_ image: PixelImage, fitting cells: TerminalSize, depth: ColorDepth,
                               dither: Bool = false, background: RGB = .black) -> CellGrid {
        let half = depth != .monochromeASCII
        let (pw, ph) = fittedPixels(imageWidth: image.width, imageHeight: image.height, cells: cells, halfBlocks: half)
        guard pw > 0, ph > 0 else { return CellGrid(width: 0, height: 0) }
        let scaled = resample(image, width: pw, height: ph)
        let rows = half ? (ph + 1) / 2 : ph
        var out = CellGrid(width: pw, height: rows, fill: Cell(" ", foreground: .white, background: background))
        scaled.withUnsafeBufferPointer { px in
            out.withUnsafeMutableCells { cells in
                if half {
                    for row in 0..<rows {
                        let yTop = 2 * row, yBottom = 2 * row + 1
                        for x in 0..<pw {
                            let t = (yTop * pw + x) * 3
                            let top = quantise(RGB(px[t], px[t + 1], px[t + 2]), depth: depth, x: x, y: yTop, dither: dither)
                            let bottom: RGB
                            if yBottom < ph {
                                let b = (yBottom * pw + x) * 3
                                bottom = quantise(RGB(px[b], px[b + 1], px[b + 2]), depth: depth, x: x, y: yBottom, dither: dither)
                            } else {
                                bottom = background
                            }
                            cells[row * pw + x] = Cell("▀", foreground: top, background: bottom)
                        }
                    }
                } else {
                    for row in 0..<rows {
                        for x in 0..<pw {
                            let t = (row * pw + x) * 3
                            let grey = (77 * Int(px[t]) + 150 * Int(px[t + 1]) + 29 * Int(px[t + 2])) >> 8
                            cells[row * pw + x] = Cell(ColorQuantizer.rampCharacter(grey),
                                                       foreground: .white, background: .black)
                        }
                    }
                }
            }
        }
        return out
    }

    /// Draws a prepared image centred in `rect` (clipped to it).
    public static func draw(_ prepared: CellGrid, into grid: inout CellGrid, centeredIn rect: Rect) {
        let x = rect.x + max(0, (rect.width - prepared.width) / 2)
        let y = rect.y + max(0, (rect.height - prepared.height) / 2)
        if prepared.width <= rect.width && prepared.height <= rect.height {
            grid.blit(prepared, x: x, y: y)
        } else {
            let clip = rect.intersection(grid.bounds)
            for row in 0..<prepared.height { for col in 0..<prepared.width {
                grid.put(prepared[col, row], x: x + col, y: y + row, clip: clip)
            } }
        }
    }

    /// Scales, quantises and draws `image` fitted and centred in `rect`.
    public static func render(_ image: PixelImage, into grid: inout CellGrid, rect: Rect, depth: ColorDepth,
                              dither: Bool = false, background: RGB = .black) {
        let prepared = prepare(image, fitting: TerminalSize(width: rect.width, height: rect.height),
                               depth: depth, dither: dither, background: background)
        draw(prepared, into: &grid, centeredIn: rect)
    }

    @inline(__always)
    static func quantise(_ c: RGB, depth: ColorDepth, x: Int, y: Int, dither: Bool) -> RGB {
        switch depth {
        case .direct: return c
        case .palette256: return ColorQuantizer.palette[ColorQuantizer.paletteIndex(c, x: x, y: y, dither: dither)]
        case .ansi16, .ansi8:
            guard dither else { return ColorQuantizer.displayed(c, depth: depth) }
            // System colours are ~128 apart per channel: a 3× wider dither spread.
            let o = 3 * ColorQuantizer.ditherOffset(x: x, y: y)
            let d = RGB(UInt8(ColorQuantizer.clamp(Int(c.r) + o)), UInt8(ColorQuantizer.clamp(Int(c.g) + o)),
                        UInt8(ColorQuantizer.clamp(Int(c.b) + o)))
            return ColorQuantizer.displayed(d, depth: depth)
        case .monochromeASCII: return ColorQuantizer.displayed(c, depth: depth)
        }
    }

    /// Integer source spans [start, end) for each of `outCount` outputs over `inCount` inputs.
    static func spans(input inCount: Int, output outCount: Int) -> [(Int, Int)] {
        (0..<outCount).map { o in
            let s = o * inCount / outCount
            let e = max(s + 1, (o + 1) * inCount / outCount)
            return (s, min(e, inCount))
        }
    }

    /// The image resampled to `width × height` RGB (box average when shrinking, repeat when enlarging).
    public static func resample(_ image: PixelImage, width: Int, height: Int) -> [UInt8] {
        let xs = spans(input: image.width, output: width)
        let ys = spans(input: image.height, output: height)
        var out = [UInt8](repeating: 0, count: width * height * 3)
        let ch = image.channels
        let stride = image.width * ch
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for oy in 0..<height {
                    let (y0, y1) = ys[oy]
                    for ox in 0..<width {
                        let (x0, x1) = xs[ox]
                        var r = 0, g = 0, b = 0
                        for y in y0..<y1 {
                            var i = y * stride + x0 * ch
                            if ch == 3 {
                                for _ in x0..<x1 { r += Int(src[i]); g += Int(src[i + 1]); b += Int(src[i + 2]); i += 3 }
                            } else {
                                for _ in x0..<x1 { r += Int(src[i]); i += 1 }
                            }
                        }
                        let n = (y1 - y0) * (x1 - x0)
                        let o = (oy * width + ox) * 3
                        if ch == 3 {
                            dst[o] = UInt8((r + n / 2) / n); dst[o + 1] = UInt8((g + n / 2) / n); dst[o + 2] = UInt8((b + n / 2) / n)
                        } else {
                            let v = UInt8((r + n / 2) / n); dst[o] = v; dst[o + 1] = v; dst[o + 2] = v
                        }
                    }
                }
            }
        }
        return out
    }
}
