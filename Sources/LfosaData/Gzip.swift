import CZlib

/// Gzip (and zlib) decompression through zlib, with an output-size bound.
enum Gzip {
    /// True when `bytes` starts with the gzip magic 1F 8B.
    static func isGzip(_ bytes: [UInt8]) -> Bool { bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B }

    /// The decompressed content of a gzip file; throws for corrupt or truncated data or
    /// output above `maxBytes` (gzip bombs).
    static func inflate(_ bytes: [UInt8], path: String, maxBytes: Int) throws(DataError) -> [UInt8] {
        var stream = z_stream()
        if lfosa_inflateInit2(&stream, 15 + 32) != Z_OK { throw DataError(path: path, problem: "cannot initialise zlib") }
        defer { inflateEnd(&stream) }
        // The gzip trailer holds the size modulo 2^32: a good first guess.
        var capacity = 1 << 16
        if bytes.count >= 4 {
            let n = bytes.count
            let isize = Int(bytes[n - 4]) | Int(bytes[n - 3]) << 8 | Int(bytes[n - 2]) << 16 | Int(bytes[n - 1]) << 24
            capacity = max(capacity, min(isize + 1, maxBytes + 1, 1 << 31))
        }
        var out = [UInt8](repeating: 0, count: capacity)
        var produced = 0
        var status: Int32 = Z_OK
        try bytes.withUnsafeBufferPointer { (input) throws(DataError) in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = uInt(input.count)
            while true {
                if produced == out.count {
                    if out.count > maxBytes { throw DataError(path: path, problem: "gzip data expands beyond \(maxBytes) bytes") }
                    out.append(contentsOf: repeatElement(0, count: min(out.count, maxBytes + 1 - out.count + 1)))
                }
                let room = min(out.count - produced, Int(UInt32.max))
                status = out.withUnsafeMutableBufferPointer { o in
                    stream.next_out = o.baseAddress! + produced
                    stream.avail_out = uInt(room)
                    let s = CZlib.inflate(&stream, Z_NO_FLUSH)
                    produced += room - Int(stream.avail_out)
                    return s
                }
                if status == Z_STREAM_END { break }
                if status == Z_BUF_ERROR && stream.avail_in == 0 {
                    throw DataError(path: path, problem: "truncated gzip data")
                }
                if status != Z_OK && status != Z_BUF_ERROR {
                    let text = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw DataError(path: path, problem: "corrupt gzip data: \(text)")
                }
            }
        }
        if produced > maxBytes { throw DataError(path: path, problem: "gzip data expands beyond \(maxBytes) bytes") }
        out.removeLast(out.count - produced)
        return out
    }
}
