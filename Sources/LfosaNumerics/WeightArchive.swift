/// A network's weights as bytes: a versioned binary format with a checksum.
///
/// Layout (little endian): magic `LFOSAWTS`, UInt32 format version, UInt32 metadata count,
/// metadata (key, value) strings, UInt32 tensor count, then per tensor: name, UInt32 rank,
/// rank × UInt32 dimensions, Float32 values; finally UInt64 FNV-1a of every preceding byte.
/// Strings are UInt32 length + UTF-8. A truncated, foreign, corrupted or newer file is
/// rejected with a `WeightArchiveError` saying which.
public struct WeightArchive: Sendable, Equatable {
    public static let formatVersion: UInt32 = 1
    static let magic: [UInt8] = Array("LFOSAWTS".utf8)

    public struct Entry: Sendable, Equatable {
        public var name: String
        public var shape: [Int]
        public var values: [Float]
    }

    public var metadata: [String: String]
    public var entries: [Entry]

    /// The archive of a network's parameters and buffers (names are the layers' names).
    public init(network: Network, metadata: [String: String] = [:]) {
        self.metadata = metadata
        entries = network.parameters.map { Entry(name: $0.name, shape: $0.shape, values: $0.value) }
            + network.buffers.map { Entry(name: $0.name, shape: [$0.value.count], values: $0.value) }
    }

    /// Serialises the archive.
    public func encoded() -> [UInt8] {
        var out = WeightArchive.magic
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func str(_ s: String) { let b = Array(s.utf8); u32(UInt32(b.count)); out.append(contentsOf: b) }
        u32(WeightArchive.formatVersion)
        let keys = metadata.keys.sorted()
        u32(UInt32(keys.count))
        for k in keys { str(k); str(metadata[k]!) }
        u32(UInt32(entries.count))
        for e in entries {
            str(e.name)
            u32(UInt32(e.shape.count))
            for d in e.shape { u32(UInt32(d)) }
            for v in e.values { u32(v.bitPattern) }
        }
        let h = fnv1a(out[...])
        withUnsafeBytes(of: h.littleEndian) { out.append(contentsOf: $0) }
        return out
    }

    /// Parses bytes produced by `encoded()`.
    public init(decoding bytes: [UInt8]) throws {
        guard bytes.count >= 8, Array(bytes[0..<8]) == WeightArchive.magic else { throw WeightArchiveError.notAWeightFile }
        guard bytes.count >= 8 + 4 + 8 else { throw WeightArchiveError.truncated }
        let body = bytes[0..<(bytes.count - 8)]
        var stored: UInt64 = 0
        for i in 0..<8 { stored |= UInt64(bytes[bytes.count - 8 + i]) << (8 * UInt64(i)) }
        var r = ByteReader(bytes: bytes, end: bytes.count - 8, position: 8)
        let version = try r.u32()
        guard version <= WeightArchive.formatVersion else { throw WeightArchiveError.newerVersion(version) }
        guard fnv1a(body) == stored else {
            // A short file usually fails here too; tell the two apart by whether parsing reaches the end.
            throw (try? WeightArchive.parseBody(&r)) == nil ? WeightArchiveError.truncated : WeightArchiveError.checksumMismatch
        }
        (metadata, entries) = try WeightArchive.parseBody(&r)
    }

    private static func parseBody(_ r: inout ByteReader) throws -> ([String: String], [Entry]) {
        var meta: [String: String] = [:]
        let mc = try r.u32()
        for _ in 0..<mc { let k = try r.string(); meta[k] = try r.string() }
        let n = try r.u32()
        var entries: [Entry] = []
        for _ in 0..<n {
            let name = try r.string()
            let rank = try r.u32()
            guard rank <= 8 else { throw WeightArchiveError.truncated }
            var shape: [Int] = []
            for _ in 0..<rank { shape.append(Int(try r.u32())) }
            let count = shape.reduce(1, *)
            guard count <= (r.end - r.position) / 4 else { throw WeightArchiveError.truncated }
            var values = [Float](repeating: 0, count: count)
            for i in 0..<count { values[i] = Float(bitPattern: try r.u32()) }
            entries.append(Entry(name: name, shape: shape, values: values))
        }
        guard r.position == r.end else { throw WeightArchiveError.checksumMismatch }
        return (meta, entries)
    }

    /// Copies the archive's values into `network`; names and shapes must match exactly.
    public func load(into network: Network) throws {
        var byName: [String: Entry] = [:]
        for e in entries { byName[e.name] = e }
        for p in network.parameters {
            guard let e = byName[p.name] else { throw WeightArchiveError.architectureMismatch("missing \(p.name)") }
            guard e.shape == p.shape else {
                throw WeightArchiveError.architectureMismatch("\(p.name) has shape \(e.shape), network expects \(p.shape)")
            }
        }
        for b in network.buffers {
            guard let e = byName[b.name], e.values.count == b.value.count else {
                throw WeightArchiveError.architectureMismatch("missing or misshapen \(b.name)")
            }
        }
        guard entries.count == network.parameters.count + network.buffers.count else {
            throw WeightArchiveError.architectureMismatch("file has \(entries.count) tensors, network has \(network.parameters.count + network.buffers.count)")
        }
        for p in network.parameters { p.value = byName[p.name]!.values }
        for b in network.buffers { b.value = byName[b.name]!.values }
    }
}

/// Why weights could not be read.
public enum WeightArchiveError: Error, Equatable, CustomStringConvertible {
    case notAWeightFile
    case truncated
    case checksumMismatch
    case newerVersion(UInt32)
    case architectureMismatch(String)

    public var description: String {
        switch self {
        case .notAWeightFile: return "not an lfosa weight file (bad magic)"
        case .truncated: return "weight file is truncated"
        case .checksumMismatch: return "weight file is corrupted (checksum mismatch)"
        case .newerVersion(let v): return "weight file format \(v) is newer than this lfosa supports (\(WeightArchive.formatVersion))"
        case .architectureMismatch(let s): return "weights do not fit this network: \(s)"
        }
    }
}

struct ByteReader {
    let bytes: [UInt8]
    let end: Int
    var position: Int

    mutating func u32() throws -> UInt32 {
        guard position + 4 <= end else { throw WeightArchiveError.truncated }
        let v = UInt32(bytes[position]) | UInt32(bytes[position + 1]) << 8
            | UInt32(bytes[position + 2]) << 16 | UInt32(bytes[position + 3]) << 24
        position += 4
        return v
    }

    mutating func string() throws -> String {
        let n = Int(try u32())
        guard n <= end - position else { throw WeightArchiveError.truncated }
        defer { position += n }
        return String(decoding: bytes[position..<(position + n)], as: UTF8.self)
    }
}

/// 64-bit FNV-1a hash.
func fnv1a(_ bytes: ArraySlice<UInt8>) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
    return h
}
