import Testing
@testable import LfosaTerminal

/// A 4×4 image: top half red, bottom half blue.
func redOverBlue(_ size: Int = 4) -> PixelImage {
    PixelImage(width: size, height: size) { _, y in y < size / 2 ? RGB(255, 0, 0) : RGB(0, 0, 255) }
}

@Test func fitKeepsAspectWithTwoPixelRowsPerCell() {
    // 32×32 into 80×20 cells: 40 pixel rows limit → 40×40 pixels, 20 rows.
    #expect(ImageRenderer.fittedPixels(imageWidth: 32, imageHeight: 32, cells: TerminalSize(width: 80, height: 20)) == (40, 40))
    // Wide image: width-limited.
    #expect(ImageRenderer.fittedPixels(imageWidth: 100, imageHeight: 50, cells: TerminalSize(width: 20, height: 40)) == (20, 10))
    // ASCII: one pixel row per cell at half the vertical resolution.
    #expect(ImageRenderer.fittedPixels(imageWidth: 32, imageHeight: 32, cells: TerminalSize(width: 80, height: 20), halfBlocks: false) == (40, 20))
    #expect(ImageRenderer.fittedPixels(imageWidth: 0, imageHeight: 32, cells: TerminalSize(width: 8, height: 8)) == (0, 0))
}

@Test func halfBlocksCarryTopAndBottomPixel() {
    let prepared = ImageRenderer.prepare(redOverBlue(), fitting: TerminalSize(width: 4, height: 2), depth: .direct)
    #expect(prepared.width == 4 && prepared.height == 2)
    #expect(prepared[0, 0] == Cell("▀", foreground: RGB(255, 0, 0), background: RGB(255, 0, 0)))
    #expect(prepared[3, 1] == Cell("▀", foreground: RGB(0, 0, 255), background: RGB(0, 0, 255)))
}

@Test func shrinkingAveragesTheArea() {
    // A 2×2 checkerboard of black and white shrunk to one pixel is mid grey.
    let checker = PixelImage(width: 2, height: 2, channels: 1, pixels: [0, 255, 255, 0])
    let out = ImageRenderer.resample(checker, width: 1, height: 1)
    #expect(out == [128, 128, 128])
    // Shrinking red-over-blue to 1×2 keeps each half pure.
    #expect(ImageRenderer.resample(redOverBlue(), width: 1, height: 2) == [255, 0, 0, 0, 0, 255])
}

@Test func oddPixelRowLeavesBackgroundInTheLastCell() {
    let img = PixelImage(width: 1, height: 3) { _, _ in RGB(10, 20, 30) }
    let prepared = ImageRenderer.prepare(img, fitting: TerminalSize(width: 1, height: 2), depth: .direct, background: RGB(1, 2, 3))
    // 1×3 into 1×4 pixel rows: width-limited at 1 → 1×3 pixels → 2 cells, last bottom = background.
    #expect(prepared.height == 2)
    #expect(prepared[0, 1].background == RGB(1, 2, 3))
    #expect(prepared[0, 1].foreground == RGB(10, 20, 30))
}

@Test func renderCentresInTheRect() {
    var grid = CellGrid(width: 10, height: 4)
    ImageRenderer.render(redOverBlue(), into: &grid, rect: Rect(x: 2, y: 0, width: 8, height: 2), depth: .direct)
    // 4×4 image into 8×2 cells: 4 pixel rows → 4×4 pixels, 4 cells wide, centred at x = 2 + 2.
    #expect(grid.line(0) == "    ▀▀▀▀")
    #expect(grid.line(2) == "")
}

@Test func paletteDepthWritesPaletteColours() {
    let img = PixelImage(width: 2, height: 2) { _, _ in RGB(250, 10, 5) }
    let prepared = ImageRenderer.prepare(img, fitting: TerminalSize(width: 2, height: 1), depth: .palette256)
    #expect(prepared[0, 0].foreground == RGB(255, 0, 0))
    let ansi = ImageRenderer.prepare(img, fitting: TerminalSize(width: 2, height: 1), depth: .ansi8)
    #expect(ansi[0, 0].foreground == RGB(205, 0, 0))
}

@Test func asciiFallbackUsesTheGreyRamp() {
    let gradient = PixelImage(width: 10, height: 2, channels: 1, pixels: (0..<20).map { UInt8(($0 % 10) * 28) })
    let prepared = ImageRenderer.prepare(gradient, fitting: TerminalSize(width: 10, height: 1), depth: .monochromeASCII)
    #expect(prepared.text() == " .:-=+*#%@")
}

@Test(arguments: [ColorDepth.palette256, .ansi16])
func ditheredThumbnailStyleSnapshot(depth: ColorDepth) {
    let prepared = ImageRenderer.prepare(Fixtures.image, fitting: TerminalSize(width: 16, height: 8), depth: depth, dither: true)
    expectSnapshot(prepared.styleDump(), named: "thumbnail-16x8-\(depth.rawValue)-dithered")
}

@Test func prefetchCacheServesOnlyTheSameContextAndEvictsOldest() {
    let small = ScreenContext(size: TerminalSize(width: 80, height: 24), depth: .palette256)
    let large = ScreenContext(size: TerminalSize(width: 120, height: 40), depth: .palette256)
    var cache = PreparedImageCache(capacity: 2)
    cache.prefetch(Fixtures.image, for: 1, context: small)
    #expect(cache.cells(for: 1, context: small) == LabelingScreen.prepareImage(Fixtures.image, context: small))
    #expect(cache.cells(for: 1, context: large) == nil)
    cache.prefetch(Fixtures.image, for: 2, context: small)
    cache.prefetch(Fixtures.image, for: 3, context: small)
    #expect(cache.count == 2 && cache.cells(for: 1, context: small) == nil)
    // A prefetched frame is identical to one rendered from pixels.
    var model = Fixtures.labeling()
    let fromPixels = LabelingScreen.render(model, keys: keys3, context: small)
    model.image = cache.content(Fixtures.image, for: 3, context: small)
    #expect(model.image?.prepared != nil)
    #expect(LabelingScreen.render(model, keys: keys3, context: small) == fromPixels)
}
