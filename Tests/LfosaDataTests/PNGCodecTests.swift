import Testing
@testable import LfosaData

@Suite("PNG decoding and encoding")
struct PNGCodecTests {
    @Test func encodedRGBRoundTrips() throws {
        let image = patternImage(width: 7, height: 5)
        let decoded = try PNGCodec.decode(PNGCodec.encode(image), path: "x.png")
        #expect(decoded == image)
    }

    @Test func greyBecomesRGB() throws {
        let png = PNGFixture(width: 2, height: 1, colorType: 0, rows: [[10, 200]]).bytes
        let d = try PNGCodec.decode(png, path: "g.png")
        #expect(d.channels == 3 && d.pixels == [10, 10, 10, 200, 200, 200])
    }

    @Test func greyAlphaIsCompositedOnWhite() throws {
        let png = PNGFixture(width: 2, height: 1, colorType: 4, rows: [[0, 0, 50, 255]]).bytes
        let d = try PNGCodec.decode(png, path: "ga.png")
        #expect(d.pixels == [255, 255, 255, 50, 50, 50])
    }

    @Test func rgbaOpaqueKeepsColourTransparentTurnsWhite() throws {
        let png = PNGFixture(width: 2, height: 1, colorType: 6, rows: [[10, 20, 30, 255, 10, 20, 30, 0]]).bytes
        let d = try PNGCodec.decode(png, path: "rgba.png")
        #expect(d.pixels == [10, 20, 30, 255, 255, 255])
    }

    @Test func paletteWithTransparency() throws {
        let png = PNGFixture(width: 3, height: 1, colorType: 3, rows: [[0, 1, 2]],
                             palette: [255, 0, 0, 0, 255, 0, 0, 0, 255], transparency: [255, 255, 0]).bytes
        let d = try PNGCodec.decode(png, path: "p.png")
        #expect(d.pixels == [255, 0, 0, 0, 255, 0, 255, 255, 255])
    }

    @Test func sixteenBitIsReducedToEightBit() throws {
        let png = PNGFixture(width: 2, height: 1, bitDepth: 16, colorType: 2,
                             rows: [[0xFF, 0xFF, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0]]).bytes
        let d = try PNGCodec.decode(png, path: "16.png")
        #expect(d.pixels == [255, 0, 255, 0, 0, 0])
        let grey = PNGFixture(width: 1, height: 1, bitDepth: 16, colorType: 0, rows: [[0x80, 0x00]]).bytes
        let g = try PNGCodec.decode(grey, path: "16g.png")
        #expect(g.pixels[0] == g.pixels[1] && g.pixels[0] > 100 && g.pixels[0] < 200)
    }

    @Test func emptyFileIsRefused() {
        expectDataError(naming: "zero.png", containing: "empty") { _ = try PNGCodec.decode([], path: "zero.png") }
    }

    @Test func wrongMagicIsRefused() {
        expectDataError(naming: "fake.png", containing: "not a PNG") { _ = try PNGCodec.decode(Array("hello world, I am text".utf8), path: "fake.png") }
    }

    @Test func truncatedFileIsRefused() throws {
        let png = try PNGCodec.encode(patternImage(width: 16, height: 16))
        for cut in [10, 30, png.count / 2, png.count - 13] {
            expectDataError(naming: "cut.png", containing: "invalid PNG") { _ = try PNGCodec.decode(Array(png.prefix(cut)), path: "cut.png") }
        }
    }

    @Test func badCRCIsRefused() {
        var png = PNGFixture(width: 2, height: 2, colorType: 2, rows: [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]]).bytes
        // Flip one data byte of IDAT without fixing its CRC.
        let idat = png.indices.first { png[$0..<($0 + 4)].elementsEqual(Array("IDAT".utf8)) }!
        png[idat + 10] ^= 0xFF
        expectDataError(naming: "crc.png", containing: "CRC") { _ = try PNGCodec.decode(png, path: "crc.png") }
    }

    @Test func absurdDimensionsAreRefusedBeforeAllocation() {
        // Header says 100000 × 100000 (10^10 pixels); data is tiny.
        let png = PNGFixture(width: 100_000, height: 100_000, colorType: 2, rows: [[0, 0, 0]]).bytes
        expectDataError(naming: "bomb.png", containing: "above the limit") { _ = try PNGCodec.decode(png, path: "bomb.png") }
        let small = PNGFixture(width: 300, height: 300, colorType: 0, rows: Array(repeating: [UInt8](repeating: 7, count: 300), count: 300)).bytes
        expectDataError(naming: "big.png", containing: "above the limit of 1000") {
            _ = try PNGCodec.decode(small, path: "big.png", limits: DecodeLimits(maxPixels: 1000))
        }
        let zero = PNGFixture(width: 0, height: 5, colorType: 0, rows: []).bytes
        expectDataError(naming: "zero-width.png", containing: "invalid PNG") { _ = try PNGCodec.decode(zero, path: "zero-width.png") }
    }

    @Test func greyEncodingRoundTrips() throws {
        let grey = RasterImage(width: 3, height: 2, channels: 1, pixels: [0, 50, 100, 150, 200, 250])
        let d = try PNGCodec.decode(PNGCodec.encode(grey), path: "g.png")
        #expect(d == grey.rgb())
    }

    @Test func writeIsAtomicAndReadable() throws {
        try withTempDirectory { dir in
            let path = dir + "/out.png"
            let image = patternImage(width: 4, height: 3)
            try PNGCodec.write(image, to: path)
            #expect(try ImageFileDecoder().decodeFile(path).image == image)
        }
    }
}
