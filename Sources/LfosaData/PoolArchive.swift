/// Binary form of a `LoadedDataset` for the decode cache.
///
/// Little-endian, length-prefixed; `decode` checks every length against the bytes left
/// and every invariant `ImagePool` relies on, so a corrupt archive yields nil, never a trap.
enum PoolArchive {
    static func encode(_ d: LoadedDataset) -> [UInt8] {
        var w = ByteWriter()
        w.string(d.format)
        w.string(d.path)
        if let r = d.resize { w.u8(1); w.u64(UInt64(r.width)); w.u64(UInt64(r.height)); w.string(r.fit.rawValue) } else { w.u8(0) }
        w.u64(UInt64(d.originalSizes.count))
        for s in d.originalSizes { w.u64(UInt64(s.width)); w.u64(UInt64(s.height)); w.u64(UInt64(s.count)) }
        w.u64(UInt64(d.skipped.count))
        for s in d.skipped { w.string(s.path); w.string(s.reason) }
        pool(d.train, &w)
        if let t = d.test { w.u8(1); pool(t, &w) } else { w.u8(0) }
        return w.bytes
    }

    static func decode(_ bytes: ArraySlice<UInt8>) -> LoadedDataset? {
        var r = ByteReader(bytes)
        guard let format = r.string(), let path = r.string(), let hasResize = r.u8() else { return nil }
        var resize: ResizePolicy? = nil
        if hasResize == 1 {
            guard let w = r.int(), let h = r.int(), w > 0, h > 0, let f = r.string(), let fit = ImageFit(rawValue: f) else { return nil }
            resize = ResizePolicy(width: w, height: h, fit: fit)
        }
        guard let nSizes = r.count(minimumBytesEach: 24) else { return nil }
        var sizes: [SizeCount] = []
        for _ in 0..<nSizes {
            guard let w = r.int(), let h = r.int(), let c = r.int() else { return nil }
            sizes.append(SizeCount(width: w, height: h, count: c))
        }
        guard let nSkipped = r.count(minimumBytesEach: 16) else { return nil }
        var skipped: [SkippedFile] = []
        for _ in 0..<nSkipped {
            guard let p = r.string(), let reason = r.string() else { return nil }
            skipped.append(SkippedFile(path: p, reason: reason))
        }
        guard let train = pool(&r), let hasTest = r.u8() else { return nil }
        var test: ImagePool? = nil
        if hasTest == 1 { guard let t = pool(&r) else { return nil }; test = t }
        guard r.atEnd else { return nil }
        return LoadedDataset(train: train, test: test, format: format, skipped: skipped, path: path,
                             originalSizes: sizes, resize: resize, fromCache: true)
    }

    private static func pool(_ p: ImagePool, _ w: inout ByteWriter) {
        w.u64(UInt64(p.channels)); w.u64(UInt64(p.height)); w.u64(UInt64(p.width)); w.u64(UInt64(p.count))
        w.raw(p.pixels)
        for l in p.labels { w.u64(l.map { UInt64($0) } ?? UInt64.max) }
        w.u64(UInt64(p.classNames.count)); for n in p.classNames { w.string(n) }
        for id in p.identities { w.string(id) }
        for path in p.paths { if let path { w.u8(1); w.string(path) } else { w.u8(0) } }
        if let c = p.coarseLabels, let names = p.coarseClassNames {
            w.u8(1)
            for l in c { w.u64(UInt64(l)) }
            w.u64(UInt64(names.count)); for n in names { w.string(n) }
        } else { w.u8(0) }
    }

    private static func pool(_ r: inout ByteReader) -> ImagePool? {
        guard let c = r.int(), c == 1 || c == 3, let h = r.int(), let w = r.int(), let n = r.int(),
              h > 0, w > 0, h <= 1 << 16, w <= 1 << 16, n <= 1 << 31 else { return nil }
        let (size, o1) = (c * h * w).multipliedReportingOverflow(by: n)
        guard !o1, let pixels = r.raw(size) else { return nil }
        guard r.remaining >= n * 8 else { return nil }
        var labels: [Int?] = []
        labels.reserveCapacity(n)
        for _ in 0..<n {
            guard let v = r.u64() else { return nil }
            labels.append(v == UInt64.max ? nil : (v < UInt64(Int32.max) ? Int(v) : -1))
        }
        guard let nNames = r.count(minimumBytesEach: 8) else { return nil }
        var names: [String] = []
        for _ in 0..<nNames { guard let s = r.string() else { return nil }; names.append(s) }
        guard !labels.contains(where: { $0 != nil && ($0! < 0 || $0! >= names.count) }) else { return nil }
        guard r.remaining >= n * 8 else { return nil }
        var ids: [String] = []
        ids.reserveCapacity(n)
        for _ in 0..<n { guard let s = r.string() else { return nil }; ids.append(s) }
        var paths: [String?] = []
        paths.reserveCapacity(n)
        for _ in 0..<n {
            guard let flag = r.u8() else { return nil }
            if flag == 1 { guard let s = r.string() else { return nil }; paths.append(s) } else { paths.append(nil) }
        }
        guard let hasCoarse = r.u8() else { return nil }
        var coarse: [Int]? = nil, coarseNames: [String]? = nil
        if hasCoarse == 1 {
            guard r.remaining >= n * 8 else { return nil }
            var values: [Int] = []
            for _ in 0..<n { guard let v = r.int() else { return nil }; values.append(v) }
            guard let k = r.count(minimumBytesEach: 8) else { return nil }
            var cn: [String] = []
            for _ in 0..<k { guard let s = r.string() else { return nil }; cn.append(s) }
            coarse = values; coarseNames = cn
        }
        return ImagePool(channels: c, height: h, width: w, pixels: pixels, labels: labels, classNames: names,
                         identities: ids, paths: paths, coarseLabels: coarse, coarseClassNames: coarseNames)
    }
}

/// Appends little-endian values to a byte array.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }
    mutating func string(_ s: String) { let u = Array(s.utf8); u64(UInt64(u.count)); bytes.append(contentsOf: u) }
}

/// Reads little-endian values; every accessor returns nil instead of reading past the end.
struct ByteReader {
    private let bytes: ArraySlice<UInt8>
    private var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    var remaining: Int { bytes.endIndex - position }
    var atEnd: Bool { position == bytes.endIndex }

    mutating func u8() -> UInt8? {
        guard remaining >= 1 else { return nil }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func u64() -> UInt64? {
        guard remaining >= 8 else { return nil }
        let v = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: position - bytes.startIndex, as: UInt64.self)) }
        position += 8
        return v
    }

    /// A non-negative Int that fits comfortably (below 2⁴⁸).
    mutating func int() -> Int? {
        guard let v = u64(), v < 1 << 48 else { return nil }
        return Int(v)
    }

    /// An element count whose elements need at least `minimumBytesEach` bytes each.
    mutating func count(minimumBytesEach: Int) -> Int? {
        guard let n = int(), n <= remaining / max(1, minimumBytesEach) else { return nil }
        return n
    }

    mutating func raw(_ n: Int) -> [UInt8]? {
        guard n >= 0, remaining >= n else { return nil }
        defer { position += n }
        return Array(bytes[position..<(position + n)])
    }

    mutating func string() -> String? {
        guard let n = int(), n <= remaining, let u = raw(n) else { return nil }
        return String(validating: u, as: UTF8.self)
    }
}
