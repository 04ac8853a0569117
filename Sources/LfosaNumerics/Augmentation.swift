/// Training-time augmentation of uint8 images: random crop with zero padding, horizontal flip,
/// small rotation — applied as one inverse affine map with bilinear sampling — and optionally
/// cutout (DeVries & Taylor, 2017): a `cutout` × `cutout` square at a uniformly drawn centre
/// (clipped at the borders) set to 0 after normalisation, i.e. to the normalisation's mean.
public struct Augmentation: Sendable, Equatable {
    public var cropPadding: Int
    public var horizontalFlip: Bool
    public var maxRotationDegrees: Float
    /// Side of the cutout square in pixels (0: none).
    public var cutout: Int

    public init(cropPadding: Int, horizontalFlip: Bool, maxRotationDegrees: Float, cutout: Int = 0) {
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
        self.maxRotationDegrees = maxRotationDegrees
        self.cutout = cutout
    }

    /// The plain image.
    public static let none = Augmentation(cropPadding: 0, horizontalFlip: false, maxRotationDegrees: 0)
    /// The paper's CIFAR augmentation: crop 32 pad 4, flip, rotation ±15°.
    public static let paper = Augmentation(cropPadding: 4, horizontalFlip: true, maxRotationDegrees: 15)
    /// Crop and flip only (cheaper, used by the fast profile).
    public static let cropFlip = Augmentation(cropPadding: 4, horizontalFlip: true, maxRotationDegrees: 0)

    var isIdentity: Bool { cropPadding == 0 && !horizontalFlip && maxRotationDegrees == 0 && cutout == 0 }
}

/// Per-channel input normalisation: (pixel/255 − mean) / std.
public struct Normalization: Sendable, Equatable {
    public var mean: [Float]
    public var std: [Float]
    public init(mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
    }
    /// Maps [0, 255] to roughly [−2, 2] for any channel count.
    public static func centered(channels: Int) -> Normalization {
        Normalization(mean: [Float](repeating: 0.5, count: channels), std: [Float](repeating: 0.25, count: channels))
    }
}

/// How a network's input encodes 8-bit pixels: channel c holds `scale[c]·p + offset[c]` for the
/// pixel value p in 0…255 (`makeBatch`'s normalisation, `Normalization.pixelEncoding`). A first
/// convolution that knows it runs its 8-bit integer products on the pixels themselves.
public struct PixelEncoding: Sendable, Equatable {
    public var scale: [Float]
    public var offset: [Float]
    public init(scale: [Float], offset: [Float]) {
        precondition(scale.count == offset.count, "one scale and one offset per channel")
        self.scale = scale
        self.offset = offset
    }
}

extension Normalization {
    /// The encoding `makeBatch` gives pixels under this normalisation: (p / 255 − mean) / std.
    public var pixelEncoding: PixelEncoding {
        PixelEncoding(scale: std.map { 1 / (255 * $0) }, offset: zip(mean, std).map { -$0 / $1 })
    }
}

/// A whole-pixel translation of a plain image (`makeBatch`'s `shift`).
public struct PixelShift: Sendable, Hashable {
    public var dx: Int
    public var dy: Int
    public init(dx: Int, dy: Int) {
        self.dx = dx
        self.dy = dy
    }
    public static let zero = PixelShift(dx: 0, dy: 0)
}

/// Uint8 images stored planar (CHW per image), back to back.
public struct ImageBatchSource: Sendable {
    public var channels: Int
    public var height: Int
    public var width: Int
    public var pixels: [UInt8]
    public init(channels: Int, height: Int, width: Int, pixels: [UInt8]) {
        precondition(pixels.count % (channels * height * width) == 0)
        self.channels = channels
        self.height = height
        self.width = width
        self.pixels = pixels
    }
    public var count: Int { pixels.count / (channels * height * width) }
    public var imageShape: [Int] { [channels, height, width] }
}

/// Assembles an NCHW float batch from `indices` of `source`, augmenting each image.
///
/// Random parameters are drawn from `rng` in index order before the parallel work, so the
/// batch depends only on the generator's state. `mirrored` (plain images only, with
/// `augmentation` `.none`) takes every image left–right mirrored: the second view of
/// flip-averaged scoring. `shift` (plain images only) moves every image's content by
/// (−dx, −dy) pixels: pixel (x, y) of the shifted image is the image's (x + dx, y + dy), 0
/// outside it as in the crop augmentation's padding; with `mirrored`, the batch holds the
/// shifted image's mirror image — the shifted views of `FlipScoring.candidates` re-scoring.
public func makeBatch(from source: ImageBatchSource, indices: [Int], augmentation: Augmentation,
                      normalization: Normalization, rng: inout SplitMix64, mirrored: Bool = false,
                      shift: PixelShift = .zero) -> Tensor {
    precondition(!(mirrored || shift != .zero) || augmentation.isIdentity, "mirrored and shifted batches are plain images")
    let c = source.channels, h = source.height, w = source.width, plane = h * w, size = c * plane
    struct Params { var dx: Float; var dy: Float; var flip: Bool; var cosA: Float; var sinA: Float; var cutX = 0; var cutY = 0 }
    var params = [Params]()
    if !augmentation.isIdentity {
        params.reserveCapacity(indices.count)
        for _ in indices {
            let p = augmentation.cropPadding
            let dx = p > 0 ? Float(rng.nextInt(below: 2 * p + 1) - p) : 0
            let dy = p > 0 ? Float(rng.nextInt(below: 2 * p + 1) - p) : 0
            let flip = augmentation.horizontalFlip && (rng.next() & 1 == 1)
            var ca: Float = 1, sa: Float = 0
            if augmentation.maxRotationDegrees > 0 {
                let a = Double((rng.nextUnitFloat() * 2 - 1) * augmentation.maxRotationDegrees) * Double.pi / 180
                ca = Float(_cos(a)); sa = Float(_sin(a))
            }
            var q = Params(dx: dx, dy: dy, flip: flip, cosA: ca, sinA: sa)
            if augmentation.cutout > 0 {   // drawn only when on: other augmentations' streams unchanged
                q.cutX = rng.nextInt(below: w)
                q.cutY = rng.nextInt(below: h)
            }
            params.append(q)
        }
    }
    let encoding = normalization.pixelEncoding
    let scale = encoding.scale, offset = encoding.offset
    return Tensor(shape: [indices.count, c, h, w]) { out in
        source.pixels.withUnsafeBufferPointer { px in
            parallelChunks(indices.count, minimumPerWorker: 16) { lo, hi in
                for b in lo..<hi {
                    let src = indices[b] * size, dst = b * size
                    if params.isEmpty && shift != .zero {
                        for ch in 0..<c {
                            let s = scale[ch], o = offset[ch]
                            for y in 0..<h {
                                let row = ch * plane + y * w, sy = y + shift.dy
                                guard sy >= 0 && sy < h else {
                                    for x in 0..<w { out[dst + row + x] = o }
                                    continue
                                }
                                let srcRow = src + ch * plane + sy * w
                                for x in 0..<w {
                                    let sx = (mirrored ? w - 1 - x : x) + shift.dx
                                    out[dst + row + x] = sx >= 0 && sx < w ? Float(px[srcRow + sx]) * s + o : o
                                }
                            }
                        }
                        continue
                    }
                    if params.isEmpty {
                        for ch in 0..<c {
                            let s = scale[ch], o = offset[ch]
                            if mirrored {
                                for y in 0..<h {
                                    let row = ch * plane + y * w
                                    for x in 0..<w { out[dst + row + x] = Float(px[src + row + w - 1 - x]) * s + o }
                                }
                            } else {
                                for k in 0..<plane { out[dst + ch * plane + k] = Float(px[src + ch * plane + k]) * s + o }
                            }
                        }
                        continue
                    }
                    let p = params[b]
                    let cx = Float(w - 1) / 2, cy = Float(h - 1) / 2
                    let pureShift = p.sinA == 0
                    for y in 0..<h {
                        for x in 0..<w {
                            // inverse map: output (x, y) ← source point
                            var fx = Float(x), fy = Float(y)
                            if p.flip { fx = Float(w - 1) - fx }
                            fx += p.dx; fy += p.dy
                            if !pureShift {
                                let rx = fx - cx, ry = fy - cy
                                fx = p.cosA * rx + p.sinA * ry + cx
                                fy = -p.sinA * rx + p.cosA * ry + cy
                            }
                            if pureShift {
                                let ix = Int(fx), iy = Int(fy)
                                let inside = ix >= 0 && ix < w && iy >= 0 && iy < h
                                for ch in 0..<c {
                                    let v: Float = inside ? Float(px[src + ch * plane + iy * w + ix]) : 0
                                    out[dst + ch * plane + y * w + x] = v * scale[ch] + offset[ch]
                                }
                            } else {
                                let x0f = fx.rounded(.down), y0f = fy.rounded(.down)
                                let ax = fx - x0f, ay = fy - y0f
                                let x0 = Int(x0f), y0 = Int(y0f)
                                for ch in 0..<c {
                                    let base = src + ch * plane
                                    @inline(__always) func at(_ xx: Int, _ yy: Int) -> Float {
                                        (xx >= 0 && xx < w && yy >= 0 && yy < h) ? Float(px[base + yy * w + xx]) : 0
                                    }
                                    let v = (1 - ay) * ((1 - ax) * at(x0, y0) + ax * at(x0 + 1, y0))
                                        + ay * ((1 - ax) * at(x0, y0 + 1) + ax * at(x0 + 1, y0 + 1))
                                    out[dst + ch * plane + y * w + x] = v * scale[ch] + offset[ch]
                                }
                            }
                        }
                    }
                    if augmentation.cutout > 0 {
                        let half = augmentation.cutout / 2
                        let y0 = max(0, p.cutY - half), y1 = min(h, p.cutY - half + augmentation.cutout)
                        let x0 = max(0, p.cutX - half), x1 = min(w, p.cutX - half + augmentation.cutout)
                        for ch in 0..<c where y0 < y1 && x0 < x1 {
                            for y in y0..<y1 { for x in x0..<x1 { out[dst + ch * plane + y * w + x] = 0 } }
                        }
                    }
                }
            }
        }
    }
}

/// Rotates every image of an NCHW batch in place by `turns[n]` quarter turns counter-clockwise
/// (0…3). Square images only take odd turns; for H ≠ W only 0 and 2 (a half turn) are valid.
public func rotateQuarterTurns(_ batch: inout Tensor, turns: [Int]) {
    precondition(batch.shape.count == 4 && turns.count == batch.shape[0])
    let c = batch.shape[1], h = batch.shape[2], w = batch.shape[3], plane = h * w
    precondition(turns.allSatisfy { (0..<4).contains($0) && (h == w || $0 % 2 == 0) }, "odd quarter turns need square images")
    batch.data.withUnsafeMutableBufferPointer { data in
        var scratch = [Float](repeating: 0, count: plane)
        for n in 0..<turns.count where turns[n] != 0 {
            let t = turns[n]
            for ch in 0..<c {
                let base = (n * c + ch) * plane
                for k in 0..<plane { scratch[k] = data[base + k] }
                for y in 0..<h {
                    for x in 0..<w {
                        // output (x, y) ← source point of the inverse rotation
                        let sx: Int, sy: Int
                        switch t {
                        case 1: sx = w - 1 - y; sy = x          // 90° counter-clockwise
                        case 2: sx = w - 1 - x; sy = h - 1 - y  // 180°
                        default: sx = y; sy = h - 1 - x         // 270°
                        }
                        data[base + y * w + x] = scratch[sy * w + sx]
                    }
                }
            }
        }
    }
}
