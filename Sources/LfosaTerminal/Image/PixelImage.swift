/// An 8-bit image in memory: grey (1 channel) or RGB (3 channels), row-major, interleaved.
///
/// The terminal module's own image type, so it does not depend on the data module; the
/// wiring copies decoded images into it (or builds it from CHW float tensors).
public struct PixelImage: Hashable, Sendable {
    public let width: Int
    public let height: Int
    /// 1 (grey) or 3 (RGB).
    public let channels: Int
    public let pixels: [UInt8]

    /// An image; `pixels.count` must be `width * height * channels`, channels 1 or 3.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(channels == 1 || channels == 3, "PixelImage: channels must be 1 or 3")
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * channels,
                     "PixelImage: \(pixels.count) bytes for \(width)×\(height)×\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// An RGB image from a per-pixel function.
    public init(width: Int, height: Int, rgb: (Int, Int) -> RGB) {
        var p = [UInt8]()
        p.reserveCapacity(width * height * 3)
        for y in 0..<height { for x in 0..<width {
            let c = rgb(x, y); p.append(c.r); p.append(c.g); p.append(c.b)
        } }
        self.init(width: width, height: height, channels: 3, pixels: p)
    }

    /// The colour at (x, y).
    public func color(x: Int, y: Int) -> RGB {
        let i = (y * width + x) * channels
        return channels == 3 ? RGB(pixels[i], pixels[i + 1], pixels[i + 2]) : RGB(pixels[i], pixels[i], pixels[i])
    }
}
