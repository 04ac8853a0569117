#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Plain POSIX file access: whole-file reads, atomic writes, and errno as one-line text.
///
/// POSIX rather than Foundation so that reading 10,000 small files stays cheap and so
/// that a failure always names the file and the system's reason.
enum FileAccess {
    /// The whole regular file at `path`; refuses directories and files above `maxBytes`.
    static func read(_ path: String, maxBytes: Int = DecodeLimits.default.maxFileBytes) throws(DataError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw DataError(path: path, problem: "cannot open: \(errnoText())") }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw DataError(path: path, problem: "cannot stat: \(errnoText())") }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw DataError(path: path, problem: "is a directory, not a file") }
        if (st.st_mode & S_IFMT) != S_IFREG { throw DataError(path: path, problem: "not a regular file") }
        let size = Int(st.st_size)
        if size > maxBytes { throw DataError(path: path, problem: "file is \(size) bytes, above the limit of \(maxBytes) bytes") }
        var failure: Int32 = 0
        var total = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            while total < size {
                let n = Glibc.read(fd, buffer.baseAddress! + total, size - total)
                if n < 0 { if errno == EINTR { continue }; failure = errno; break }
                if n == 0 { break }
                total += n
            }
            initialized = total
        }
        if failure != 0 { throw DataError(path: path, problem: "cannot read: \(String(cString: strerror(failure)))") }
        return bytes
    }

    /// Writes `bytes` to `path` through a temporary file in the same directory and a rename,
    /// so readers see either the old file or the complete new one.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(DataError) {
        let temp = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw DataError(path: temp, problem: "cannot create: \(errnoText())") }
        var written = 0
        let failure: Int32 = bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let n = write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 { if errno == EINTR { continue }; return errno }
                written += n
            }
            return 0
        }
        if failure != 0 || fsync(fd) != 0 {
            let text = String(cString: strerror(failure != 0 ? failure : errno))
            close(fd); unlink(temp)
            throw DataError(path: path, problem: "cannot write: \(text)")
        }
        close(fd)
        if rename(temp, path) != 0 {
            let text = errnoText()
            unlink(temp)
            throw DataError(path: path, problem: "cannot rename into place: \(text)")
        }
    }

    /// Creates `path` and its missing parents.
    static func makeDirectories(_ path: String) throws(DataError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw DataError(path: prefix, problem: "cannot create directory: \(errnoText())")
            }
            prefix += "/"
        }
    }

    /// `stat` following symlinks; nil with the reason on failure.
    static func status(_ path: String) -> Result<stat, DataError> {
        var st = stat()
        if stat(path, &st) != 0 { return .failure(DataError(path: path, problem: errnoProblem(path))) }
        return .success(st)
    }

    static func isDirectory(_ path: String) -> Bool {
        if case .success(let st) = status(path) { return (st.st_mode & S_IFMT) == S_IFDIR }
        return false
    }

    static func isRegularFile(_ path: String) -> Bool {
        if case .success(let st) = status(path) { return (st.st_mode & S_IFMT) == S_IFREG }
        return false
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }

    /// errno after a failed `stat(path)`, phrased for a user: symlink loops and dangling
    /// symlinks are told apart from plain missing files.
    static func errnoProblem(_ path: String? = nil) -> String {
        let code = errno
        if code == ELOOP { return "symlink loop (too many levels of symbolic links)" }
        if code == ENOENT {
            var st = stat()
            if let path, lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK { return "dangling symlink (its target does not exist)" }
            return "no such file or directory"
        }
        return String(cString: strerror(code))
    }

    /// `directory/name`, without doubling a trailing slash.
    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
