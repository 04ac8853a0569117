/// RFC 4180 CSV: fields separated by commas, quoted with `"` when they hold `,`, `"` or newlines.
///
/// `parse` accepts LF or CRLF line ends and a final line without one; it returns each record with
/// its 1-based starting line number, skipping empty lines. `field` quotes only when needed.
enum CSVFormat {
    struct Record: Equatable { var line: Int; var fields: [String] }

    enum ParseError: Error, Equatable { case unterminatedQuote(line: Int), strayQuote(line: Int) }

    static func parse(_ text: String) throws(ParseError) -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field = ""
        var line = 1, recordLine = 1
        var inQuotes = false, fieldWasQuoted = false, atFieldStart = true
        var iterator = Array(text.unicodeScalars).makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let p = pending { pending = nil; return p }
            return iterator.next()
        }
        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty && !fieldWasQuoted) {
                records.append(Record(line: recordLine, fields: fields))
            }
            fields = []; field = ""; fieldWasQuoted = false; atFieldStart = true
        }
        while let c = next() {
            if inQuotes {
                if c == "\"" {
                    if let n = next() {
                        if n == "\"" { field.unicodeScalars.append("\"") } else { inQuotes = false; pending = n }
                    } else { inQuotes = false }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case ",":
                fields.append(field); field = ""; fieldWasQuoted = false; atFieldStart = true
            case "\r":
                continue
            case "\n":
                endRecord(); line += 1; recordLine = line
            case "\"":
                guard atFieldStart else { throw .strayQuote(line: line) }
                inQuotes = true; fieldWasQuoted = true; atFieldStart = false
            default:
                if fieldWasQuoted { throw .strayQuote(line: line) }
                field.unicodeScalars.append(c); atFieldStart = false
            }
        }
        if inQuotes { throw .unterminatedQuote(line: recordLine) }
        if !fields.isEmpty || !field.isEmpty || fieldWasQuoted { endRecord() }
        return records
    }

    static func field(_ value: String) -> String {
        if value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return value
    }

    static func line(_ values: [String]) -> String {
        values.map(field).joined(separator: ",") + "\n"
    }
}
