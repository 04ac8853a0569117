/// The kinds of dataset source LfosaData reads.
public enum SourceFormat: String, Sendable, CaseIterable {
    case imageFolder = "folder"
    case csv
    case cifar10
    case cifar100
    case idx

    /// The name used in `LoadedDataset.format`.
    public var displayName: String { self == .imageFolder ? "image-folder" : rawValue }
}

/// A dataset source: a format and a path.
///
/// Built from a user's spec by `Source.parse`: the format is detected from the path, or
/// forced with a prefix (`folder:`, `csv:`, `cifar10:`, `cifar100:`, `idx:`, `mnist:`,
/// `fashion-mnist:`). `fashion-mnist` alone means Debian's `dataset-fashion-mnist` files.
public struct Source: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var format: SourceFormat
    public var path: String

    public init(format: SourceFormat, path: String) {
        self.format = format
        self.path = path
    }

    public var description: String { "\(format.rawValue):\(path)" }

    private static let prefixes: [(String, SourceFormat)] = [
        ("folder", .imageFolder), ("csv", .csv), ("cifar10", .cifar10), ("cifar100", .cifar100),
        ("idx", .idx), ("mnist", .idx), ("fashion-mnist", .idx),
    ]

    /// Parses a user's source spec; throws when the path does not exist or its format
    /// cannot be told.
    public static func parse(_ spec: String) throws(DataError) -> Source {
        if spec == "fashion-mnist" || spec == "fashion-mnist:" {
            let dir = IDXReader.debianFashionDirectory
            guard FileAccess.isDirectory(dir) else {
                throw DataError(path: dir, problem: "not found (install the Debian package dataset-fashion-mnist, or give fashion-mnist:PATH)")
            }
            return Source(format: .idx, path: dir)
        }
        if let colon = spec.firstIndex(of: ":") {
            let prefix = spec[..<colon].lowercased()
            if let format = prefixes.first(where: { $0.0 == prefix })?.1 {
                let path = String(spec[spec.index(after: colon)...])
                if path.isEmpty { throw DataError(path: spec, problem: "no path after \(prefix):") }
                if case .failure(let error) = FileAccess.status(path) { throw error }
                return Source(format: format, path: path)
            }
        }
        return try detect(spec)
    }

    /// The format of an existing path, judged from its kind, names and first bytes.
    public static func detect(_ path: String) throws(DataError) -> Source {
        let st: stat
        switch FileAccess.status(path) {
        case .success(let s): st = s
        case .failure(let e): throw e
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            let has = { (name: String) in FileAccess.isRegularFile(FileAccess.join(path, name)) }
            if has("data_batch_1.bin") || has("test_batch.bin") { return Source(format: .cifar10, path: path) }
            if has("train.bin") && (has("test.bin") || has("fine_label_names.txt")) { return Source(format: .cifar100, path: path) }
            if IDXReader.find(path, "train-images-idx3-ubyte") != nil { return Source(format: .idx, path: path) }
            return Source(format: .imageFolder, path: path)
        }
        let lower = path.lowercased()
        if lower.hasSuffix(".csv") { return Source(format: .csv, path: path) }
        if lower.hasSuffix("-idx3-ubyte") || lower.hasSuffix("-idx3-ubyte.gz") { return Source(format: .idx, path: path) }
        throw DataError(path: path, problem: "cannot tell the dataset format of this file; give a directory, a .csv manifest, an *-idx3-ubyte[.gz] file, or force one with folder:, csv:, cifar10:, cifar100:, idx:")
    }
}

#if canImport(Glibc)
import Glibc
#endif
