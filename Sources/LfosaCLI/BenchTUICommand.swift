import ArgumentParser
import Foundation
import LfosaTerminal

/// `lfosa bench tui`: terminal front-end speed.
///
/// Measures (1) rendering a full-screen frame of one image (default 200×60 cells, a 480×360
/// source, area-averaged) into the cell grid at 256 colours, dithered 256 colours and direct
/// colour; (2) keystroke → next image on screen through the headless terminal (state
/// machine + full labeling screen + diff), without and with prefetched image cells; (3) the
/// ncurses draw of changed frames to /dev/null, and the keystroke latency including it. Targets: render ≤ 5 ms, keystroke ≤ 30 ms p99.
/// Prints one JSON line; a summary goes to stderr.
struct BenchTUICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tui",
        abstract: "Terminal front end: full-frame image render time, keystroke-to-frame latency."
    )

    @Option(help: "Frame width in cells.")
    var width: Int = 200

    @Option(help: "Frame height in cells.")
    var height: Int = 60

    @Option(help: "Render iterations per colour depth.")
    var iterations: Int = 300

    @Option(help: "Keystrokes per latency measurement.")
    var keystrokes: Int = 300

    @Flag(help: "Skip the ncurses draw measurement (it starts curses on /dev/null).")
    var noCurses = false

    mutating func run() throws {
        let size = TerminalSize(width: width, height: height)
        let image = TerminalBenchmark.syntheticImage(width: 480, height: 360, seed: 1)
        var fields: [(String, String)] = [("impl", "\"lfosa\""), ("frame", "\"\(width)x\(height)\"")]
        var summary: [String] = []
        func add(_ name: String, _ times: [Double]) {
            let p50 = TerminalBenchmark.percentile(times, 0.5), p99 = TerminalBenchmark.percentile(times, 0.99)
            fields += [(name + "_ms_p50", fmt(p50)), (name + "_ms_p99", fmt(p99))]
            summary.append("\(name): p50 \(fmt(p50)) ms, p99 \(fmt(p99)) ms")
        }
        // Warm up the lazily built colour tables before timing.
        _ = TerminalBenchmark.renderTimes(image: image, size: size, depth: .palette256, dither: true, iterations: 3)
        add("render_palette256", TerminalBenchmark.renderTimes(image: image, size: size, depth: .palette256, dither: false,
                                                               iterations: iterations))
        add("render_palette256_dither", TerminalBenchmark.renderTimes(image: image, size: size, depth: .palette256, dither: true,
                                                                      iterations: iterations))
        add("render_direct", TerminalBenchmark.renderTimes(image: image, size: size, depth: .direct, dither: false,
                                                           iterations: iterations))
        // CPU time of the rendering thread: the work itself, without waits for a busy machine.
        add("render_palette256_cpu", TerminalBenchmark.renderTimes(image: image, size: size, depth: .palette256,
                                                                   dither: false, iterations: iterations, source: .threadCPU))
        add("keystroke", TerminalBenchmark.keystrokeTimes(size: size, depth: .palette256, keystrokes: keystrokes, prefetch: false))
        add("keystroke_prefetched", TerminalBenchmark.keystrokeTimes(size: size, depth: .palette256, keystrokes: keystrokes,
                                                                     prefetch: true))
        if !noCurses {
            add("curses_draw", try cursesDrawTimes(size: size))
            let term = try openCurses(size: size)
            let times = TerminalBenchmark.keystrokeTimes(on: term, keystrokes: keystrokes, prefetch: true)
            term.restore()
            add("keystroke_curses_prefetched", times)
        }
        fields += [("render_target_ms", "5"), ("keystroke_target_ms_p99", "30")]
        FileHandle.standardError.write(Data((summary.joined(separator: "\n") + "\n").utf8))
        print("{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
    }

    /// ncurses draw of alternating image frames (every cell changes) to /dev/null, 256 colours.
    func cursesDrawTimes(size: TerminalSize) throws -> [Double] {
        let term = try openCurses(size: size)
        defer { term.restore() }
        let frames = (0..<2).map { seed -> CellGrid in
            var grid = CellGrid(size: term.size, style: Theme.dark.base)
            ImageRenderer.render(TerminalBenchmark.syntheticImage(width: 480, height: 360, seed: seed * 5), into: &grid,
                                 rect: grid.bounds, depth: term.depth)
            return grid
        }
        let clock = ContinuousClock()
        var times: [Double] = []
        for i in 0..<max(10, iterations / 3) {
            let start = clock.now
            term.draw(frames[i % 2])
            let d = (clock.now - start).components
            times.append(Double(d.seconds) * 1000 + Double(d.attoseconds) / 1e15)
        }
        return times
    }

    /// ncurses at 256 colours on /dev/null, sized `size` (through COLUMNS/LINES).
    func openCurses(size: TerminalSize) throws -> CursesTerminal {
        setenv("COLUMNS", "\(size.width)", 1)
        setenv("LINES", "\(size.height)", 1)
        return try CursesTerminal(terminalType: "xterm-256color", outputPath: "/dev/null", inputPath: "/dev/null",
                                  locale: "C.UTF-8")
    }

    func fmt(_ v: Double) -> String { v.isFinite ? String(format: "%.3f", v) : "null" }
}
