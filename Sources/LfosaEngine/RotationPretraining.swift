import LfosaNumerics

/// Self-supervised pretraining of a network's trunk on the unlabeled pool itself: the network
/// learns to tell which of four quarter turns was applied to an image (RotNet, Gidaris et al.,
/// ICLR 2018). Recognising "which way is up" needs object-level features, and the pool is data
/// the user already has, so detector and classifier can start every run from those features
/// instead of from random weights.
///
/// Every step takes `batchSize / rotations` images (with the usual crop/flip augmentation) and
/// all their rotations — 4 for square images, 2 (upright and upside down) otherwise. Pure and
/// seeded: the same images and settings give the same network.
public struct RotationPretraining: Sendable, Equatable, Codable {
    public var steps: Int
    public var batchSize: Int
    public var maxLearningRate: Float
    public var momentum: Float
    public var weightDecay: Float
    public var seed: UInt64
    /// Whether the dense layers of the trunk (e.g. the reference CNN's 2048→256 layer) are
    /// transferred too, or only the convolutional part (up to flatten / global pooling).
    public var transfersDenseLayers: Bool
    /// Precision of the pretraining network's matrix products.
    public var matmulPrecision: MatmulPrecision = .float32
    /// Precision of its convolutions' training products (see `TrainingPrecision`).
    public var trainingPrecision: TrainingPrecision = .float32

    public init(steps: Int, batchSize: Int = 128, maxLearningRate: Float = 0.05, momentum: Float = 0.9,
                weightDecay: Float = 5e-4, seed: UInt64 = 0x524F_544E, transfersDenseLayers: Bool = false) {
        self.steps = steps
        self.batchSize = batchSize
        self.maxLearningRate = maxLearningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.seed = seed
        self.transfersDenseLayers = transfersDenseLayers
    }

    /// Number of rotation classes for an image shape [C, H, W].
    public static func rotations(imageShape: [Int]) -> Int { imageShape[1] == imageShape[2] ? 4 : 2 }

    /// Steps for a pool of `images`: `epochs` passes over every rotation of every image,
    /// clamped to `range`.
    public static func steps(images: Int, epochs: Double, batchSize: Int = 128, range: ClosedRange<Int>) -> Int {
        let perEpoch = Double(max(1, images) * 4) / Double(batchSize)
        return min(range.upperBound, max(range.lowerBound, Int((perEpoch * epochs).rounded())))
    }

    /// Trains a rotation classifier of `architecture` on `indices` of `source`. Throws
    /// `EngineError.cancelled` when `isCancelled` returns true (checked every step).
    public func train(architecture: Architecture, source: ImageBatchSource, indices: [Int],
                      progress: (TrainingProgress) -> Void = { _ in }, isCancelled: () -> Bool = { false }) throws -> Network {
        precondition(!indices.isEmpty && steps > 0)
        let r = Self.rotations(imageShape: source.imageShape)
        var rng = SplitMix64(seed: seed)
        let net = Network.make(architecture, inputShape: source.imageShape, classes: r, seed: rng.next())
        net.matmulPrecision = matmulPrecision
        net.trainingPrecision = trainingPrecision
        let perStep = max(1, batchSize / r)
        let normalization = Normalization.centered(channels: source.channels)
        var order = indices
        seededShuffle(&order, using: &rng)
        var cursor = 0
        let stepsPerEpoch = max(1, (indices.count + perStep - 1) / perStep)
        let schedule = LearningRateSchedule.oneCycle(max: maxLearningRate, warmupFraction: 0.15)
        var sgd = SGD(learningRate: 0, momentum: momentum, weightDecay: weightDecay)
        var windowLoss: Float = 0, windowSteps = 0
        let reportEvery = max(1, min(20, steps / 20))
        let turnsPerImage = r == 4 ? [0, 1, 2, 3] : [0, 2]
        for step in 0..<steps {
            if isCancelled() { throw EngineError.cancelled }
            var picked = [Int]()
            picked.reserveCapacity(perStep * r)
            for _ in 0..<perStep {
                if cursor == order.count { seededShuffle(&order, using: &rng); cursor = 0 }
                for _ in 0..<r { picked.append(order[cursor]) }
                cursor += 1
            }
            var x = makeBatch(from: source, indices: picked, augmentation: .cropFlip, normalization: normalization, rng: &rng)
            let labels = (0..<picked.count).map { $0 % r }
            rotateQuarterTurns(&x, turns: labels.map { turnsPerImage[$0] })
            sgd.learningRate = schedule.rate(step: step, totalSteps: steps, stepsPerEpoch: stepsPerEpoch)
            net.zeroGradients()
            let logits = net.forward(x, mode: .training)
            let (loss, grad) = softmaxCrossEntropy(logits: logits, labels: labels,
                                                   temperatures: [Float](repeating: 1, count: labels.count))
            net.backward(grad)
            sgd.step(net.parameters)
            windowLoss += loss; windowSteps += 1
            if (step + 1) % reportEvery == 0 || step + 1 == steps {
                progress(TrainingProgress(role: .trunk, epoch: Double(step + 1) / Double(stepsPerEpoch), step: step + 1,
                                          totalSteps: steps, loss: windowLoss / Float(windowSteps)))
                windowLoss = 0; windowSteps = 0
            }
        }
        return net
    }

    /// How many leading trunk layers of `network` a pretrained trunk seeds.
    public func transferredLayers(of network: Network) -> Int {
        if transfersDenseLayers { return network.trunk.count }
        return network.trunk.firstIndex { $0 is Flatten || $0 is GlobalAveragePool } ?? network.trunk.count
    }
}

/// A trunk learned by `RotationPretraining`, with the settings that made it.
public struct PretrainedTrunk {
    public let network: Network
    public let pretraining: RotationPretraining
    public init(network: Network, pretraining: RotationPretraining) {
        self.network = network
        self.pretraining = pretraining
    }
}
