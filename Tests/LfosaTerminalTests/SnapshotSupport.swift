import Testing
@testable import LfosaTerminal
#if canImport(Glibc)
import Glibc
#endif

/// Compares `actual` (trailing spaces of each line removed) with the stored snapshot `name`
/// in `Snapshots.table`. On a mismatch or a missing snapshot the test fails and the actual
/// text is written to /tmp/lfosa-snapshots/<name>.txt. To re-record: review that file, then
/// paste it into `Snapshots.table` as `"<name>": ##"""` … `"""##` (indented 8 spaces).
func expectSnapshot(_ actual: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let normalized = normalizeSnapshot(actual)
    let stored = Snapshots.table[name].map(normalizeSnapshot)
    if stored != normalized {
        mkdir("/tmp/lfosa-snapshots", 0o755)
        if let f = fopen("/tmp/lfosa-snapshots/\(name).txt", "w") {
            fputs(normalized, f)
            fclose(f)
        }
        Issue.record(stored == nil ? "no snapshot \(name) (actual written to /tmp/lfosa-snapshots)"
                     : "snapshot \(name) differs (actual written to /tmp/lfosa-snapshots)", sourceLocation: sourceLocation)
    }
}

/// Lines with trailing spaces removed, trailing empty lines dropped.
func normalizeSnapshot(_ s: String) -> String {
    var lines = s.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
        var l = String(line)
        while l.last == " " { l.removeLast() }
        return l
    }
    while lines.last == "" { lines.removeLast() }
    return lines.joined(separator: "\n")
}
