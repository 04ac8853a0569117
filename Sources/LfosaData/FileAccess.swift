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
        let (fd, size) = try openRegular(path, maxBytes: maxBytes)
        defer { close(fd) }
        var outcome: (Int, Int32) = (0, 0)
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            outcome = readFully(fd, into: UnsafeMutableRawPointer(buffer.baseAddress!), count: size)
            initialized = outcome.0
        }
        if outcome.1 != 0 { throw DataError(path: path, problem: "cannot read: \(String(cString: strerror(outcome.1)))") }
        return bytes
    }

    /// Size of the regular file at `path` (same checks as `read`).
    static func size(_ path: String, maxBytes: Int) throws(DataError) -> Int {
        let (fd, size) = try openRegular(path, maxBytes: maxBytes)
        close(fd)
        return size
    }

    /// Reads the regular file at `path`, which must be exactly `count` bytes, into `base`.
    static func read(_ path: String, into base: UnsafeMutableRawPointer, count: Int) throws(DataError) {
        let (fd, size) = try openRegular(path, maxBytes: count)
        defer { close(fd) }
        if size != count { throw DataError(path: path, problem: "file changed size while being read") }
        let outcome = readFully(fd, into: base, count: count)
        if outcome.1 != 0 { throw DataError(path: path, problem: "cannot read: \(String(cString: strerror(outcome.1)))") }
        if outcome.0 != count { throw DataError(path: path, problem: "file shrank while being read") }
    }

    /// An open descriptor on the regular file at `path` and its size.
    private static func openRegular(_ path: String, maxBytes: Int) throws(DataError) -> (Int32, Int) {
        // O_NONBLOCK: opening a FIFO must not wait for a writer (it is then refused as not regular).
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 { throw DataError(path: path, problem: "cannot open: \(errnoText())") }
        var st = stat()
        var problem: String? = nil
        if fstat(fd, &st) != 0 { problem = "cannot stat: \(errnoText())" }
        else if (st.st_mode & S_IFMT) == S_IFDIR { problem = "is a directory, not a file" }
        else if (st.st_mode & S_IFMT) != S_IFREG { problem = "not a regular file" }
        else if Int(st.st_size) > maxBytes { problem = "file is \(st.st_size) bytes, above the limit of \(maxBytes) bytes" }
        if let problem { close(fd); throw DataError(path: path, problem: problem) }
        return (fd, Int(st.st_size))
    }

    /// Reads up to `count` bytes; returns how many were read and errno (0 when none).
    private static func readFully(_ fd: Int32, into base: UnsafeMutableRawPointer, count: Int) -> (Int, Int32) {
        var total = 0
        while total < count {
            let n = Glibc.read(fd, base + total, count - total)
            if n < 0 { if errno == EINTR { continue }; return (total, errno) }
            if n == 0 { break }
            total += n
        }
        return (total, 0)
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
