import Foundation

/// A CSV manifest: one `path,label` line per image; the label may be empty.
///
/// A first line `path,label` (any case) is a header and ignored. Fields may be quoted
/// with `"` (a doubled `""` is a quote). Relative paths are relative to the manifest's
/// directory. Blank lines are ignored; malformed lines are skipped with a reason.
enum CSVManifest {
    struct Entry: Equatable {
        var path: String
        var label: String?
    }

    static func parse(_ text: String, manifestPath: String) -> (entries: [Entry], skipped: [SkippedFile]) {
        let base = (manifestPath as NSString).deletingLastPathComponent
        var entries: [Entry] = []
        var skipped: [SkippedFile] = []
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            guard let fields = splitFields(String(line)) else {
                skipped.append(SkippedFile(path: "\(manifestPath):\(lineNumber)", reason: "unterminated quote"))
                continue
            }
            if lineNumber == 1 && fields.first?.lowercased() == "path" { continue }
            guard fields.count <= 2, let first = fields.first, !first.isEmpty else {
                skipped.append(SkippedFile(path: "\(manifestPath):\(lineNumber)", reason: fields.count > 2 ? "expected `path,label`, found \(fields.count) fields" : "empty path"))
                continue
            }
            let path = first.hasPrefix("/") || base.isEmpty ? first : FileAccess.join(base, first)
            let label = fields.count == 2 && !fields[1].trimmed(" \t").isEmpty ? fields[1].trimmed(" \t") : nil
            entries.append(Entry(path: path, label: label))
        }
        return (entries, skipped)
    }

    /// Splits one CSV line; nil when a quote is not closed.
    static func splitFields(_ line: String) -> [String]? {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var chars = Array(line)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < chars.count && chars[i + 1] == "\"" { current.append("\""); i += 1 } else { quoted = false }
                } else { current.append(c) }
            } else if c == "\"" && current.isEmpty {
                quoted = true
            } else if c == "," {
                fields.append(current); current = ""
            } else {
                current.append(c)
            }
            i += 1
        }
        if quoted { return nil }
        fields.append(current)
        chars.removeAll()
        return fields
    }
}
