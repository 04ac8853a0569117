import Foundation

/// Reader for IDX files (MNIST, Fashion-MNIST), gzipped or not.
///
/// Only unsigned-byte data (type 0x08) is supported. Images are `idx3` (count × rows ×
/// cols) and stay 1 × rows × cols; labels are `idx1`. A wrong magic, a size that does
/// not match the header, or a label count different from the image count is an error for
/// the whole source.
public enum IDXReader {
    public static let fashionNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    /// Where Debian's `dataset-fashion-mnist` package installs its files.
    public static let debianFashionDirectory = "/usr/share/datasets/fashion-mnist"

    /// The dimensions of an IDX file and where its data starts.
    public struct Header: Sendable, Equatable {
        public var dimensions: [Int]
        public var dataOffset: Int
        public var elementCount: Int
    }

    /// Parses and validates the IDX header of `bytes` (already decompressed).
    public static func header(_ bytes: [UInt8], path: String) throws(DataError) -> Header {
        if bytes.isEmpty { throw DataError(path: path, problem: "empty file (0 bytes)") }
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else {
            throw DataError(path: path, problem: "not an IDX file (wrong magic)")
        }
        guard bytes[2] == 0x08 else {
            throw DataError(path: path, problem: "IDX element type \(hexByte(bytes[2])) is not supported (only unsigned bytes, 0x08)")
        }
        let ndims = Int(bytes[3])
        guard ndims >= 1 && ndims <= 4 else { throw DataError(path: path, problem: "IDX file has \(ndims) dimensions (expected 1 to 4)") }
        let offset = 4 + 4 * ndims
        guard bytes.count >= offset else { throw DataError(path: path, problem: "truncated IDX header") }
        var dims: [Int] = []
        var total = 1
        for d in 0..<ndims {
            let b = 4 + 4 * d
            let v = Int(bytes[b]) << 24 | Int(bytes[b + 1]) << 16 | Int(bytes[b + 2]) << 8 | Int(bytes[b + 3])
            dims.append(v)
            let (p, o) = total.multipliedReportingOverflow(by: v)
            if o || p > Int(UInt32.max) * 16 { throw DataError(path: path, problem: "IDX dimensions \(dims) are absurd") }
            total = p
        }
        guard bytes.count - offset == total else {
            throw DataError(path: path, problem: "IDX header announces \(total) bytes of data (\(dims.map(String.init).joined(separator: "×"))) but the file holds \(bytes.count - offset) (truncated or corrupt)")
        }
        return Header(dimensions: dims, dataOffset: offset, elementCount: total)
    }

    /// Builds a pool from an images file (idx3) and an optional labels file (idx1), both
    /// already decompressed.
    public static func pool(images: [UInt8], imagesPath: String, labels: [UInt8]?, labelsPath: String?, classNames: [String]? = nil) throws(DataError) -> ImagePool {
        let h = try header(images, path: imagesPath)
        guard h.dimensions.count == 3 else {
            throw DataError(path: imagesPath, problem: "IDX images file must have 3 dimensions (count×rows×cols), this one has \(h.dimensions.count)")
        }
        let n = h.dimensions[0], rows = h.dimensions[1], cols = h.dimensions[2]
        guard rows > 0 && cols > 0 && rows <= 1 << 15 && cols <= 1 << 15 else {
            throw DataError(path: imagesPath, problem: "IDX images are \(rows)×\(cols) pixels (each side must be 1…32768)")
        }
        guard n > 0 else { throw DataError(path: imagesPath, problem: "IDX images file holds no images") }
        var labelValues = [Int?](repeating: nil, count: n)
        var maxLabel = -1
        if let labels, let labelsPath {
            let lh = try header(labels, path: labelsPath)
            guard lh.dimensions.count == 1 else {
                throw DataError(path: labelsPath, problem: "IDX labels file must have 1 dimension, this one has \(lh.dimensions.count)")
            }
            guard lh.dimensions[0] == n else {
                throw DataError(path: labelsPath, problem: "holds \(lh.dimensions[0]) labels but \(imagesPath) holds \(n) images")
            }
            for i in 0..<n {
                let l = Int(labels[lh.dataOffset + i])
                labelValues[i] = l
                maxLabel = max(maxLabel, l)
            }
        }
        let names = classNames ?? defaultNames(classCount: maxLabel + 1, path: imagesPath)
        if maxLabel >= names.count {
            throw DataError(path: labelsPath ?? imagesPath, problem: "label \(maxLabel) is out of range for \(names.count) classes")
        }
        let size = rows * cols
        let pixels = Array(images[h.dataOffset..<(h.dataOffset + n * size)])
        let hashes = parallelHashes(pixels, count: n, size: size)
        return ImagePool(channels: 1, height: rows, width: cols, pixels: pixels, labels: labelValues, classNames: names,
                         identities: hashes.map(ContentHash.hex), paths: [String?](repeating: nil, count: n))
    }

    /// Reads an IDX file, gunzipping it when it starts with the gzip magic.
    public static func readFile(_ path: String, limits: DecodeLimits = .default) throws(DataError) -> [UInt8] {
        let raw = try FileAccess.read(path, maxBytes: limits.maxInflatedBytes)
        return Gzip.isGzip(raw) ? try Gzip.inflate(raw, path: path, maxBytes: limits.maxInflatedBytes) : raw
    }

    /// Loads an IDX source: a directory with `train-images-idx3-ubyte[.gz]` etc. (and
    /// optionally `t10k-*` for the test split), or a single images file whose labels file
    /// is found by replacing `images-idx3` with `labels-idx1` in its name.
    public static func load(path: String, limits: DecodeLimits = .default) throws(DataError) -> LoadedDataset {
        let isFashion = path.lowercased().contains("fashion")
        let names: [String]? = isFashion ? fashionNames : nil
        if FileAccess.isDirectory(path) {
            guard let trainImages = find(path, "train-images-idx3-ubyte") else {
                throw DataError(path: path, problem: "no train-images-idx3-ubyte[.gz] in this directory (not an IDX dataset directory)")
            }
            let train = try loadPair(images: trainImages, labels: find(path, "train-labels-idx1-ubyte"), names: names, limits: limits)
            var test: ImagePool? = nil
            if let testImages = find(path, "t10k-images-idx3-ubyte") {
                test = try loadPair(images: testImages, labels: find(path, "t10k-labels-idx1-ubyte"), names: names ?? train.classNames, limits: limits)
            }
            return LoadedDataset(train: train, test: test, format: "idx", skipped: [], path: path,
                                 originalSizes: [SizeCount(width: train.width, height: train.height, count: train.count + (test?.count ?? 0))], resize: nil)
        }
        let labelsPath = path.replacingFirst("images-idx3", with: "labels-idx1")
        let labels = labelsPath != path && FileAccess.isRegularFile(labelsPath) ? labelsPath : nil
        let train = try loadPair(images: path, labels: labels, names: names, limits: limits)
        return LoadedDataset(train: train, test: nil, format: "idx", skipped: [], path: path,
                             originalSizes: [SizeCount(width: train.width, height: train.height, count: train.count)], resize: nil)
    }

    static func loadPair(images: String, labels: String?, names: [String]?, limits: DecodeLimits) throws(DataError) -> ImagePool {
        let imageBytes = try readFile(images, limits: limits)
        let labelBytes = try labels.map { (p) throws(DataError) in try readFile(p, limits: limits) }
        return try pool(images: imageBytes, imagesPath: images, labels: labelBytes, labelsPath: labels, classNames: names)
    }

    /// XXH64 of each of the `count` consecutive `size`-byte images in `pixels`.
    static func parallelHashes(_ pixels: [UInt8], count n: Int, size: Int) -> [UInt64] {
        if n == 0 { return [] }
        var hashes = [UInt64](repeating: 0, count: n)
        pixels.withUnsafeBufferPointer { src in
            hashes.withUnsafeMutableBufferPointer { hb in
                let s = SharedBuffer(base: UnsafeMutablePointer(mutating: src.baseAddress!), count: src.count)
                let hs = SharedBuffer(base: hb.baseAddress!, count: n)
                ParallelWork.forEachChunk(count: n) { _, range in
                    for i in range { hs[i] = ContentHash.xxh64(UnsafeRawBufferPointer(start: s.base + i * size, count: size)) }
                }
            }
        }
        return hashes
    }

    static func find(_ directory: String, _ stem: String) -> String? {
        for name in [stem, stem + ".gz"] {
            let p = FileAccess.join(directory, name)
            if FileAccess.isRegularFile(p) { return p }
        }
        return nil
    }

    static func defaultNames(classCount: Int, path: String) -> [String] {
        if classCount <= 0 { return [] }
        if path.lowercased().contains("fashion") && classCount <= 10 { return fashionNames }
        return (0..<classCount).map(String.init)
    }
}
