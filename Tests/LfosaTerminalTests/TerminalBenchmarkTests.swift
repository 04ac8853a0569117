import Testing
@testable import LfosaTerminal

@Test func percentileUsesNearestRank() {
    let values = (1...100).map(Double.init)
    #expect(TerminalBenchmark.percentile(values, 0.5) == 50)
    #expect(TerminalBenchmark.percentile(values, 0.99) == 99)
    #expect(TerminalBenchmark.percentile([3], 0.99) == 3)
    #expect(TerminalBenchmark.percentile([], 0.5).isNaN)
}

@Test(arguments: [false, true])
func keystrokeBenchmarkRunsThroughBatches(prefetch: Bool) {
    let times = TerminalBenchmark.keystrokeTimes(size: TerminalSize(width: 80, height: 24), depth: .palette256,
                                                 keystrokes: 25, images: 3, imageSide: 48, prefetch: prefetch)
    #expect(times.count == 25 && times.allSatisfy { $0 >= 0 })
}

@Test func renderBenchmarkReturnsOneTimePerIteration() {
    let image = TerminalBenchmark.syntheticImage(width: 40, height: 30, seed: 2)
    #expect(TerminalBenchmark.renderTimes(image: image, size: TerminalSize(width: 40, height: 12), depth: .direct,
                                          dither: false, iterations: 3).count == 3)
    let cpu = TerminalBenchmark.renderTimes(image: image, size: TerminalSize(width: 40, height: 12), depth: .palette256,
                                            dither: true, iterations: 3, source: .threadCPU)
    #expect(cpu.count == 3 && cpu.allSatisfy { $0 > 0 && $0 < 1000 })
}
