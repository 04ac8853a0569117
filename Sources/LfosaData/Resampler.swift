/// Resizing of decoded images: area averaging when shrinking, bilinear when enlarging.
///
/// Each axis is handled on its own (separable), so an image may be shrunk along one
/// axis and enlarged along the other. Aspect is kept by centre crop or letterbox
/// (`ImageFit`). Pure functions of their inputs.
public enum Resampler {
    /// `image` brought to exactly `policy.width × policy.height`, same channel count.
    public static func resize(_ image: RasterImage, to policy: ResizePolicy) -> RasterImage {
        let tw = policy.width, th = policy.height, c = image.channels
        if image.width == tw && image.height == th { return image }
        var out = [UInt8](repeating: 0, count: tw * th * c)
        let w = image.width, h = image.height
        switch policy.fit {
        case .centreCrop:
            // Largest centred source region with the target aspect (tw/th).
            var cw = w, ch = h
            if w * th > h * tw { cw = max(1, min(w, (h * tw + th / 2) / th)) } else { ch = max(1, min(h, (w * th + tw / 2) / tw)) }
            let source = PixelRect(x: (w - cw) / 2, y: (h - ch) / 2, width: cw, height: ch)
            resample(image, from: source, into: &out, stride: tw, to: PixelRect(x: 0, y: 0, width: tw, height: th))
        case .letterbox:
            var dw = tw, dh = th
            if w * th > h * tw { dh = max(1, min(th, (h * tw + w / 2) / w)) } else { dw = max(1, min(tw, (w * th + h / 2) / h)) }
            let target = PixelRect(x: (tw - dw) / 2, y: (th - dh) / 2, width: dw, height: dh)
            resample(image, from: PixelRect(x: 0, y: 0, width: w, height: h), into: &out, stride: tw, to: target)
        }
        return RasterImage(width: tw, height: th, channels: c, pixels: out)
    }

    /// `image` scaled to fit inside `maxWidth × maxHeight` keeping its aspect (never padded).
    ///
    /// Images already inside the box are enlarged only if `enlarge` is true.
    public static func fit(_ image: RasterImage, maxWidth: Int, maxHeight: Int, enlarge: Bool = true) -> RasterImage {
        precondition(maxWidth > 0 && maxHeight > 0)
        let w = image.width, h = image.height
        if !enlarge && w <= maxWidth && h <= maxHeight { return image }
        var dw = maxWidth, dh = maxHeight
        if w * maxHeight > h * maxWidth { dh = max(1, (h * maxWidth + w / 2) / w) } else { dw = max(1, (w * maxHeight + h / 2) / h) }
        return resize(image, to: ResizePolicy(width: dw, height: dh, fit: .centreCrop))
    }

    /// Resamples the `source` rectangle of `image` into the `target` rectangle of `out`
    /// (interleaved, `stride` pixels per row, same channel count).
    static func resample(_ image: RasterImage, from source: PixelRect, into out: inout [UInt8], stride: Int, to target: PixelRect) {
        let c = image.channels
        let hw = ResampleWeights(source: source.width, destination: target.width)
        let vw = ResampleWeights(source: source.height, destination: target.height)
        let rowFloats = target.width * c
        var tmp = [Float](repeating: 0, count: source.height * rowFloats)
        image.pixels.withUnsafeBufferPointer { src in
            tmp.withUnsafeMutableBufferPointer { t in
                for r in 0..<source.height {
                    let rowBase = ((source.y + r) * image.width + source.x) * c
                    let tBase = r * rowFloats
                    for ox in 0..<target.width {
                        let start = Int(hw.starts[ox]), n = Int(hw.counts[ox]), wo = Int(hw.offsets[ox])
                        for ch in 0..<c {
                            var acc: Float = 0
                            for k in 0..<n {
                                acc += hw.weights[wo + k] * Float(src[rowBase + (start + k) * c + ch])
                            }
                            t[tBase + ox * c + ch] = acc
                        }
                    }
                }
            }
        }
        var acc = [Float](repeating: 0, count: rowFloats)
        tmp.withUnsafeBufferPointer { t in
            out.withUnsafeMutableBufferPointer { o in
                for oy in 0..<target.height {
                    for i in 0..<rowFloats { acc[i] = 0 }
                    let start = Int(vw.starts[oy]), n = Int(vw.counts[oy]), wo = Int(vw.offsets[oy])
                    for k in 0..<n {
                        let weight = vw.weights[wo + k]
                        let base = (start + k) * rowFloats
                        for i in 0..<rowFloats { acc[i] += weight * t[base + i] }
                    }
                    let oBase = ((target.y + oy) * stride + target.x) * c
                    for i in 0..<rowFloats {
                        let v = (acc[i] + 0.5).rounded(.down)
                        o[oBase + i] = UInt8(max(0, min(255, v)))
                    }
                }
            }
        }
    }
}

/// An integer pixel rectangle.
struct PixelRect: Equatable {
    var x: Int, y: Int, width: Int, height: Int
}

/// Per-output source taps and weights for one axis.
///
/// Shrinking: each output covers `[o·s, (o+1)·s)` of the source (s = source/destination)
/// and each source pixel is weighted by its overlap (area averaging). Enlarging or equal:
/// bilinear between the two nearest source centres (half-pixel aligned, clamped).
/// Weights of each output sum to 1.
struct ResampleWeights {
    var starts: [Int32] = []
    var counts: [Int32] = []
    var offsets: [Int32] = []
    var weights: [Float] = []

    init(source: Int, destination: Int) {
        precondition(source > 0 && destination > 0)
        starts.reserveCapacity(destination)
        let scale = Double(source) / Double(destination)
        for o in 0..<destination {
            offsets.append(Int32(weights.count))
            if source == destination {
                starts.append(Int32(o)); counts.append(1); weights.append(1)
            } else if source > destination {
                let a = Double(o) * scale, b = min(Double(source), Double(o + 1) * scale)
                let first = Int(a.rounded(.down)), last = min(source, Int(b.rounded(.up)))
                starts.append(Int32(first))
                var n: Int32 = 0
                for i in first..<last {
                    let overlap = min(b, Double(i + 1)) - max(a, Double(i))
                    weights.append(Float(max(0, overlap) / scale)); n += 1
                }
                counts.append(n)
            } else {
                let x = min(max((Double(o) + 0.5) * scale - 0.5, 0), Double(source - 1))
                let i0 = Int(x.rounded(.down)), f = x - Double(i0)
                starts.append(Int32(i0))
                if i0 + 1 < source && f > 0 {
                    counts.append(2); weights.append(Float(1 - f)); weights.append(Float(f))
                } else {
                    counts.append(1); weights.append(1)
                }
            }
        }
    }
}
