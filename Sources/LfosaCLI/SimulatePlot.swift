import Foundation

/// SVG line charts of a metric per round, one curve per strategy (like the paper's figures).
enum SimulatePlot {
    static let palette = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
                          "#7f7f7f", "#bcbd22", "#17becf", "#000000", "#aec7e8", "#98df8a"]

    /// A chart of `series` (strategy → [(round, mean, std)]) with a shaded ±std band.
    static func svg(title: String, yLabel: String, series: [(name: String, points: [(round: Int, mean: Double, std: Double)])],
                    yRange: ClosedRange<Double>? = nil) -> String {
        let w = 640.0, h = 420.0, left = 60.0, right = 170.0, top = 40.0, bottom = 50.0
        let allPoints = series.flatMap(\.points)
        let maxRound = max(1, allPoints.map(\.round).max() ?? 1)
        var lo = yRange?.lowerBound ?? (allPoints.map { $0.mean - $0.std }.min() ?? 0)
        var hi = yRange?.upperBound ?? (allPoints.map { $0.mean + $0.std }.max() ?? 1)
        if hi <= lo { lo -= 0.5; hi += 0.5 }
        func x(_ r: Int) -> String { String(format: "%.1f", left + (w - left - right) * Double(r) / Double(maxRound)) }
        func y(_ v: Double) -> String { String(format: "%.1f", top + (h - top - bottom) * (1 - (v - lo) / (hi - lo))) }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(w / 2 - 60)\" y=\"22\" font-size=\"15\">\(escape(title))</text>\n"
        for i in 0...5 {
            let v = lo + (hi - lo) * Double(i) / 5
            s += "<line x1=\"\(left)\" y1=\"\(y(v))\" x2=\"\(w - right)\" y2=\"\(y(v))\" stroke=\"#ddd\"/>"
            s += "<text x=\"\(left - 8)\" y=\"\(y(v))\" dy=\"4\" text-anchor=\"end\">\(String(format: "%.2f", v))</text>\n"
        }
        for r in 0...maxRound {
            s += "<text x=\"\(x(r))\" y=\"\(h - bottom + 18)\" text-anchor=\"middle\">\(r)</text>"
        }
        s += "\n<text x=\"\((left + w - right) / 2)\" y=\"\(h - 12)\" text-anchor=\"middle\">query round</text>\n"
        s += "<text x=\"16\" y=\"\(h / 2)\" transform=\"rotate(-90 16 \(h / 2))\" text-anchor=\"middle\">\(escape(yLabel))</text>\n"
        s += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(w - left - right)\" height=\"\(h - top - bottom)\" fill=\"none\" stroke=\"#444\"/>\n"
        for (k, line) in series.enumerated() where !line.points.isEmpty {
            let colour = palette[k % palette.count]
            let upper = line.points.map { "\(x($0.round)),\(y($0.mean + $0.std))" }
            let lower = line.points.reversed().map { "\(x($0.round)),\(y($0.mean - $0.std))" }
            s += "<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(colour)\" fill-opacity=\"0.12\" stroke=\"none\"/>\n"
            s += "<polyline points=\"\(line.points.map { "\(x($0.round)),\(y($0.mean))" }.joined(separator: " "))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"/>\n"
            for p in line.points { s += "<circle cx=\"\(x(p.round))\" cy=\"\(y(p.mean))\" r=\"3\" fill=\"\(colour)\"/>" }
            let ly = top + 10 + Double(k) * 18
            s += "\n<line x1=\"\(w - right + 12)\" y1=\"\(ly)\" x2=\"\(w - right + 32)\" y2=\"\(ly)\" stroke=\"\(colour)\" stroke-width=\"2\"/>"
            s += "<text x=\"\(w - right + 38)\" y=\"\(ly + 4)\">\(escape(line.name))</text>\n"
        }
        return s + "</svg>\n"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
