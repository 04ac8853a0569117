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
        h = ContentHash.xxh64(Array(settings.utf8), seed: h)
        return ContentHash.hex(h)
    }

    /// The trunk for `source` (every image of it), from the cache when present.
    static func trunk(source: ImageBatchSource, architecture: Architecture, pretraining: RotationPretraining,
                      cacheDirectory: String?, progress: (TrainingProgress) -> Void = { _ in },
                      isCancelled: () -> Bool = { false }) throws -> (trunk: PretrainedTrunk, cached: Bool) {
        let r = RotationPretraining.rotations(imageShape: source.imageShape)
        let file = cacheDirectory.map { "\($0)/trunks/\(key(source: source, architecture: architecture, pretraining: pretraining)).lfw" }
        if let file, let bytes = FileManager.default.contents(atPath: file) {
            let net = Network.make(architecture, inputShape: source.imageShape, classes: r, seed: 0)
            if let archive = try? WeightArchive(decoding: [UInt8](bytes)), (try? archive.load(into: net)) != nil {
                return (PretrainedTrunk(network: net, pretraining: pretraining), true)
            }
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
