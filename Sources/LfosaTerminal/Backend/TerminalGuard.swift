import CNcursesw
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Process-wide terminal safety: the signal flag, and restoring the terminal on every exit.
///
/// - SIGINT, SIGTERM, SIGHUP only set a flag (async-signal-safe); the run loop sees it
///   through `Terminal.interruption`, commits, restores and exits.
/// - SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP (a Swift trap is SIGILL/SIGTRAP)
///   restore the terminal with async-signal-safe calls only — `tcsetattr` to the modes
///   saved before curses started, and `write` of the precomputed leave-screen/show-cursor/
///   reset-attributes sequences — then put back the handler that was there before (the
///   Swift runtime's backtracer, or the default) and re-raise.
/// - An `atexit` handler calls `endwin` if curses is still active.
/// - `uninstall()` (called by `CursesTerminal.restore()`) puts every previous handler back,
///   so after the terminal is closed SIGTERM/SIGINT/SIGHUP act as before again.
/// All of it is one global state because signals and `atexit` are global.
enum TerminalGuard {
    nonisolated(unsafe) static var pendingSignal: Int32 = 0
    nonisolated(unsafe) static var active = false
    nonisolated(unsafe) static var savedModes = termios()
    nonisolated(unsafe) static var haveSavedModes = false
    nonisolated(unsafe) static var ttyDescriptor: Int32 = -1
    /// The reset bytes (rmcup, cnorm, sgr0), NUL-free, written by the crash handler.
    nonisolated(unsafe) static var resetBytes = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
    nonisolated(unsafe) static var resetCount = 0
    nonisolated(unsafe) static var installed = false
    /// The handlers that were installed before ours, by signal number.
    nonisolated(unsafe) static var previousActions = UnsafeMutablePointer<sigaction>.allocate(capacity: 65)

    static let crashSignals: [Int32] = [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP]
    static let stopSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// The pending stop signal as an interruption (nil when none arrived).
    static var interruption: TerminalInterruption? {
        switch pendingSignal {
        case SIGINT: return .interrupt
        case SIGTERM: return .terminate
        case SIGHUP: return .hangup
        default: return nil
        }
    }

    /// Remembers the tty modes of `descriptor` (before curses changes them) for the crash path.
    static func saveModes(of descriptor: Int32) {
        ttyDescriptor = descriptor
        haveSavedModes = isatty(descriptor) == 1 && tcgetattr(descriptor, &savedModes) == 0
    }

    /// Precomputes the bytes that leave curses mode, from terminfo (call after newterm).
    static func prepareResetBytes() {
        var count = 0
        for cap in ["rmcup", "cnorm", "sgr0"] {
            guard let s = lfosa_tigetstr(cap) else { continue }
            var p = s
            while p.pointee != 0 && count < 255 {
                resetBytes[count] = UInt8(bitPattern: p.pointee)
                count += 1
                p += 1
            }
        }
        resetCount = count
    }

    nonisolated(unsafe) static var atexitRegistered = false

    /// Installs the signal handlers (remembering the previous ones) and, once per process,
    /// the atexit hook.
    static func install() {
        pendingSignal = 0
        guard !installed else { return }
        installed = true
        for sig in stopSignals {
            setHandler(sig) { caught in TerminalGuard.pendingSignal = caught }
        }
        for sig in crashSignals {
            setHandler(sig) { caught in TerminalGuard.crashed(caught) }
        }
        if !atexitRegistered {
            atexitRegistered = true
            atexit { TerminalGuard.restoreAtExit() }
        }
    }

    /// Puts back the handlers that were there before `install()`.
    static func uninstall() {
        guard installed else { return }
        installed = false
        for sig in stopSignals + crashSignals {
            sigaction(sig, previousActions + Int(sig), nil)
        }
    }

    static func setHandler(_ sig: Int32, _ handler: @convention(c) (Int32) -> Void) {
        var action = sigaction()
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        #if os(Linux)
        action.__sigaction_handler.sa_handler = handler
        #else
        action.__sigaction_u.__sa_handler = handler
        #endif
        sigaction(sig, &action, previousActions + Int(sig))
    }

    /// The crash handler: restore, reinstate the previous handler, re-raise.
    static func crashed(_ sig: Int32) {
        restoreFromSignal()
        sigaction(sig, previousActions + Int(sig), nil)
        raise(sig)
    }

    /// Async-signal-safe restore (crash path).
    static func restoreFromSignal() {
        guard active else { return }
        active = false
        if haveSavedModes { tcsetattr(ttyDescriptor, TCSANOW, &savedModes) }
        if resetCount > 0, ttyDescriptor >= 0 { _ = write(ttyDescriptor, resetBytes, resetCount) }
    }

    /// Normal-exit restore (atexit).
    static func restoreAtExit() {
        guard active else { return }
        active = false
        endwin()
    }
}
