/// How a source is loaded: target size, limits, cache and parallelism.
public struct LoadOptions: Sendable, Equatable {
    /// Size and aspect policy for image folders and CSV manifests (packed formats keep their size).
    public var resize: ResizePolicy
    public var limits: DecodeLimits
    /// Where decoded pools are cached; nil disables the cache.
    public var cacheDirectory: String?
    /// Decoding threads (default: all online cores).
    public var workers: Int

    public init(resize: ResizePolicy = ResizePolicy(), limits: DecodeLimits = .default, cacheDirectory: String? = nil, workers: Int = 0) {
        self.resize = resize
        self.limits = limits
        self.cacheDirectory = cacheDirectory
        self.workers = workers > 0 ? workers : ParallelWork.processorCount
    }
}

/// Loads any `Source` into pools, through the decode cache when one is configured.
///
/// A source that cannot be used at all throws one `DataError`; single bad files inside a
/// folder or manifest are skipped and listed in `LoadedDataset.skipped`.
public enum DatasetLoader {
    /// Parses `spec` (see `Source.parse`) and loads it.
    public static func load(spec: String, options: LoadOptions = LoadOptions()) throws(DataError) -> LoadedDataset {
        try load(Source.parse(spec), options: options)
    }

    /// Loads `source`.
    public static func load(_ source: Source, options: LoadOptions = LoadOptions()) throws(DataError) -> LoadedDataset {
        switch source.format {
        case .cifar10, .cifar100:
            let variant: CIFARVariant = source.format == .cifar10 ? .cifar10 : .cifar100
            // Not cached: reading the packed records is as fast as reading a cache file would be.
            if FileAccess.isRegularFile(source.path) {
                let names = variant == .cifar10 ? CIFARReader.cifar10Names : (0..<100).map { "class_\($0)" }
                let pool = try CIFARReader.loadFiles([source.path], variant: variant, classNames: names,
                                                     coarseNames: variant == .cifar100 ? (0..<20).map { "superclass_\($0)" } : nil)
                return LoadedDataset(train: pool, test: nil, format: variant.rawValue, skipped: [], path: source.path,
                                     originalSizes: [SizeCount(width: 32, height: 32, count: pool.count)], resize: nil)
            }
            return try CIFARReader.load(directory: source.path, variant: variant)
        case .idx:
            return try cached(source, options, files: packedFiles(source.path)) { () throws(DataError) in
                try IDXReader.load(path: source.path, limits: options.limits)
            }
        case .imageFolder:
            let scan = try ImageFolderScan.scan(source.path)
            let classNames = Array(Set(scan.files.compactMap(\.className))).sorted()
            let ids = Dictionary(uniqueKeysWithValues: classNames.enumerated().map { ($1, $0) })
            let items = scan.files.map { ImageFilePool.Item(path: $0.path, label: $0.className.flatMap { ids[$0] }) }
            var fp = Fingerprint()
            for f in scan.files { fp.add(f.path); fp.add(f.size); fp.add(Int(f.modified)); fp.add(f.inode); fp.add(f.className ?? "") }
            fp.add(scan.skipped.count)
            for s in scan.skipped { fp.add(s.path); fp.add(s.reason) }
            return try cached(source, options, key: fp.value) { () throws(DataError) in
                if scan.files.isEmpty {
                    throw DataError(path: source.path, problem: "no PNG or JPEG images found" + (scan.skipped.isEmpty ? " (empty directory)" : " (\(scan.skipped.count) other \(scan.skipped.count == 1 ? "entry" : "entries") skipped)"))
                }
                return try decodeFiles(items, classNames: classNames, preSkipped: scan.skipped, source: source, options: options)
            }
        case .csv:
            let bytes = try FileAccess.read(source.path, maxBytes: 256 << 20)
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw DataError(path: source.path, problem: "manifest is not valid UTF-8 text")
            }
            let parsed = CSVManifest.parse(text, manifestPath: source.path)
            let classNames = Array(Set(parsed.entries.compactMap(\.label))).sorted()
            let ids = Dictionary(uniqueKeysWithValues: classNames.enumerated().map { ($1, $0) })
            let items = parsed.entries.map { ImageFilePool.Item(path: $0.path, label: $0.label.flatMap { ids[$0] }) }
            var fp = Fingerprint()
            fp.add(ContentHash.xxh64(bytes))
            for item in items { fp.addFile(item.path) }
            return try cached(source, options, key: fp.value) { () throws(DataError) in
                if items.isEmpty { throw DataError(path: source.path, problem: "manifest lists no images") }
                return try decodeFiles(items, classNames: classNames, preSkipped: parsed.skipped, source: source, options: options)
            }
        }
    }

    private static func decodeFiles(_ items: [ImageFilePool.Item], classNames: [String], preSkipped: [SkippedFile],
                                    source: Source, options: LoadOptions) throws(DataError) -> LoadedDataset {
        let out = ImageFilePool.build(items, classNames: classNames, policy: options.resize, limits: options.limits, workers: options.workers)
        if out.pool.count == 0 {
            let first = out.skipped.first.map { " (first: \($0.description))" } ?? ""
            throw DataError(path: source.path, problem: "none of the \(items.count) image files could be decoded\(first)")
        }
        return LoadedDataset(train: out.pool, test: nil, format: source.format.displayName, skipped: preSkipped + out.skipped,
                             path: source.path, originalSizes: out.sizes, resize: options.resize)
    }

    /// Regular files of a packed source: the file itself, or a directory's direct entries.
    private static func packedFiles(_ path: String) -> [String] {
        guard FileAccess.isDirectory(path), let dir = opendir(path) else { return [path] }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if !name.hasPrefix(".") { names.append(name) }
        }
        closedir(dir)
        return names.sorted().map { FileAccess.join(path, $0) }
    }

    private static func cached(_ source: Source, _ options: LoadOptions, files: [String],
                               build: () throws(DataError) -> LoadedDataset) throws(DataError) -> LoadedDataset {
        var fp = Fingerprint()
        for f in files { fp.addFile(f) }
        return try cached(source, options, key: fp.value, build: build)
    }

    private static func cached(_ source: Source, _ options: LoadOptions, key: UInt64,
                               build: () throws(DataError) -> LoadedDataset) throws(DataError) -> LoadedDataset {
        guard let directory = options.cacheDirectory else { return try build() }
        let cache = DecodeCache(directory: directory)
        var slotPrint = Fingerprint()
        slotPrint.add(source.format.rawValue)
        slotPrint.add(absolute(source.path))
        if source.format == .imageFolder || source.format == .csv {
            slotPrint.add(options.resize.width); slotPrint.add(options.resize.height); slotPrint.add(options.resize.fit.rawValue)
            slotPrint.add(options.limits.maxPixels); slotPrint.add(options.limits.maxFileBytes)
        }
        let slot = slotPrint.value
        if let hit = cache.load(slot: slot, key: key) { return hit }
        let built = try build()
        // A cache that cannot be written only costs time next start; the data is still good.
        try? cache.store(built, slot: slot, key: key)
        return built
    }

    private static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        guard let cwd = getcwd(nil, 0) else { return path }
        defer { free(cwd) }
        return FileAccess.join(String(cString: cwd), path)
    }
}

#if canImport(Glibc)
import Glibc
#endif
