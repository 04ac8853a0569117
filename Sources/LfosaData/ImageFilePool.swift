/// Decoding a list of image files into an `ImagePool`, in parallel.
///
/// Files that fail to read or decode are skipped with the reason; the rest keep their
/// order. Identity = XXH64 of the file's bytes.
enum ImageFilePool {
    struct Item: Sendable {
        var path: String
        var label: Int?
    }

    struct Output {
        var pool: ImagePool
        var skipped: [SkippedFile]
        var sizes: [SizeCount]
    }

    static func build(_ items: [Item], classNames: [String], policy: ResizePolicy, limits: DecodeLimits, workers: Int) -> Output {
        let n = items.count
        let imageSize = 3 * policy.width * policy.height
        let plane = policy.width * policy.height
        var pixels = [UInt8](repeating: 0, count: n * imageSize)
        var hashes = [UInt64](repeating: 0, count: n)
        var widths = [Int](repeating: 0, count: n)
        var heights = [Int](repeating: 0, count: n)
        let errors = UnsafeMutablePointer<DataError?>.allocate(capacity: max(n, 1))
        errors.initialize(repeating: nil, count: max(n, 1))
        defer { errors.deinitialize(count: max(n, 1)); errors.deallocate() }
        pixels.withUnsafeMutableBufferPointer { px in
            hashes.withUnsafeMutableBufferPointer { hs in
                widths.withUnsafeMutableBufferPointer { ws in
                    heights.withUnsafeMutableBufferPointer { hts in
                        let p = SharedBuffer(base: px.baseAddress ?? .allocate(capacity: 0), count: px.count)
                        let h = SharedBuffer(base: hs.baseAddress ?? .allocate(capacity: 0), count: n)
                        let w = SharedBuffer(base: ws.baseAddress ?? .allocate(capacity: 0), count: n)
                        let ht = SharedBuffer(base: hts.baseAddress ?? .allocate(capacity: 0), count: n)
                        let e = SharedBuffer(base: errors, count: n)
                        ParallelWork.forEachBlock(count: n, block: 32, workers: workers) { _, range in
                            let decoder = ImageFileDecoder(limits: limits)
                            for i in range {
                                do throws(DataError) {
                                    let d = try decoder.decodeForPool(items[i].path, policy: policy)
                                    let dst = p.base + i * imageSize
                                    d.image.pixels.withUnsafeBufferPointer { src in
                                        for k in 0..<plane {
                                            dst[k] = src[3 * k]
                                            dst[plane + k] = src[3 * k + 1]
                                            dst[2 * plane + k] = src[3 * k + 2]
                                        }
                                    }
                                    h[i] = d.hash
                                    w[i] = d.width
                                    ht[i] = d.height
                                } catch {
                                    e[i] = error
                                }
                            }
                        }
                    }
                }
            }
        }
        var skipped: [SkippedFile] = []
        var keep: [Int] = []
        keep.reserveCapacity(n)
        for i in 0..<n {
            if let error = errors[i] { skipped.append(SkippedFile(path: error.path, reason: error.problem)) } else { keep.append(i) }
        }
        if keep.count < n {
            var compact = [UInt8](repeating: 0, count: keep.count * imageSize)
            for (j, i) in keep.enumerated() {
                compact[(j * imageSize)..<((j + 1) * imageSize)] = pixels[(i * imageSize)..<((i + 1) * imageSize)]
            }
            pixels = compact
        }
        var sizeCounts: [SizeKey: Int] = [:]
        for i in keep { sizeCounts[SizeKey(width: widths[i], height: heights[i]), default: 0] += 1 }
        let sizes = sizeCounts.map { SizeCount(width: $0.key.width, height: $0.key.height, count: $0.value) }
            .sorted { ($0.count, $1.width, $1.height) > ($1.count, $0.width, $0.height) }
        let pool = ImagePool(channels: 3, height: policy.height, width: policy.width, pixels: pixels,
                             labels: keep.map { items[$0].label }, classNames: classNames,
                             identities: keep.map { ContentHash.hex(hashes[$0]) }, paths: keep.map { items[$0].path })
        return Output(pool: pool, skipped: skipped, sizes: sizes)
    }

    private struct SizeKey: Hashable { var width: Int, height: Int }
}
