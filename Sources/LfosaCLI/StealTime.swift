import Foundation

/// CPU time the hypervisor ran something else on this virtual machine's CPUs ("steal" in
/// `/proc/stat`, summed over the CPUs): recorded around each selection so a slow round on a VM
/// can be told from a slow kernel.
enum StealTime {
    /// Seconds of steal in the text of `/proc/stat`: the aggregate `cpu` line's eighth value,
    /// in clock ticks of `ticksPerSecond`. Nil when that line is missing or malformed (an older
    /// kernel without the field, or not Linux).
    static func seconds(procStat text: String, ticksPerSecond: Double) -> Double? {
        guard ticksPerSecond > 0,
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        let fields = line.split(separator: " ").dropFirst()
        guard fields.count >= 8, let ticks = Double(fields[fields.startIndex + 7]) else { return nil }
        return ticks / ticksPerSecond
    }

    /// The machine's steal so far (seconds), or nil where `/proc/stat` is unreadable.
    static func now() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        return seconds(procStat: text, ticksPerSecond: Double(sysconf(Int32(_SC_CLK_TCK))))
    }
}
