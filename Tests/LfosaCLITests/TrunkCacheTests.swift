import Foundation
import Testing
@testable import LfosaCLI
import LfosaEngine
import LfosaNumerics

/// The on-disk cache of pretrained trunks: a hit returns the same weights, a damaged file is
/// retrained and rewritten, a different pool or setting is a different entry.
@Suite struct TrunkCacheTests {
    static func source(seed: UInt64, count: Int = 32) -> ImageBatchSource {
        var rng = SplitMix64(seed: seed)
        return ImageBatchSource(channels: 1, height: 8, width: 8,
                                pixels: (0..<(count * 64)).map { _ in UInt8(rng.nextInt(below: 256)) })
    }

    @Test func hitMissAndDamagedFile() throws {
        let dir = NSTemporaryDirectory() + "lfosa-trunks-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let src = Self.source(seed: 1)
        let settings = RotationPretraining(steps: 4, batchSize: 16)
        let first = try TrunkCache.trunk(source: src, architecture: .referenceCNN, pretraining: settings, cacheDirectory: dir)
        #expect(!first.cached)
        let file = TrunkCache.path(cacheDirectory: dir, source: src, architecture: .referenceCNN, pretraining: settings)
        #expect(FileManager.default.fileExists(atPath: file))
        let second = try TrunkCache.trunk(source: src, architecture: .referenceCNN, pretraining: settings, cacheDirectory: dir)
        #expect(second.cached)
        let sameWeights = second.trunk.network.parameters.map(\.value) == first.trunk.network.parameters.map(\.value)
        #expect(sameWeights)
        #expect(TrunkCache.cached(source: src, architecture: .referenceCNN, pretraining: settings, cacheDirectory: dir) != nil)

        // a truncated file is not trusted: retrained, rewritten
        let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: file))
        #expect(TrunkCache.cached(source: src, architecture: .referenceCNN, pretraining: settings, cacheDirectory: dir) == nil)
        let rebuilt = try TrunkCache.trunk(source: src, architecture: .referenceCNN, pretraining: settings, cacheDirectory: dir)
        #expect(!rebuilt.cached)
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)).count == bytes.count)

        // other pixels or other settings: other entries
        let otherPool = TrunkCache.path(cacheDirectory: dir, source: Self.source(seed: 2), architecture: .referenceCNN, pretraining: settings)
        var longer = settings
        longer.steps = 5
        let otherSettings = TrunkCache.path(cacheDirectory: dir, source: src, architecture: .referenceCNN, pretraining: longer)
        #expect(Set([file, otherPool, otherSettings]).count == 3)
    }

    @Test func simulateRunsFromAPretrainedTrunk() throws {
        var setting = SimulateSetting(dataset: SimulateTests.dataset(train: 240, test: 40), known: .ids([0, 1]), initialPercent: 10,
                                      batch: 12, rounds: 1, profile: SimulateTests.tinyProfile, temperature: 0.5, threshold: nil)
        let train = setting.dataset.train
        let src = ImageBatchSource(channels: train.channels, height: train.height, width: train.width, pixels: train.pixels)
        let pretraining = RotationPretraining(steps: 6, batchSize: 16)
        setting.trunk = PretrainedTrunk(network: try pretraining.train(architecture: .referenceCNN, source: src,
                                                                        indices: Array(0..<train.count)),
                                        pretraining: pretraining)
        let rows = try SimulateRunner.run(setting, strategy: .lfosa, seed: 3, report: { _ in })
        let again = try SimulateRunner.run(setting, strategy: .lfosa, seed: 3, report: { _ in })
        #expect(rows.count == 2 && rows[0].precision != nil)
        #expect(rows.map(\.precision) == again.map(\.precision))
        let plain = try SimulateTests.run(.lfosa, seed: 3)
        #expect(plain.count == 3)
    }
}
