/// The image file formats LfosaData decodes, told apart by their first bytes.
public enum ImageFileFormat: String, Sendable {
    case png, jpeg

    /// The format of `bytes`, or nil.
    public static func detect(_ bytes: UnsafeRawBufferPointer) -> ImageFileFormat? {
        if bytes.count >= 8 && bytes.prefix(8).elementsEqual(PNGCodec.signature) { return .png }
        if bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF { return .jpeg }
        return nil
    }

    /// A user-facing name for a recognised but unsupported format, or nil.
    static func unsupportedName(_ bytes: UnsafeRawBufferPointer) -> String? {
        func starts(_ s: [UInt8]) -> Bool { bytes.count >= s.count && bytes.prefix(s.count).elementsEqual(s) }
        if starts(Array("GIF8".utf8)) { return "GIF" }
        if starts(Array("BM".utf8)) { return "BMP" }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return "TIFF" }
        if bytes.count >= 12 && starts(Array("RIFF".utf8)) && bytes[8..<12].elementsEqual(Array("WEBP".utf8)) { return "WebP" }
        if bytes.count >= 12 && bytes[4..<8].elementsEqual(Array("ftyp".utf8)) { return "HEIF/AVIF" }
        return nil
    }
}

/// Decodes PNG and JPEG files to RGB; one per worker thread (it owns a TurboJPEG handle).
public final class ImageFileDecoder {
    private var jpeg: JPEGDecoder?
    public let limits: DecodeLimits

    public init(limits: DecodeLimits = .default) {
        self.limits = limits
    }

    /// A decoded image with the size its header announced (before any DCT scaling).
    public struct Decoded {
        public var image: RasterImage
        public var originalWidth: Int
        public var originalHeight: Int
    }

    /// Decodes a PNG or JPEG held in memory to RGB.
    ///
    /// `target` lets JPEG decoding skip resolution that a later shrink would discard.
    public func decode(_ bytes: UnsafeRawBufferPointer, path: String, target: DecodeTarget = .full) throws(DataError) -> Decoded {
        if bytes.isEmpty { throw DataError(path: path, problem: "empty file (0 bytes)") }
        switch ImageFileFormat.detect(bytes) {
        case .png:
            let image = try PNGCodec.decode(bytes, path: path, limits: limits)
            return Decoded(image: image, originalWidth: image.width, originalHeight: image.height)
        case .jpeg:
            if jpeg == nil { jpeg = try JPEGDecoder() }
            let image = try jpeg!.decode(bytes, path: path, limits: limits, target: target)
            let header = jpeg!.lastHeaderSize
            return Decoded(image: image, originalWidth: header.width, originalHeight: header.height)
        case nil:
            if let name = ImageFileFormat.unsupportedName(bytes) {
                throw DataError(path: path, problem: "\(name) images are not supported (only PNG and JPEG)")
            }
            throw DataError(path: path, problem: "not a PNG or JPEG file (unrecognised signature)")
        }
    }

    /// Reads and decodes the file at `path`.
    public func decodeFile(_ path: String, target: DecodeTarget = .full) throws(DataError) -> Decoded {
        let bytes = try FileAccess.read(path, maxBytes: limits.maxFileBytes)
        var result: Result<Decoded, DataError>!
        bytes.withUnsafeBytes { raw in
            do throws(DataError) { result = .success(try decode(raw, path: path, target: target)) } catch { result = .failure(error) }
        }
        return try result.get()
    }

    /// Reads, decodes and resizes the file at `path` to `policy`; also returns the XXH64
    /// of the file's bytes (the item identity) and its original size.
    func decodeForPool(_ path: String, policy: ResizePolicy) throws(DataError) -> (image: RasterImage, hash: UInt64, width: Int, height: Int) {
        let bytes = try FileAccess.read(path, maxBytes: limits.maxFileBytes)
        var result: Result<(RasterImage, UInt64, Int, Int), DataError>!
        bytes.withUnsafeBytes { raw in
            do throws(DataError) {
                let target: DecodeTarget = policy.fit == .centreCrop ? .cover(width: policy.width, height: policy.height)
                                                                     : .fit(width: policy.width, height: policy.height)
                let d = try decode(raw, path: path, target: target)
                result = .success((Resampler.resize(d.image, to: policy), ContentHash.xxh64(raw), d.originalWidth, d.originalHeight))
            } catch { result = .failure(error) }
        }
        return try result.get()
    }

}
