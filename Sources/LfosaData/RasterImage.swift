/// A decoded image: interleaved 8-bit samples, row-major (HWC).
///
/// `channels` is 1 (grey) or 3 (RGB); `pixels.count == width * height * channels`.
public struct RasterImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && (channels == 1 || channels == 3))
        precondition(pixels.count == width * height * channels, "pixel count does not match size")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// The same image with 3 channels (grey samples repeated); RGB images are returned as is.
    public func rgb() -> RasterImage {
        if channels == 3 { return self }
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            let v = pixels[i]
            out[3 * i] = v; out[3 * i + 1] = v; out[3 * i + 2] = v
        }
        return RasterImage(width: width, height: height, channels: 3, pixels: out)
    }
}

/// Limits that protect the decoder from hostile or absurd input.
///
/// An image whose header announces more than `maxPixels` pixels is refused before any
/// pixel memory is allocated (decompression bombs). `maxFileBytes` bounds what is read
/// from one image file; `maxInflatedBytes` bounds gunzipped IDX data.
public struct DecodeLimits: Sendable, Equatable, Hashable {
    public var maxPixels: Int
    public var maxFileBytes: Int
    public var maxInflatedBytes: Int

    public init(maxPixels: Int = 50_000_000, maxFileBytes: Int = 512 << 20, maxInflatedBytes: Int = 4 << 30) {
        self.maxPixels = max(1, min(maxPixels, 400_000_000))
        self.maxFileBytes = maxFileBytes
        self.maxInflatedBytes = maxInflatedBytes
    }

    public static let `default` = DecodeLimits()

    func checkPixels(width: Int, height: Int, path: String, format: String) throws(DataError) {
        let (product, overflow) = width.multipliedReportingOverflow(by: height)
        if width <= 0 || height <= 0 {
            throw DataError(path: path, problem: "\(format) has invalid dimensions \(width)×\(height)")
        }
        if overflow || product > maxPixels {
            throw DataError(path: path, problem: "\(format) is \(width)×\(height) pixels, above the limit of \(maxPixels) pixels (possible decompression bomb; raise --max-pixels to allow it)")
        }
    }
}
