/// Which CIFAR binary layout a directory holds.
public enum CIFARVariant: String, Sendable, CaseIterable {
    /// `data_batch_{1…5}.bin`, `test_batch.bin`, `batches.meta.txt`; records 1 label + 3072 bytes.
    case cifar10
    /// `train.bin`, `test.bin`, `fine_label_names.txt`, `coarse_label_names.txt`; records coarse + fine + 3072 bytes.
    case cifar100

    var recordSize: Int { self == .cifar10 ? 3073 : 3074 }
    var classCount: Int { self == .cifar10 ? 10 : 100 }
}

/// Reader for the official CIFAR-10 / CIFAR-100 binary distributions.
///
/// Pixels are already CHW planar 3×32×32 and are kept as is. A file whose size is not a
/// multiple of the record size, or with a label byte out of range, makes the whole source
/// unusable (`DataError`).
public enum CIFARReader {
    public static let imageBytes = 3072
    public static let cifar10Names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    /// Loads a CIFAR binary directory into train and test pools.
    public static func load(directory: String, variant: CIFARVariant) throws(DataError) -> LoadedDataset {
        guard FileAccess.isDirectory(directory) else {
            throw DataError(path: directory, problem: FileAccess.status(directory).failureProblem ?? "not a directory (CIFAR sources are the extracted *-bin directory)")
        }
        let trainFiles: [String]
        let testFile: String
        var classNames: [String]
        var coarseNames: [String]? = nil
        switch variant {
        case .cifar10:
            trainFiles = (1...5).map { FileAccess.join(directory, "data_batch_\($0).bin") }.filter(FileAccess.isRegularFile)
            testFile = FileAccess.join(directory, "test_batch.bin")
            classNames = readNames(FileAccess.join(directory, "batches.meta.txt"), expected: 10) ?? cifar10Names
        case .cifar100:
            trainFiles = [FileAccess.join(directory, "train.bin")].filter(FileAccess.isRegularFile)
            testFile = FileAccess.join(directory, "test.bin")
            classNames = readNames(FileAccess.join(directory, "fine_label_names.txt"), expected: 100) ?? (0..<100).map { "class_\($0)" }
            coarseNames = readNames(FileAccess.join(directory, "coarse_label_names.txt"), expected: 20) ?? (0..<20).map { "superclass_\($0)" }
        }
        if trainFiles.isEmpty {
            let expected = variant == .cifar10 ? "data_batch_*.bin" : "train.bin"
            throw DataError(path: directory, problem: "no \(expected) found (not a \(variant.rawValue) binary directory)")
        }
        let train = try loadFiles(trainFiles, variant: variant, classNames: classNames, coarseNames: coarseNames)
        var test: ImagePool? = nil
        if FileAccess.isRegularFile(testFile) {
            test = try loadFiles([testFile], variant: variant, classNames: classNames, coarseNames: coarseNames)
        }
        return LoadedDataset(train: train, test: test, format: variant.rawValue, skipped: [], path: directory,
                             originalSizes: [SizeCount(width: 32, height: 32, count: train.count + (test?.count ?? 0))], resize: nil)
    }

    /// Parses the records of one CIFAR binary file.
    ///
    /// Throws for an empty file, a size that is not a multiple of the record size, or a
    /// label out of range.
    public static func parse(_ bytes: [UInt8], path: String, variant: CIFARVariant,
                             classNames: [String]? = nil, coarseNames: [String]? = nil) throws(DataError) -> ImagePool {
        try checkSize(bytes.count, path: path, variant: variant)
        var buffer = bytes
        return try parseRecords(&buffer, segments: [(path, bytes.count / variant.recordSize)], variant: variant,
                                classNames: classNames, coarseNames: coarseNames)
    }

    /// Reads `files` one after another into one buffer and parses them as one pool.
    static func loadFiles(_ files: [String], variant: CIFARVariant, classNames: [String], coarseNames: [String]?) throws(DataError) -> ImagePool {
        var segments: [(String, Int)] = []
        var sizes: [Int] = []
        for file in files {
            let size = try FileAccess.size(file, maxBytes: 1 << 31)
            try checkSize(size, path: file, variant: variant)
            sizes.append(size)
            segments.append((file, size / variant.recordSize))
        }
        let total = sizes.reduce(0, +)
        var failure: DataError? = nil
        var buffer = [UInt8](unsafeUninitializedCapacity: total) { raw, initialized in
            var offset = 0
            for (file, size) in zip(files, sizes) {
                do throws(DataError) { try FileAccess.read(file, into: UnsafeMutableRawPointer(raw.baseAddress! + offset), count: size) } catch {
                    failure = error
                    break
                }
                offset += size
            }
            initialized = failure == nil ? total : 0
        }
        if let failure { throw failure }
        return try parseRecords(&buffer, segments: segments, variant: variant, classNames: classNames, coarseNames: coarseNames)
    }

    static func checkSize(_ size: Int, path: String, variant: CIFARVariant) throws(DataError) {
        let record = variant.recordSize
        if size == 0 { throw DataError(path: path, problem: "empty file (0 bytes)") }
        guard size % record == 0 else {
            throw DataError(path: path, problem: "size \(size) bytes is not a multiple of the \(variant.rawValue) record size \(record) (truncated or not a \(variant.rawValue) file)")
        }
    }

    /// Validates labels, then compacts the records' pixels in place (each image moves to
    /// `i × 3072`, never past a record not yet read) and hashes them in parallel; the
    /// buffer becomes the pool's pixel storage without another copy.
    static func parseRecords(_ bytes: inout [UInt8], segments: [(String, Int)], variant: CIFARVariant,
                             classNames: [String]?, coarseNames: [String]?) throws(DataError) -> ImagePool {
        let record = variant.recordSize
        let n = bytes.count / record
        var labels = [Int?](repeating: nil, count: n)
        var coarse = variant == .cifar100 ? [Int](repeating: 0, count: n) : nil
        var segment = 0, segmentStart = 0
        for i in 0..<n {
            while i - segmentStart >= segments[segment].1 { segmentStart += segments[segment].1; segment += 1 }
            let base = i * record
            if variant == .cifar100 {
                let c = Int(bytes[base]), f = Int(bytes[base + 1])
                guard c < 20, f < 100 else {
                    throw DataError(path: segments[segment].0, problem: "record \(i - segmentStart) has labels coarse \(c) / fine \(f), out of range (20 / 100)")
                }
                coarse![i] = c
                labels[i] = f
            } else {
                let l = Int(bytes[base])
                guard l < 10 else { throw DataError(path: segments[segment].0, problem: "record \(i - segmentStart) has label \(l), out of range 0…9") }
                labels[i] = l
            }
        }
        let headerBytes = record - imageBytes
        bytes.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress!
            for i in 0..<n { (base + i * imageBytes).copyMemory(from: base + i * record + headerBytes, byteCount: imageBytes) }
        }
        bytes.removeLast(bytes.count - n * imageBytes)
        let hashes = IDXReader.parallelHashes(bytes, count: n, size: imageBytes)
        return ImagePool(channels: 3, height: 32, width: 32, pixels: bytes, labels: labels,
                         classNames: classNames ?? (variant == .cifar10 ? cifar10Names : (0..<100).map { "class_\($0)" }),
                         identities: hashes.map(ContentHash.hex), paths: [String?](repeating: nil, count: n),
                         coarseLabels: coarse, coarseClassNames: variant == .cifar100 ? (coarseNames ?? (0..<20).map { "superclass_\($0)" }) : nil)
    }

    /// Class names, one per non-empty line; nil when the file is missing or has the wrong count.
    static func readNames(_ path: String, expected: Int) -> [String]? {
        guard let bytes = try? FileAccess.read(path, maxBytes: 1 << 20) else { return nil }
        let names = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmed(" \t\r") }.filter { !$0.isEmpty }
        return names.count == expected ? names : nil
    }
}
