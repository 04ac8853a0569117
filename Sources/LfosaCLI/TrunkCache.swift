import Foundation
import LfosaData
import LfosaEngine
import LfosaNumerics

/// Self-supervised trunks (`RotationPretraining`) cached on disk, keyed by the pool's pixels,
/// the architecture and the pretraining settings, so a pool is pretrained once and every later
/// run (any seed, any strategy) reuses it. A missing, stale or unreadable cache file is
/// retrained and rewritten (atomically); a cache that cannot be written only costs the time.
enum TrunkCache {
    static func key(source: ImageBatchSource, architecture: Architecture, pretraining: RotationPretraining) -> String {
        var h = source.pixels.withUnsafeBytes { ContentHash.xxh64($0, seed: 0x7472_756E) }
        let settings = "\(source.imageShape) \(architecture.rawValue) \(pretraining.steps) \(pretraining.batchSize) "
            + "\(pretraining.maxLearningRate) \(pretraining.momentum) \(pretraining.weightDecay) \(pretraining.seed) "
            + "threads \(ParallelConfiguration.workers)"
            + (pretraining.matmulPrecision == .float32 ? "" : " \(pretraining.matmulPrecision.rawValue)")
            + (pretraining.trainingPrecision == .float32 ? "" : " training \(pretraining.trainingPrecision.rawValue)")
        h = ContentHash.xxh64(Array(settings.utf8), seed: h)
        return ContentHash.hex(h)
    }

    static func path(cacheDirectory: String, source: ImageBatchSource, architecture: Architecture,
                     pretraining: RotationPretraining) -> String {
        "\(cacheDirectory)/trunks/\(key(source: source, architecture: architecture, pretraining: pretraining)).lfw"
    }

    /// The cached trunk for `source`, or nil when there is none (or it is unreadable).
    static func cached(source: ImageBatchSource, architecture: Architecture, pretraining: RotationPretraining,
                       cacheDirectory: String?) -> PretrainedTrunk? {
        guard let cacheDirectory else { return nil }
        return load(file: path(cacheDirectory: cacheDirectory, source: source, architecture: architecture, pretraining: pretraining),
                    imageShape: source.imageShape, architecture: architecture, pretraining: pretraining)
    }

    private static func load(file: String, imageShape: [Int], architecture: Architecture,
                             pretraining: RotationPretraining) -> PretrainedTrunk? {
        guard let bytes = FileManager.default.contents(atPath: file) else { return nil }
        let net = Network.make(architecture, inputShape: imageShape, classes: RotationPretraining.rotations(imageShape: imageShape), seed: 0)
        guard let archive = try? WeightArchive(decoding: [UInt8](bytes)), (try? archive.load(into: net)) != nil else { return nil }
        return PretrainedTrunk(network: net, pretraining: pretraining)
    }

    /// The trunk for `source` (every image of it), from the cache when present.
    static func trunk(source: ImageBatchSource, architecture: Architecture, pretraining: RotationPretraining,
                      cacheDirectory: String?, progress: (TrainingProgress) -> Void = { _ in },
                      isCancelled: () -> Bool = { false }) throws -> (trunk: PretrainedTrunk, cached: Bool) {
        let file = cacheDirectory.map { path(cacheDirectory: $0, source: source, architecture: architecture, pretraining: pretraining) }
        if let file, let trunk = load(file: file, imageShape: source.imageShape, architecture: architecture, pretraining: pretraining) {
            return (trunk, true)
        }
        let net = try pretraining.train(architecture: architecture, source: source, indices: Array(0..<source.count),
                                        progress: progress, isCancelled: isCancelled)
        if let file {
            let dir = (file as NSString).deletingLastPathComponent
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let data = Data(WeightArchive(network: net, metadata: ["kind": "rotation-trunk"]).encoded())
            try? data.write(to: URL(fileURLWithPath: file), options: .atomic)
        }
        return (PretrainedTrunk(network: net, pretraining: pretraining), false)
    }
}
