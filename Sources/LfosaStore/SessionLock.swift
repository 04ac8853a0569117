import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The exclusive "this session is being labeled" lock: `session.lock` holding the holder's pid.
///
/// Taken with `flock(LOCK_EX | LOCK_NB)` on an open descriptor, so the kernel releases it when the
/// holder exits for any reason (SIGKILL included): a dead holder never blocks. Two opens conflict
/// even within one process. Released by `release()` or when the value is deallocated.
final class SessionLock {
    let path: String
    private var descriptor: Int32

    /// Takes the lock or throws `StoreError.sessionInUse` with the holder's pid.
    init(directory: String) throws {
        path = (directory as NSString).appendingPathComponent("session.lock")
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 {
            throw StoreError.io(file: path, detail: String(cString: strerror(errno)))
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            let holder = SessionLock.readPid(fd: fd)
            close(fd)
            if code == EWOULDBLOCK || code == EAGAIN {
                throw StoreError.sessionInUse(directory: directory, pid: holder)
            }
            throw StoreError.io(file: path, detail: String(cString: strerror(code)))
        }
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        descriptor = fd
    }

    /// Releases the lock (idempotent). The lock file stays; its content no longer matters.
    func release() {
        guard descriptor >= 0 else { return }
        _ = flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }

    private static func readPid(fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[0..<count], as: UTF8.self)
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
