import Testing
@testable import LfosaData

@Suite("JPEG decoding")
struct JPEGCodecTests {
    @Test func encodedJPEGDecodesClose() throws {
        let image = smoothImage(width: 24, height: 16)
        let jpeg = try JPEGCodec.encode(image, quality: 95)
        let d = try jpeg.withUnsafeBytes { try JPEGDecoder().decode($0, path: "a.jpg") }
        #expect(d.width == 24 && d.height == 16 && d.channels == 3)
        let maxDiff = zip(d.pixels, image.pixels).map { abs(Int($0) - Int($1)) }.max()!
        #expect(maxDiff < 24)
    }

    @Test func scaledDecodeKeepsAtLeastTheRequestedSize() throws {
        let jpeg = try JPEGCodec.encode(smoothImage(width: 256, height: 128))
        let d = try jpeg.withUnsafeBytes { try ImageFileDecoder().decode($0, path: "s.jpg", target: .cover(width: 32, height: 32)) }
        #expect(d.originalWidth == 256 && d.originalHeight == 128)
        #expect(d.image.width == 64 && d.image.height == 32)
        // Letterbox into 32×32 needs only 32×16: 1/8 scale.
        let f = try jpeg.withUnsafeBytes { try ImageFileDecoder().decode($0, path: "s.jpg", target: .fit(width: 32, height: 32)) }
        #expect(f.image.width == 32 && f.image.height == 16)
        let full = try jpeg.withUnsafeBytes { try ImageFileDecoder().decode($0, path: "s.jpg", target: .fit(width: 1000, height: 1000)) }
        #expect(full.image.width == 256)
    }

    @Test func badJPEGsAreRefused() throws {
        let jpeg = try JPEGCodec.encode(smoothImage(width: 64, height: 64))
        let decoder = try JPEGDecoder()
        expectDataError(naming: "zero.jpg", containing: "empty") { _ = try decoder.decode(UnsafeRawBufferPointer(start: nil, count: 0), path: "zero.jpg") }
        let text = Array("GIF89a not a jpeg".utf8)
        expectDataError(naming: "magic.jpg", containing: "not a JPEG") { _ = try text.withUnsafeBytes { try decoder.decode($0, path: "magic.jpg") } }
        for cut in [3, 20, jpeg.count / 2] {
            let part = Array(jpeg.prefix(cut))
            expectDataError(naming: "cut.jpg", containing: "invalid JPEG") { _ = try part.withUnsafeBytes { try decoder.decode($0, path: "cut.jpg") } }
        }
    }

    @Test func absurdDimensionsAreRefused() throws {
        var jpeg = try JPEGCodec.encode(smoothImage(width: 16, height: 16))
        // Patch the SOF0 frame header: height and width at offsets 5…8 after the marker.
        let sof = jpeg.indices.first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 }!
        jpeg[sof + 5] = 0xFD; jpeg[sof + 6] = 0xE8; jpeg[sof + 7] = 0xFD; jpeg[sof + 8] = 0xE8
        expectDataError(naming: "huge.jpg", containing: "above the limit") {
            _ = try jpeg.withUnsafeBytes { try JPEGDecoder().decode($0, path: "huge.jpg") }
        }
    }

    @Test func unsupportedFormatsAreNamed() {
        let gif = Array("GIF89a....".utf8)
        expectDataError(naming: "a.png", containing: "GIF images are not supported") {
            _ = try gif.withUnsafeBytes { try ImageFileDecoder().decode($0, path: "a.png") }
        }
    }

    @Test func cmykIsConvertedLikePillow() {
        // Adobe (inverted) CMYK as Pillow writes it for RGB (200, 30, 60): C=200 M=30 Y=60 K=255 stored.
        #expect(JPEGDecoder.rgb(fromCMYK: [200, 30, 60, 255], inverted: true) == [200, 30, 60])
        #expect(JPEGDecoder.rgb(fromCMYK: [55, 225, 195, 0], inverted: false) == [200, 30, 60])
        let adobe: [UInt8] = [0xFF, 0xD8, 0xFF, 0xEE, 0x00, 0x0E] + Array("Adobe".utf8) + [0, 100, 0, 0, 0, 0, 0, 0xFF, 0xDA]
        #expect(adobe.withUnsafeBytes { JPEGDecoder.hasAdobeMarker($0) })
        let plain: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0, 0, 0xFF, 0xDA]
        #expect(!plain.withUnsafeBytes { JPEGDecoder.hasAdobeMarker($0) })
    }
}
