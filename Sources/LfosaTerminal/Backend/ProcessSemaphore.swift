#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A binary semaphore (POSIX `sem_t`, initially free) that may be released by a different
/// thread than the one that took it — unlike a mutex.
///
/// Lives for the whole process (never destroyed); used to make curses single-user.
final class ProcessSemaphore: @unchecked Sendable {
    private let semaphore = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)

    init() {
        sem_init(semaphore, 0, 1)
    }

    /// Takes the semaphore, waiting while another holder has it.
    func wait() {
        while sem_wait(semaphore) != 0 && errno == EINTR {}
    }

    /// Releases it.
    func signal() {
        sem_post(semaphore)
    }
}
