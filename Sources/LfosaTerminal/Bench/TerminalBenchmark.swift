#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Timings of the front end: frame rendering and keystroke-to-frame latency.
///
/// Used by `lfosa bench tui`. Every measurement runs the real code paths on synthetic
/// images (seeded, so runs are comparable) and returns per-iteration milliseconds.
public enum TerminalBenchmark {
    /// A synthetic RGB photo-like image: smooth gradients, a disc and per-`seed` hue shifts.
    public static func syntheticImage(width: Int, height: Int, seed: Int) -> PixelImage {
        PixelImage(width: width, height: height) { x, y in
            let cx = width / 2 + (seed * 7) % (width / 4 + 1), cy = height / 2
            let dx = x - cx, dy = y - cy
            if dx * dx + dy * dy < (height / 4) * (height / 4) {
                return RGB(UInt8((200 + seed * 13) % 256), UInt8((180 + y) % 256), 40)
            }
            return RGB(UInt8((x * 255 / max(1, width - 1) + seed * 31) % 256), UInt8((y * 255 / max(1, height - 1)) % 256),
                       UInt8((x + y + seed * 17) % 256))
        }
    }

    /// What a timing counts: elapsed time, or CPU time of the calling thread (immune to
    /// other processes taking the cores).
    public enum TimeSource: Sendable {
        case wall, threadCPU
    }

    /// Milliseconds to render `image` into a new full-screen grid of `size`, per iteration.
    public static func renderTimes(image: PixelImage, size: TerminalSize, depth: ColorDepth, dither: Bool,
                                   iterations: Int, source: TimeSource = .wall) -> [Double] {
        var times: [Double] = []
        times.reserveCapacity(iterations)
        var checksum = 0
        for _ in 0..<iterations {
            let start = now(source)
            var grid = CellGrid(size: size, style: Theme.dark.base)
            ImageRenderer.render(image, into: &grid, rect: grid.bounds, depth: depth, dither: dither)
            times.append(now(source) - start)
            checksum &+= Int(grid[size.width / 2, size.height / 2].foreground.r)
        }
        precondition(checksum >= 0)
        return times
    }

    /// Milliseconds from a labeling keystroke to the next image drawn on a headless terminal
    /// (state machine + full labeling screen render + diff), per keystroke.
    ///
    /// Each item has its own image (`images` distinct ones, `imageSide`² pixels). With
    /// `prefetch`, the next items' cells are prepared before the key (as the run loop does
    /// while the annotator looks); without it every frame scales and quantises from pixels.
    public static func keystrokeTimes(size: TerminalSize, depth: ColorDepth, keystrokes: Int, images count: Int = 32,
                                      imageSide: Int = 256, prefetch: Bool) -> [Double] {
        keystrokeTimes(on: HeadlessTerminal(size: size, depth: depth), keystrokes: keystrokes, images: count,
                       imageSide: imageSide, prefetch: prefetch)
    }

    /// The same measurement on any terminal (e.g. `CursesTerminal` writing to /dev/null, to
    /// include the ncurses output). Keys go through `AnnotatorDriver.apply`, or through the
    /// terminal's key queue for a `HeadlessTerminal`.
    public static func keystrokeTimes(on term: any Terminal, keystrokes: Int, images count: Int = 32,
                                      imageSide: Int = 256, prefetch: Bool) -> [Double] {
        let size = term.size, depth = term.depth
        let images = (0..<count).map { syntheticImage(width: imageSide, height: imageSide, seed: $0) }
        let classes = (0..<10).map { ClassTally(name: "class \($0)", count: $0 * 3) }
        let keys = KeyMap.standard(classCount: classes.count)
        let batch = 20
        let context = ScreenContext(size: size, depth: depth)
        var cache = PreparedImageCache(capacity: 4)
        var round = 1
        let histos = HistogramViewModel(panels: [])
        let driver = AnnotatorDriver(terminal: term, state: AnnotatorState(keyMap: keys, classCount: classes.count,
                                                                          itemCount: batch)) { state, ctx in
            let item = (round - 1) * batch + min(state.current, batch - 1)
            let image = images[item % count]
            let model = LabelingViewModel(
                classes: classes, unknownCount: 4, round: round, knownQueried: 7, totalQueried: 11,
                image: prefetch ? cache.content(image, for: item, context: ctx) : ImageContent(pixels: image),
                caption: "item \(item)", hint: ModelHint(className: "class 3", w: 0.87))
            return AnnotatorScreen.render(state: state, labeling: model, thumbnails: [], histograms: histos, context: ctx)
        }
        if prefetch { cache.prefetch(images[0], for: 0, context: context) }
        driver.redraw()
        var times: [Double] = []
        times.reserveCapacity(keystrokes)
        let clock = ContinuousClock()
        for k in 0..<keystrokes {
            if prefetch {
                // Done while the annotator looks at the current image, outside the latency.
                let next = (round - 1) * batch + driver.state.current + 1
                cache.prefetch(images[next % count], for: next, context: context)
            }
            let key: KeyPress = .character(k % 5 == 4 ? "u" : Character(String(k % 9 + 1)))
            let headless = term as? HeadlessTerminal
            headless?.enqueue(key)
            let start = clock.now
            let actions = headless != nil ? driver.step(timeout: .zero) : driver.apply(key)
            times.append(milliseconds(clock.now - start))
            if actions.contains(.batchComplete) {
                round += 1
                driver.state.beginBatch(itemCount: batch)
                driver.redraw()
            }
        }
        return times
    }

    /// The `p`-quantile (0…1) of `values` by nearest rank; NaN when empty.
    public static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        let rank = Int((p * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(sorted.count - 1, max(0, rank))]
    }

    /// Milliseconds on `source`'s clock since an arbitrary origin.
    static func now(_ source: TimeSource) -> Double {
        var ts = timespec()
        clock_gettime(source == .wall ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1e6
    }

    static func milliseconds(_ d: Duration) -> Double {
        let c = d.components
        return Double(c.seconds) * 1000 + Double(c.attoseconds) / 1e15
    }
}
