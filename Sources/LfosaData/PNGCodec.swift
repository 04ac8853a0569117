import CPNG

/// PNG decoding and encoding through libpng's simplified `png_image_*` API.
///
/// Every PNG colour type and bit depth (grey, grey+alpha, RGB, RGBA, palette, 16-bit)
/// decodes to 8-bit RGB; alpha is composited on `PNGCodec.background` (white). Errors
/// come back as return codes and become a `DataError` naming the file; nothing longjmps.
public enum PNGCodec {
    /// The 8-byte PNG signature.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    /// The colour transparent pixels are composited on.
    public static let background: (red: UInt8, green: UInt8, blue: UInt8) = (255, 255, 255)

    /// Decodes a whole PNG file held in memory to 8-bit RGB.
    ///
    /// Throws for an empty or truncated file, a wrong signature, a bad CRC in a critical
    /// chunk, invalid dimensions, or more pixels than `limits.maxPixels` (checked before
    /// allocating).
    public static func decode(_ bytes: UnsafeRawBufferPointer, path: String, limits: DecodeLimits = .default) throws(DataError) -> RasterImage {
        if bytes.isEmpty { throw DataError(path: path, problem: "empty file (0 bytes)") }
        guard bytes.count >= 8, bytes.prefix(8).elementsEqual(signature) else {
            throw DataError(path: path, problem: "not a PNG file (wrong signature)")
        }
        var image = png_image()
        image.version = lfosa_png_image_version()
        if png_image_begin_read_from_memory(&image, bytes.baseAddress, bytes.count) == 0 {
            throw DataError(path: path, problem: "invalid PNG: \(message(&image))")
        }
        let width = Int(image.width), height = Int(image.height)
        do {
            try limits.checkPixels(width: width, height: height, path: path, format: "PNG")
        } catch {
            png_image_free(&image)
            throw error
        }
        image.format = lfosa_png_format_rgb()
        var back = png_color(red: background.red, green: background.green, blue: background.blue)
        let rowBytes = width * 3
        var ok: Int32 = 0
        let pixels = [UInt8](unsafeUninitializedCapacity: rowBytes * height) { buffer, initialized in
            ok = png_image_finish_read(&image, &back, buffer.baseAddress, png_int_32(rowBytes), nil)
            initialized = rowBytes * height
        }
        if ok == 0 {
            throw DataError(path: path, problem: "invalid PNG: \(message(&image))")
        }
        return RasterImage(width: width, height: height, channels: 3, pixels: pixels)
    }

    /// Convenience for `[UInt8]` input.
    public static func decode(_ bytes: [UInt8], path: String, limits: DecodeLimits = .default) throws(DataError) -> RasterImage {
        var result: Result<RasterImage, DataError>!
        bytes.withUnsafeBytes { raw in
            do throws(DataError) { result = .success(try decode(raw, path: path, limits: limits)) } catch { result = .failure(error) }
        }
        return try result.get()
    }

    /// Encodes a grey or RGB image as an 8-bit PNG file in memory.
    public static func encode(_ raster: RasterImage) throws(DataError) -> [UInt8] {
        var image = png_image()
        image.version = lfosa_png_image_version()
        image.width = png_uint_32(raster.width)
        image.height = png_uint_32(raster.height)
        image.format = raster.channels == 3 ? lfosa_png_format_rgb() : lfosa_png_format_gray()
        let stride = png_int_32(raster.width * raster.channels)
        var size: png_alloc_size_t = 0
        let sized = raster.pixels.withUnsafeBytes { px in
            png_image_write_to_memory(&image, nil, &size, 0, px.baseAddress, stride, nil)
        }
        if sized == 0 { throw DataError(path: "<png encoder>", problem: "cannot encode PNG: \(message(&image))") }
        var out = [UInt8](repeating: 0, count: Int(size))
        let written = raster.pixels.withUnsafeBytes { px in
            out.withUnsafeMutableBytes { o in
                png_image_write_to_memory(&image, o.baseAddress, &size, 0, px.baseAddress, stride, nil)
            }
        }
        if written == 0 { throw DataError(path: "<png encoder>", problem: "cannot encode PNG: \(message(&image))") }
        out.removeLast(out.count - Int(size))
        return out
    }

    /// Encodes `raster` and writes it to `path` atomically (temporary file + rename).
    public static func write(_ raster: RasterImage, to path: String) throws(DataError) {
        try FileAccess.writeAtomically(try encode(raster), to: path)
    }

    private static func message(_ image: inout png_image) -> String {
        let text = String(cString: lfosa_png_image_message(&image))
        return text.isEmpty ? "unknown libpng error" : text
    }
}
