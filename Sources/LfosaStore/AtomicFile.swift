import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file writes that are all-or-nothing, and their error mapping.
///
/// `write` puts the bytes in `<path>.partial-<pid>`, fsyncs, renames over `path` and fsyncs the
/// directory; on any failure the partial file is removed and `path` is as before. ENOSPC maps to
/// `StoreError.diskFull` naming `path`.
enum AtomicFile {
    #if canImport(Glibc)
    private static let systemWrite = Glibc.write
    #else
    private static let systemWrite = Darwin.write
    #endif

    static func write(_ bytes: [UInt8], to path: String, replacing: Bool = true) throws {
        let partial = "\(path).partial-\(getpid())"
        let fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw error(errno, path) }
        do {
            try writeAll(fd: fd, bytes, path: path)
            if fsync(fd) != 0 { throw error(errno, path) }
            close(fd)
        } catch {
            close(fd)
            unlink(partial)
            throw error
        }
        if replacing {
            if rename(partial, path) != 0 {
                let code = errno
                unlink(partial)
                throw error(code, path)
            }
        } else {
            // link() fails with EEXIST instead of replacing: the target is never clobbered.
            if link(partial, path) != 0 {
                let code = errno
                unlink(partial)
                throw code == EEXIST ? StoreError.targetExists(path: path) : error(code, path)
            }
            unlink(partial)
        }
        syncDirectory((path as NSString).deletingLastPathComponent)
    }

    /// Writes every byte to `fd`, retrying short writes and EINTR.
    static func writeAll(fd: Int32, _ bytes: [UInt8], path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                systemWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw error(errno, path)
            }
            offset += written
        }
    }

    static func syncDirectory(_ directory: String) {
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }

    static func error(_ code: Int32, _ path: String) -> StoreError {
        code == ENOSPC ? .diskFull(file: path) : .io(file: path, detail: String(cString: strerror(code)))
    }
}
