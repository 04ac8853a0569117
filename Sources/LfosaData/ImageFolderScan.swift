#if canImport(Glibc)
import Glibc
#endif

/// A file found in an image folder, with what the cache key needs to know about it.
struct ScannedFile: Sendable, Equatable {
    var path: String
    /// Name of the top-level subfolder it lies under (its class), nil for files at the root.
    var className: String?
    var size: Int
    var modified: Int64
    var inode: UInt64
}

/// Recursive walk of an image folder.
///
/// Follows symlinks but never enters a directory twice (symlink loops are skipped and
/// reported); entries whose names are not valid UTF-8, hidden entries, unreadable entries
/// and files that are not PNG/JPEG by extension are skipped with a reason. Names are
/// sorted bytewise in each directory, so the order is stable.
enum ImageFolderScan {
    static let decodableExtensions: Set<String> = ["png", "jpg", "jpeg", "jpe", "jfif"]
    static let otherImageExtensions: Set<String> = ["gif", "bmp", "webp", "tif", "tiff", "heic", "heif", "avif", "ppm", "pgm", "pbm", "ico", "svg"]
    static let maxDepth = 64

    struct Result {
        var files: [ScannedFile] = []
        var skipped: [SkippedFile] = []
    }

    /// Walks `root`; throws only if `root` itself cannot be read as a directory.
    static func scan(_ root: String) throws(DataError) -> Result {
        var st = stat()
        if stat(root, &st) != 0 { throw DataError(path: root, problem: FileAccess.errnoProblem(root)) }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw DataError(path: root, problem: "not a directory") }
        var result = Result()
        var visited: Set<DirectoryID> = [DirectoryID(st)]
        try walk(root, className: nil, depth: 0, visited: &visited, into: &result)
        return result
    }

    private struct DirectoryID: Hashable {
        var device: UInt64, inode: UInt64
        init(_ st: stat) { device = UInt64(st.st_dev); inode = UInt64(st.st_ino) }
    }

    private static func walk(_ directory: String, className: String?, depth: Int, visited: inout Set<DirectoryID>, into result: inout Result) throws(DataError) {
        guard let dir = opendir(directory) else {
            let problem = "cannot open directory: \(FileAccess.errnoProblem())"
            if depth == 0 { throw DataError(path: directory, problem: problem) }
            result.skipped.append(SkippedFile(path: directory, reason: problem))
            return
        }
        var names: [[UInt8]] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix(while: { $0 != 0 })) }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            names.append(name)
        }
        closedir(dir)
        names.sort { $0.lexicographicallyPrecedes($1) }
        for raw in names {
            guard let name = String(validating: raw, as: UTF8.self) else {
                let shown = FileAccess.join(directory, String(decoding: raw, as: UTF8.self))
                result.skipped.append(SkippedFile(path: shown, reason: "file name is not valid UTF-8"))
                continue
            }
            let path = FileAccess.join(directory, name)
            if name.hasPrefix(".") {
                result.skipped.append(SkippedFile(path: path, reason: "hidden entry"))
                continue
            }
            var st = stat()
            if stat(path, &st) != 0 {
                result.skipped.append(SkippedFile(path: path, reason: FileAccess.errnoProblem(path)))
                continue
            }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                let id = DirectoryID(st)
                if visited.contains(id) {
                    result.skipped.append(SkippedFile(path: path, reason: "symlink loop (directory already visited)"))
                    continue
                }
                if depth + 1 > maxDepth {
                    result.skipped.append(SkippedFile(path: path, reason: "nested more than \(maxDepth) levels deep"))
                    continue
                }
                visited.insert(id)
                try walk(path, className: className ?? name, depth: depth + 1, visited: &visited, into: &result)
            case S_IFREG:
                let ext = name.lastIndex(of: ".").map { String(name[name.index(after: $0)...]).lowercased() } ?? ""
                if decodableExtensions.contains(ext) {
                    result.files.append(ScannedFile(path: path, className: className, size: Int(st.st_size),
                                                    modified: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec),
                                                    inode: UInt64(st.st_ino)))
                } else if otherImageExtensions.contains(ext) {
                    result.skipped.append(SkippedFile(path: path, reason: "\(ext.uppercased()) images are not supported (only PNG and JPEG)"))
                } else {
                    result.skipped.append(SkippedFile(path: path, reason: ext.isEmpty ? "not an image file (no extension)" : "not an image file (.\(ext))"))
                }
            default:
                result.skipped.append(SkippedFile(path: path, reason: "not a regular file or directory"))
            }
        }
    }
}
