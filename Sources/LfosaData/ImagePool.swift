/// A pool of same-size uint8 images, the form the engine and the terminal consume.
///
/// `pixels` holds `count × channels × height × width` samples, planar per image (CHW),
/// row-major. All per-item arrays (`labels`, `identities`, `paths`) have `count` entries.
public struct ImagePool: Sendable, Equatable {
    /// 1 (grey, e.g. Fashion-MNIST) or 3 (RGB).
    public var channels: Int
    public var height: Int
    public var width: Int
    /// count × channels × height × width, planar per image (CHW), row-major.
    public var pixels: [UInt8]
    /// Ground-truth class id per item, nil when unknown.
    public var labels: [Int?]
    /// Index = class id.
    public var classNames: [String]
    /// Stable content hash (16 hex digits) per item.
    public var identities: [String]
    /// Source file per item; nil for packed formats (CIFAR, IDX).
    public var paths: [String?]
    /// CIFAR-100 coarse (superclass) id per item, when the format has one.
    public var coarseLabels: [Int]?
    /// CIFAR-100 coarse class names, index = coarse id.
    public var coarseClassNames: [String]?

    public init(channels: Int, height: Int, width: Int, pixels: [UInt8], labels: [Int?], classNames: [String],
                identities: [String], paths: [String?], coarseLabels: [Int]? = nil, coarseClassNames: [String]? = nil) {
        let n = labels.count
        precondition(channels == 1 || channels == 3, "channels must be 1 or 3")
        precondition(pixels.count == n * channels * height * width, "pixels do not match count × C × H × W")
        precondition(identities.count == n && paths.count == n, "per-item arrays differ in length")
        precondition(coarseLabels == nil || coarseLabels!.count == n)
        self.channels = channels
        self.height = height
        self.width = width
        self.pixels = pixels
        self.labels = labels
        self.classNames = classNames
        self.identities = identities
        self.paths = paths
        self.coarseLabels = coarseLabels
        self.coarseClassNames = coarseClassNames
    }

    /// An empty pool of the given geometry.
    public static func empty(channels: Int, height: Int, width: Int, classNames: [String] = []) -> ImagePool {
        ImagePool(channels: channels, height: height, width: width, pixels: [], labels: [], classNames: classNames, identities: [], paths: [])
    }

    public var count: Int { labels.count }
    /// Samples per image: channels × height × width.
    public var imageSize: Int { channels * height * width }

    /// The CHW samples of item `i`.
    public func image(at i: Int) -> ArraySlice<UInt8> {
        precondition(i >= 0 && i < count, "item index out of range")
        return pixels[(i * imageSize)..<((i + 1) * imageSize)]
    }

    /// Item `i` as an interleaved (HWC) raster with the pool's channel count.
    public func raster(at i: Int) -> RasterImage {
        let plane = height * width
        let base = i * imageSize
        var out = [UInt8](repeating: 0, count: imageSize)
        pixels.withUnsafeBufferPointer { p in
            for y in 0..<plane { for c in 0..<channels { out[y * channels + c] = p[base + c * plane + y] } }
        }
        return RasterImage(width: width, height: height, channels: channels, pixels: out)
    }

    /// Number of items per class id (index = class id); unlabeled items are not counted.
    public func classCounts() -> [Int] {
        var counts = [Int](repeating: 0, count: classNames.count)
        for case let l? in labels where l >= 0 && l < counts.count { counts[l] += 1 }
        return counts
    }

    /// Number of items with no ground truth.
    public var unlabeledCount: Int { labels.reduce(0) { $0 + ($1 == nil ? 1 : 0) } }

    /// The pool restricted to `indices`, in that order.
    public func subset(_ indices: [Int]) -> ImagePool {
        var px = [UInt8]()
        px.reserveCapacity(indices.count * imageSize)
        for i in indices { px.append(contentsOf: image(at: i)) }
        return ImagePool(channels: channels, height: height, width: width, pixels: px,
                         labels: indices.map { labels[$0] }, classNames: classNames,
                         identities: indices.map { identities[$0] }, paths: indices.map { paths[$0] },
                         coarseLabels: coarseLabels.map { c in indices.map { c[$0] } }, coarseClassNames: coarseClassNames)
    }
}

/// A size an original image had, and how many images had it.
public struct SizeCount: Sendable, Equatable, Hashable {
    public var width: Int
    public var height: Int
    public var count: Int

    public init(width: Int, height: Int, count: Int) {
        self.width = width
        self.height = height
        self.count = count
    }
}

/// Everything loading a source produced: pools, what was skipped, and provenance.
public struct LoadedDataset: Sendable, Equatable {
    /// The training (or only) pool.
    public var train: ImagePool
    /// The test pool, when the format has a train/test split.
    public var test: ImagePool?
    /// "image-folder", "csv", "cifar10", "cifar100" or "idx".
    public var format: String
    /// Files found but not used, each with the reason.
    public var skipped: [SkippedFile]
    /// The path the source was read from.
    public var path: String
    /// Original image sizes before resizing, most common first.
    public var originalSizes: [SizeCount]
    /// The resize policy applied (nil for packed formats that keep their native size).
    public var resize: ResizePolicy?
    /// True when the pools came from the decode cache.
    public var fromCache: Bool

    public init(train: ImagePool, test: ImagePool?, format: String, skipped: [SkippedFile], path: String,
                originalSizes: [SizeCount], resize: ResizePolicy?, fromCache: Bool = false) {
        self.train = train
        self.test = test
        self.format = format
        self.skipped = skipped
        self.path = path
        self.originalSizes = originalSizes
        self.resize = resize
        self.fromCache = fromCache
    }
}
