import Foundation

/// The progress line `simulate` redraws on stderr: run, round, phase, bar and ETA.
final class SimulateProgress {
    enum Event {
        case phase(round: Int, phase: String, fraction: Double)
        case roundDone(round: Int)
    }

    let totalRounds: Int
    let roundsPerRun: Int
    private var doneRounds = 0
    private var label = ""
    private let start = Date()
    private var lastDraw = Date.distantPast
    private let enabled: Bool

    init(runs: Int, roundsPerRun: Int, enabled: Bool) {
        self.totalRounds = runs * roundsPerRun
        self.roundsPerRun = roundsPerRun
        self.enabled = enabled
    }

    func beginRun(_ label: String) { self.label = label }

    func handle(_ event: Event) {
        switch event {
        case .roundDone:
            doneRounds += 1
        case .phase(let round, let phase, let fraction):
            let now = Date()
            if now.timeIntervalSince(lastDraw) < 0.25 { return }
            lastDraw = now
            let done = Double(doneRounds) + min(0.95, fraction)
            let elapsed = now.timeIntervalSince(start)
            let eta = done > 0.05 ? elapsed / done * (Double(totalRounds) - done) : .nan
            let width = 24
            let filled = Int(Double(width) * done / Double(max(1, totalRounds)))
            let bar = String(repeating: "█", count: min(width, filled)) + String(repeating: "░", count: max(0, width - filled))
            let line = "\(label) round \(round)/\(roundsPerRun - 1) \(phase) ▕\(bar)▏ \(Self.clock(elapsed)) ETA \(eta.isNaN ? "--:--" : Self.clock(eta))"
            draw(line)
        }
    }

    /// Self-supervised trunk pretraining, before the first run.
    func pretraining(_ p: TrainingProgressLine) {
        let now = Date()
        if now.timeIntervalSince(lastDraw) < 0.25 && p.step < p.total { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(start)
        let eta = p.step > 0 ? elapsed / Double(p.step) * Double(p.total - p.step) : .nan
        draw("pretraining trunk (rotations) step \(p.step)/\(p.total) loss \(String(format: "%.3f", p.loss)) \(Self.clock(elapsed)) ETA \(eta.isNaN ? "--:--" : Self.clock(eta))")
    }

    struct TrainingProgressLine { var step: Int; var total: Int; var loss: Float }

    func finish() { if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) } }

    private func draw(_ line: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
    }
}
