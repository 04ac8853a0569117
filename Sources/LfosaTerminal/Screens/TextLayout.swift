/// Small text helpers shared by the screens.
enum TextLayout {
    /// Words of `text` wrapped to lines of at most `width` scalars (long words are cut).
    static func wrap(_ text: String, width: Int) -> [String] {
        guard width > 0 else { return [] }
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            var w = String(word)
            while w.unicodeScalars.count > width {
                if !line.isEmpty { lines.append(line); line = "" }
                let head = String(String.UnicodeScalarView(w.unicodeScalars.prefix(width)))
                lines.append(head)
                w = String(String.UnicodeScalarView(w.unicodeScalars.dropFirst(width)))
            }
            if line.isEmpty { line = w } else if line.unicodeScalars.count + 1 + w.unicodeScalars.count <= width {
                line += " " + w
            } else { lines.append(line); line = w }
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    /// `left` and `right` on one line of `width`, right-aligned, left truncated to fit.
    static func justified(_ left: String, _ right: String, width: Int, ascii: Bool) -> String {
        let rightCount = right.unicodeScalars.count
        let room = width - rightCount - 1
        guard room > 0 else { return String(String.UnicodeScalarView(right.unicodeScalars.suffix(max(0, width)))) }
        var l = Array(left.unicodeScalars)
        if l.count > room { l = Array(l.prefix(room - 1)) + [ascii ? "~" : "…"] }
        let pad = width - l.count - rightCount
        return String(String.UnicodeScalarView(l)) + String(repeating: " ", count: pad) + right
    }

    /// A number with 2 decimals ("0.67"), or "–" ("-" in ASCII) when nil/NaN.
    static func fixed2(_ v: Double?, ascii: Bool = false) -> String {
        guard let v, v.isFinite else { return ascii ? "-" : "–" }
        let r = (v * 100).rounded() / 100
        let whole = Int(r.magnitude)
        let frac = Int(((r.magnitude - Double(whole)) * 100).rounded())
        return (r < 0 ? "-" : "") + "\(whole)." + (frac < 10 ? "0" : "") + "\(frac)"
    }

    /// A duration as "850ms", "12s", "3m05s" or "1h02m".
    static func duration(_ d: Duration) -> String {
        let ms = Int(d / .milliseconds(1))
        if ms < 1000 { return "\(max(0, ms))ms" }
        let s = ms / 1000
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" + (s % 60 < 10 ? "0" : "") + "\(s % 60)s" }
        return "\(s / 3600)h" + ((s / 60) % 60 < 10 ? "0" : "") + "\((s / 60) % 60)m"
    }
}
