import CNcursesw
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The real terminal, through ncurses (wide-character API).
///
/// `init` sets the locale before `newterm` (or `▀` would have width −1), starts raw mode
/// without echo and with keypad decoding, hides the cursor, starts colours and picks the
/// colour depth from terminfo (`colors`, `RGB`) and the locale. `draw` sends only changed
/// cells; colours go through `alloc_pair` with the pair passed in `setcchar`'s last
/// argument (extended pairs), direct RGB colour numbers where terminfo has `RGB`.
/// `restore()` calls `endwin`; the `TerminalGuard` covers signals, crashes and `exit`.
/// In raw mode Ctrl-C arrives as a byte; it is reported as `.interrupt` like SIGINT.
/// One instance at a time per process (curses state is global): a second `init` waits until
/// the first instance is restored, so concurrent users (parallel tests) take turns.
public final class CursesTerminal: Terminal {
    /// Why curses could not start.
    public enum Failure: Error, CustomStringConvertible {
        case cannotOpen(String)
        public var description: String {
            switch self { case .cannotOpen(let what): return "cannot start the terminal: \(what)" }
        }
    }

    public private(set) var size: TerminalSize
    public let depth: ColorDepth
    public let facts: ColorDepth.TerminalFacts
    private let screen: OpaquePointer
    private let window: UnsafeMutablePointer<WINDOW>
    private var previous: CellGrid?
    private var open = true
    private let start = ContinuousClock.now
    private var ownedFiles: [UnsafeMutablePointer<FILE>] = []
    private let previousLocale: String?

    /// Starts curses.
    ///
    /// - `terminalType`: terminfo name; nil = `$TERM`.
    /// - `outputPath`/`inputPath`: files to use instead of stdout/stdin (tests pass
    ///   "/dev/null" to run real ncurses without a tty).
    /// - `locale`: passed to `setlocale(LC_ALL, …)`; "" = the environment's. `restore()`
    ///   puts the previous locale back.
    /// - `depth`: forces a colour depth instead of choosing from terminfo.
    public init(terminalType: String? = nil, outputPath: String? = nil, inputPath: String? = nil,
                locale: String = "", depth forcedDepth: ColorDepth? = nil) throws {
        CursesTerminal.exclusive.wait()
        let prior = setlocale(LC_ALL, nil).map { String(cString: $0) }
        previousLocale = prior
        var started = false
        defer {
            if !started {
                if let prior { setlocale(LC_ALL, prior) }
                CursesTerminal.exclusive.signal()
            }
        }
        setlocale(LC_ALL, locale)
        let out: UnsafeMutablePointer<FILE>
        let input: UnsafeMutablePointer<FILE>
        var owned: [UnsafeMutablePointer<FILE>] = []
        if let outputPath {
            guard let f = fopen(outputPath, "w") else { throw Failure.cannotOpen(outputPath) }
            out = f
            owned.append(f)
        } else {
            out = lfosa_stdout()
        }
        if let inputPath {
            guard let f = fopen(inputPath, "r") else { throw Failure.cannotOpen(inputPath) }
            input = f
            owned.append(f)
        } else {
            input = lfosa_stdin()
        }
        TerminalGuard.saveModes(of: fileno(input))
        let created: OpaquePointer? = terminalType.map { name in name.withCString { newterm($0, out, input) } }
            ?? newterm(nil, out, input)
        guard let created else {
            owned.forEach { fclose($0) }
            throw Failure.cannotOpen("no terminfo entry for \(terminalType ?? "$TERM")")
        }
        set_term(created)
        guard let win = lfosa_stdscr() else {
            endwin()
            delscreen(created)
            owned.forEach { fclose($0) }
            throw Failure.cannotOpen("no standard screen")
        }
        screen = created
        window = win
        ownedFiles = owned
        raw()
        noecho()
        nonl()
        keypad(window, true)
        set_escdelay(25)
        curs_set(0)
        var colors: Int32 = 0
        if has_colors() {
            start_color()
            use_default_colors()
            colors = Int32(lfosa_colors())
        }
        let rgb = lfosa_tigetflag("RGB") > 0 || lfosa_tigetnum("RGB") > 0
        let name = terminalType ?? String(cString: termname())
        facts = ColorDepth.TerminalFacts(colors: Int(colors), hasRGB: rgb, termName: name,
                                         utf8Locale: lfosa_locale_is_utf8() != 0)
        depth = forcedDepth ?? ColorDepth.choose(facts)
        size = TerminalSize(width: Int(getmaxx(window)), height: Int(getmaxy(window)))
        TerminalGuard.prepareResetBytes()
        TerminalGuard.active = true
        TerminalGuard.install()
        started = true
    }

    deinit { restore() }

    public var interruption: TerminalInterruption? { TerminalGuard.interruption }

    public var elapsed: Duration { ContinuousClock.now - start }

    public func readKey(timeout: Duration) -> KeyPress? {
        guard open else { return nil }
        let ms = Int32(max(0, min(Double(Int32.max), timeout / .milliseconds(1))))
        wtimeout(window, ms)
        var ch: wint_t = 0
        let result = wget_wch(window, &ch)
        if result == KEY_CODE_YES {
            let key = CursesTerminal.keyPress(code: Int32(ch))
            if key == .resize {
                size = TerminalSize(width: Int(getmaxx(window)), height: Int(getmaxy(window)))
                previous = nil
            }
            return key
        }
        guard result == OK else { return nil }
        if ch == 3 {
            // Raw mode delivers Ctrl-C as a byte, not SIGINT: treat it the same way.
            TerminalGuard.pendingSignal = SIGINT
            return nil
        }
        return CursesTerminal.keyPress(character: UInt32(ch))
    }

    /// The key for a wide character from `wget_wch` (OK result).
    static func keyPress(character c: UInt32) -> KeyPress? {
        switch c {
        case 8, 127: return .backspace
        case 9: return .tab
        case 10, 13: return .enter
        case 27: return .escape
        default:
            guard let scalar = Unicode.Scalar(c) else { return nil }
            return .character(Character(scalar))
        }
    }

    /// The key for a function-key code from `wget_wch` (KEY_CODE_YES result).
    static func keyPress(code: Int32) -> KeyPress? {
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_PPAGE: return .pageUp
        case KEY_NPAGE: return .pageDown
        case KEY_HOME: return .home
        case KEY_END: return .end
        case KEY_ENTER: return .enter
        case KEY_BACKSPACE, KEY_DC: return .backspace
        case KEY_RESIZE: return .resize
        default:
            let f = code - lfosa_key_f(0)
            return (1...24).contains(f) ? .function(Int(f)) : nil
        }
    }

    public func draw(_ grid: CellGrid) {
        guard open else { return }
        if grid.width != size.width || grid.height != size.height { previous = nil }
        let runs = changedRuns(from: previous, to: grid)
        var cell = cchar_t()
        let bold = lfosa_a_bold(), reverse = lfosa_a_reverse(), dim = lfosa_a_dim()
        let limitX = min(grid.width, size.width), limitY = min(grid.height, size.height)
        var lastKey: (Int32, Int32) = (-2, -2)
        var lastPair: Int32 = 0
        for run in runs where run.y < limitY {
            for x in run.xs where x < limitX {
                let c = grid[x, run.y]
                var attrs = attr_t(0)
                if c.attributes.contains(.bold) { attrs |= bold }
                if c.attributes.contains(.reverse) { attrs |= reverse }
                if c.attributes.contains(.dim) { attrs |= dim }
                var pair: Int32 = 0
                if depth.hasColor {
                    let key = (ColorQuantizer.colorNumber(c.foreground, depth: depth),
                               ColorQuantizer.colorNumber(c.background, depth: depth))
                    if key == lastKey { pair = lastPair } else {
                        pair = max(0, alloc_pair(key.0, key.1))
                        lastKey = key
                        lastPair = pair
                    }
                }
                let ch: wchar_t = depth == .monochromeASCII && c.character.value > 0x7E ? wchar_t(0x3F)
                    : wchar_t(bitPattern: c.character.value)
                _ = lfosa_setcchar_pair(&cell, ch, attrs, pair)
                _ = mvwadd_wch(window, Int32(run.y), Int32(x), &cell)
            }
        }
        previous = grid
        wnoutrefresh(window)
        doupdate()
    }

    /// The character, attributes and colour numbers ncurses holds at (x, y) (tests).
    public func cellContents(x: Int, y: Int) -> (character: Unicode.Scalar, attributes: attr_t, foreground: Int32, background: Int32)? {
        var ch: wchar_t = 0
        var attrs = attr_t(0)
        var pair: Int32 = 0
        guard lfosa_cell_at(window, Int32(y), Int32(x), &ch, &attrs, &pair) == OK,
              let scalar = Unicode.Scalar(UInt32(bitPattern: ch)) else { return nil }
        var fg: Int32 = -1, bg: Int32 = -1
        if pair > 0 { extended_pair_content(pair, &fg, &bg) }
        return (scalar, attrs, fg, bg)
    }

    public func restore() {
        guard open else { return }
        open = false
        endwin()
        TerminalGuard.active = false
        TerminalGuard.uninstall()
        delscreen(screen)
        ownedFiles.forEach { fclose($0) }
        ownedFiles = []
        if let previousLocale { setlocale(LC_ALL, previousLocale) }
        CursesTerminal.exclusive.signal()
    }

    /// Held from a successful `init` until `restore()`.
    static let exclusive = ProcessSemaphore()
}
