/// The on-disk cache of decoded pools.
///
/// One file per (source, resize policy, limits) in `directory`; inside it a content key
/// (fingerprint of the source's files: names, sizes, modification times, inodes) and an
/// XXH64 checksum of the payload. A missing file, a key mismatch (stale) or any
/// corruption is a miss: the caller rebuilds and stores again. Writes are atomic
/// (temporary file + rename).
public struct DecodeCache: Sendable {
    public var directory: String
    static let magic: [UInt8] = Array("LFOSAPC1".utf8)
    static let version: UInt64 = 1

    public init(directory: String) {
        self.directory = directory
    }

    /// The cache file for a slot name.
    func file(slot: UInt64) -> String { FileAccess.join(directory, "pool-\(ContentHash.hex(slot)).bin") }

    /// The cached dataset for `slot` if its key matches and it is intact.
    func load(slot: UInt64, key: UInt64) -> LoadedDataset? {
        guard let bytes = try? FileAccess.read(file(slot: slot), maxBytes: Int.max) else { return nil }
        let headerSize = 8 + 8 * 4
        guard bytes.count >= headerSize, Array(bytes[0..<8]) == DecodeCache.magic else { return nil }
        var r = ByteReader(bytes[8..<headerSize])
        guard r.u64() == DecodeCache.version, r.u64() == key, let length = r.u64(), let checksum = r.u64(),
              length == UInt64(bytes.count - headerSize) else { return nil }
        let sum = bytes.withUnsafeBytes { ContentHash.xxh64(UnsafeRawBufferPointer(rebasing: $0[headerSize...])) }
        guard sum == checksum else { return nil }
        return PoolArchive.decode(bytes[headerSize...])
    }

    /// Stores `dataset` for `slot` under `key`, atomically.
    func store(_ dataset: LoadedDataset, slot: UInt64, key: UInt64) throws(DataError) {
        try FileAccess.makeDirectories(directory)
        let payload = PoolArchive.encode(dataset)
        var w = ByteWriter()
        w.raw(DecodeCache.magic)
        w.u64(DecodeCache.version)
        w.u64(key)
        w.u64(UInt64(payload.count))
        w.u64(ContentHash.xxh64(payload))
        w.bytes.append(contentsOf: payload)
        try FileAccess.writeAtomically(w.bytes, to: file(slot: slot))
    }
}

/// Accumulates the bytes that identify a source's state, hashed into a cache key.
struct Fingerprint {
    private var writer = ByteWriter()

    mutating func add(_ s: String) { writer.string(s) }
    mutating func add(_ v: Int) { writer.u64(UInt64(bitPattern: Int64(v))) }
    mutating func add(_ v: UInt64) { writer.u64(v) }

    /// Adds a file's path, size, modification time and inode (or its absence).
    mutating func addFile(_ path: String) {
        add(path)
        switch FileAccess.status(path) {
        case .success(let st):
            add(Int(st.st_size)); add(Int(st.st_mtim.tv_sec)); add(Int(st.st_mtim.tv_nsec)); add(UInt64(st.st_ino))
        case .failure(let e):
            add("missing: " + e.problem)
        }
    }

    var value: UInt64 { ContentHash.xxh64(writer.bytes) }
}

#if canImport(Glibc)
import Glibc
#endif
