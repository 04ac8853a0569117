import CNcursesw
import Synchronization
import Testing
@testable import LfosaTerminal
#if canImport(Glibc)
import Glibc
#endif

/// Real ncurses without a tty: `newterm(type, /dev/null, /dev/null)`. Curses state is global,
/// so these run one at a time.
@Suite(.serialized) struct CursesTerminalTests {
    func open(_ type: String, locale: String = "C.UTF-8") throws -> CursesTerminal {
        try CursesTerminal(terminalType: type, outputPath: "/dev/null", inputPath: "/dev/null", locale: locale)
    }

    @Test func startsDrawsAndRestoresAt256Colours() throws {
        let term = try open("xterm-256color")
        defer { term.restore() }
        #expect(term.depth == .palette256)
        #expect(term.facts.colors == 256 && term.facts.utf8Locale)
        #expect(term.size == TerminalSize(width: 80, height: 24))
        var grid = CellGrid(size: term.size, style: Theme.dark.base)
        grid.put(Cell("▀", foreground: RGB(255, 0, 0), background: RGB(0, 0, 255), attributes: [.bold]), x: 3, y: 2)
        grid.text("hi", x: 0, y: 0, style: Theme.dark.base)
        term.draw(grid)
        let cell = try #require(term.cellContents(x: 3, y: 2))
        #expect(cell.character == "▀")
        #expect(cell.foreground == 196 && cell.background == 21)
        #expect(cell.attributes & lfosa_a_bold() != 0)
        #expect(term.cellContents(x: 1, y: 0)?.character == "i")
        // Many distinct colour pairs (beyond COLOR_PAIR's 8 bits) keep their colours.
        var colourful = CellGrid(size: term.size, style: Theme.dark.base)
        for i in 0..<600 {
            colourful.put(Cell("▀", foreground: ColorQuantizer.palette[16 + i % 216],
                               background: ColorQuantizer.palette[16 + (i / 216) * 7]), x: i % 80, y: i / 80)
        }
        term.draw(colourful)
        let last = try #require(term.cellContents(x: 599 % 80, y: 599 / 80))
        #expect(last.foreground == Int32(16 + 599 % 216) && last.background == Int32(16 + (599 / 216) * 7))
    }

    @Test func directColourTerminalGetsRGBNumbers() throws {
        let term = try open("xterm-direct")
        defer { term.restore() }
        #expect(term.depth == .direct)
        var grid = CellGrid(size: term.size, style: Theme.dark.base)
        grid.put(Cell("▀", foreground: RGB(0x12, 0x34, 0x56), background: RGB(1, 2, 3)), x: 0, y: 0)
        term.draw(grid)
        let cell = try #require(term.cellContents(x: 0, y: 0))
        #expect(cell.foreground == 0x123456 && cell.background == 0x010203)
    }

    @Test func vt100AndNonUTF8FallBackToASCII() throws {
        let vt = try open("vt100")
        #expect(vt.depth == .monochromeASCII)
        var grid = CellGrid(size: vt.size, style: Theme.dark.base)
        grid.text("┌ok", x: 0, y: 0, style: Theme.dark.base)
        vt.draw(grid)
        #expect(vt.cellContents(x: 0, y: 0)?.character == "?")
        vt.restore()
        let c = try open("xterm-256color", locale: "C")
        #expect(c.depth == .monochromeASCII && !c.facts.utf8Locale)
        c.restore()
    }

    @Test func readKeyTimesOutWithoutInputAndRestoreIsIdempotent() throws {
        let term = try open("xterm-256color")
        #expect(term.readKey(timeout: .milliseconds(5)) == nil)
        #expect(term.interruption == nil)
        term.restore()
        term.restore()
        #expect(term.readKey(timeout: .milliseconds(5)) == nil)
    }

    /// The address of the handler installed for `sig` (0 = SIG_DFL).
    func handlerAddress(_ sig: Int32) -> Int {
        var action = sigaction()
        sigaction(sig, nil, &action)
        return unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self)
    }

    @Test func stopSignalsBecomeInterruptions() throws {
        let before = handlerAddress(SIGTERM)
        let term = try open("xterm-256color")
        #expect(handlerAddress(SIGTERM) != before)
        defer { term.restore() }
        // Process-directed (test threads may block signals): wait for delivery, at most 2 s.
        func send(_ sig: Int32) -> TerminalInterruption? {
            kill(getpid(), sig)
            for _ in 0..<200 where term.interruption == nil { usleep(10_000) }
            defer { TerminalGuard.pendingSignal = 0 }
            return term.interruption
        }
        #expect(send(SIGHUP) == .hangup)
        #expect(send(SIGTERM) == .terminate)
        #expect(send(SIGINT) == .interrupt)
        // Closing the terminal puts the previous handlers back.
        term.restore()
        #expect(handlerAddress(SIGTERM) == before)
        #expect(!TerminalGuard.installed)
        TerminalGuard.pendingSignal = 0
        #expect(term.interruption == nil)
    }

    @Test func keystrokeBenchmarkRunsOnRealCurses() throws {
        let term = try open("xterm-256color")
        defer { term.restore() }
        let times = TerminalBenchmark.keystrokeTimes(on: term, keystrokes: 5, images: 2, imageSide: 32, prefetch: true)
        #expect(times.count == 5)
        #expect(term.cellContents(x: 0, y: 0) != nil)
    }

    @Test func aSecondTerminalWaitsForTheFirstToBeRestored() async throws {
        final class Flag: Sendable {
            let value = Atomic<Bool>(false)
            var opened: Bool { value.load(ordering: .sequentiallyConsistent) }
        }
        let flag = Flag()
        let first = try open("xterm-256color")
        let second = Task.detached { () -> Bool in
            guard let term = try? CursesTerminal(terminalType: "xterm-256color", outputPath: "/dev/null",
                                                 inputPath: "/dev/null", locale: "C.UTF-8") else { return false }
            flag.value.store(true, ordering: .sequentiallyConsistent)
            term.restore()
            return true
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(!flag.opened)
        first.restore()
        #expect(await second.value)
        #expect(flag.opened)
    }

    @Test func unknownTerminalTypeThrows() {
        #expect(throws: CursesTerminal.Failure.self) { try open("no-such-terminal-lfosa") }
    }

    @Test func keyCodesMapToKeys() {
        #expect(CursesTerminal.keyPress(code: KEY_UP) == .up)
        #expect(CursesTerminal.keyPress(code: KEY_RESIZE) == .resize)
        #expect(CursesTerminal.keyPress(code: KEY_BACKSPACE) == .backspace)
        #expect(CursesTerminal.keyPress(code: lfosa_key_f(5)) == .function(5))
        #expect(CursesTerminal.keyPress(character: 127) == .backspace)
        #expect(CursesTerminal.keyPress(character: 32) == .character(" "))
        #expect(CursesTerminal.keyPress(character: 0x3B1) == .character("α"))
    }
}
