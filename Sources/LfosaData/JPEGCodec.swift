import CTurboJPEG

/// JPEG decoding through libjpeg-turbo's TurboJPEG API, one handle per decoder.
///
/// A `JPEGDecoder` is not thread-safe: give each worker its own. Decoding may use
/// TurboJPEG's DCT scaling (1/2, 1/4, 1/8) when the caller only needs a smaller image,
/// which is much faster for large photos. Truncated data ("premature end") is an error;
/// other libjpeg warnings (e.g. extraneous bytes) are tolerated.
public final class JPEGDecoder {
    private let handle: tjhandle
    /// Width and height from the header of the last JPEG decoded (before scaling).
    public private(set) var lastHeaderSize: (width: Int, height: Int) = (0, 0)

    public init() throws(DataError) {
        guard let h = tjInitDecompress() else { throw DataError(path: "<turbojpeg>", problem: "cannot create a TurboJPEG decompressor") }
        handle = h
    }

    deinit { tjDestroy(handle) }

    /// Decodes a JPEG held in memory to 8-bit RGB.
    ///
    /// With a `target` other than `.full`, the image may be decoded at a reduced DCT scale
    /// (1/2, 1/4, 1/8…) that still holds every pixel the final resize to `target` needs;
    /// `limits.maxPixels` applies to the full-size header dimensions.
    public func decode(_ bytes: UnsafeRawBufferPointer, path: String, limits: DecodeLimits = .default, target: DecodeTarget = .full) throws(DataError) -> RasterImage {
        if bytes.isEmpty { throw DataError(path: path, problem: "empty file (0 bytes)") }
        guard bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF else {
            throw DataError(path: path, problem: "not a JPEG file (wrong signature)")
        }
        let source = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var w: Int32 = 0, h: Int32 = 0, subsamp: Int32 = 0, colorspace: Int32 = 0
        if tjDecompressHeader3(handle, source, UInt(bytes.count), &w, &h, &subsamp, &colorspace) != 0 {
            throw DataError(path: path, problem: "invalid JPEG: \(errorText())")
        }
        if w <= 0 || h <= 0 { throw DataError(path: path, problem: "invalid JPEG: no usable frame header (truncated or corrupt)") }
        try limits.checkPixels(width: Int(w), height: Int(h), path: path, format: "JPEG")
        lastHeaderSize = (Int(w), Int(h))
        var outW = w, outH = h
        if let need = target.minimumSize(width: Int(w), height: Int(h)) {
            var n: Int32 = 0
            if let factors = tjGetScalingFactors(&n) {
                var best: (Int32, Int32)? = nil
                for i in 0..<Int(n) {
                    let f = factors[i]
                    guard f.num <= f.denom else { continue }
                    let sw = lfosa_tj_scaled(w, f), sh = lfosa_tj_scaled(h, f)
                    if Int(sw) >= need.width && Int(sh) >= need.height {
                        if best == nil || Int(sw) * Int(sh) < Int(best!.0) * Int(best!.1) { best = (sw, sh) }
                    }
                }
                if let b = best { outW = b.0; outH = b.1 }
            }
        }
        // TurboJPEG cannot convert CMYK/YCCK to RGB itself: decode to CMYK and convert here.
        let isCMYK = colorspace == Int32(lfosa_tjcs_cmyk()) || colorspace == Int32(lfosa_tjcs_ycck())
        let samples = isCMYK ? 4 : 3
        let rowBytes = Int(outW) * samples
        var status: Int32 = 0
        var pixels = [UInt8](unsafeUninitializedCapacity: rowBytes * Int(outH)) { buffer, initialized in
            status = tjDecompress2(handle, source, UInt(bytes.count), buffer.baseAddress, outW, Int32(rowBytes), outH,
                                   Int32(isCMYK ? lfosa_tjpf_cmyk() : lfosa_tjpf_rgb()), 0)
            initialized = rowBytes * Int(outH)
        }
        if status != 0 {
            let text = errorText()
            let warningOnly = tjGetErrorCode(handle) == Int32(lfosa_tjerr_warning())
            if !warningOnly || text.localizedPremature {
                throw DataError(path: path, problem: "invalid JPEG: \(text)")
            }
        }
        if isCMYK { pixels = JPEGDecoder.rgb(fromCMYK: pixels, inverted: JPEGDecoder.hasAdobeMarker(bytes)) }
        return RasterImage(width: Int(outW), height: Int(outH), channels: 3, pixels: pixels)
    }

    /// RGB from CMYK samples. Adobe files store inverted CMYK (255 = no ink).
    static func rgb(fromCMYK cmyk: [UInt8], inverted: Bool) -> [UInt8] {
        let n = cmyk.count / 4
        var out = [UInt8](repeating: 0, count: n * 3)
        for i in 0..<n {
            var k = Int(cmyk[4 * i + 3])
            if !inverted { k = 255 - k }
            for c in 0..<3 {
                let v = inverted ? Int(cmyk[4 * i + c]) : 255 - Int(cmyk[4 * i + c])
                out[3 * i + c] = UInt8((v * k + 127) / 255)
            }
        }
        return out
    }

    /// True when the file has an APP14 "Adobe" segment among its leading markers.
    static func hasAdobeMarker(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 2
        while i + 4 <= bytes.count, bytes[i] == 0xFF {
            let marker = bytes[i + 1]
            let length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            if marker == 0xDA || length < 2 { return false }
            if marker == 0xEE && i + 9 <= bytes.count && bytes[(i + 4)..<(i + 9)].elementsEqual(Array("Adobe".utf8)) { return true }
            i += 2 + length
        }
        return false
    }

    private func errorText() -> String {
        guard let text = tjGetErrorStr2(handle) else { return "unknown TurboJPEG error" }
        return String(cString: text)
    }
}

private extension String {
    /// libjpeg's wording for truncated data.
    var localizedPremature: Bool { contains("Premature end") }
}

/// What a decoded image will be resized to, so decoders may skip resolution it discards.
public enum DecodeTarget: Sendable, Equatable {
    /// Keep full resolution.
    case full
    /// The result must still cover `width × height` on both axes (centre crop).
    case cover(width: Int, height: Int)
    /// The result will be scaled to fit inside `width × height` (letterbox, display).
    case fit(width: Int, height: Int)

    /// The smallest decoded size that loses nothing, for an image of `width × height`;
    /// nil when full resolution is needed.
    public func minimumSize(width: Int, height: Int) -> (width: Int, height: Int)? {
        switch self {
        case .full:
            return nil
        case .cover(let tw, let th):
            return (tw, th)
        case .fit(let tw, let th):
            guard width > 0, height > 0 else { return nil }
            let s = min(Double(tw) / Double(width), Double(th) / Double(height))
            if s >= 1 { return nil }
            return (Int((s * Double(width)).rounded(.up)), Int((s * Double(height)).rounded(.up)))
        }
    }
}

/// JPEG encoding (exports, test fixtures) through TurboJPEG.
public enum JPEGCodec {
    /// Encodes a grey or RGB image as a baseline JPEG (4:2:0 for RGB) at `quality` 1…100.
    public static func encode(_ raster: RasterImage, quality: Int = 90) throws(DataError) -> [UInt8] {
        guard let handle = tjInitCompress() else { throw DataError(path: "<turbojpeg>", problem: "cannot create a TurboJPEG compressor") }
        defer { tjDestroy(handle) }
        var jpeg: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let format = raster.channels == 3 ? lfosa_tjpf_rgb() : lfosa_tjpf_gray()
        let samp = raster.channels == 3 ? lfosa_tjsamp_420() : lfosa_tjsamp_gray()
        let status = raster.pixels.withUnsafeBufferPointer { px in
            tjCompress2(handle, px.baseAddress, Int32(raster.width), Int32(raster.width * raster.channels), Int32(raster.height),
                        Int32(format), &jpeg, &size, Int32(samp), Int32(max(1, min(100, quality))), 0)
        }
        defer { if let j = jpeg { tjFree(j) } }
        guard status == 0, let j = jpeg else {
            throw DataError(path: "<jpeg encoder>", problem: "cannot encode JPEG: \(String(cString: tjGetErrorStr2(handle)))")
        }
        return Array(UnsafeBufferPointer(start: j, count: Int(size)))
    }
}
