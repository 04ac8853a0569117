/// An ordered chain of layers: a feature trunk followed by a head.
///
/// `forward` takes an NCHW batch and returns `[N, classes]` logits; `features` are the
/// `[N, D]` activations entering the head's last layer (the penultimate representation that
/// Coreset and OpenMax use).
public final class Network {
    public let trunk: [Layer]
    public let head: Layer
    public let classes: Int
    public let inputShape: [Int]   // [C, H, W]

    /// Whether training fuses `BatchNorm, MaxPool(2), ReLU` into one pass (tests turn it off to
    /// compare against the layers one by one).
    public var fusesBatchNormPooling = true
    /// Fused spans of the last training forward: last layer index → first (the batch norm).
    private var fusedSpans: [Int: Int] = [:]

    public init(trunk: [Layer], head: Layer, classes: Int, inputShape: [Int]) {
        self.trunk = trunk
        self.head = head
        self.classes = classes
        self.inputShape = inputShape
        trunk.first?.computesInputGradient = false
    }

    /// Precision of every matrix product in the network (see `MatmulPrecision`); float32
    /// unless set.
    public var matmulPrecision: MatmulPrecision = .float32 {
        didSet { for case let layer as MatmulPrecisionSettable in layers { layer.matmulPrecision = matmulPrecision } }
    }

    /// Precision of the convolutions' training products (see `TrainingPrecision`); float32
    /// unless set.
    public var trainingPrecision: TrainingPrecision = .float32 {
        didSet { for case let layer as TrainingPrecisionSettable in layers { layer.trainingPrecision = trainingPrecision } }
    }

    /// How the input encodes 8-bit pixels (`Normalization.pixelEncoding`; nil: unknown). Reaches
    /// the first convolution when nothing but a layout change comes before it: under
    /// `.int8Inference` it then runs its products on the pixels themselves.
    public var pixelEncoding: PixelEncoding? {
        didSet {
            for layer in trunk {
                if let conv = layer as? Conv2D { conv.pixelEncoding = pixelEncoding; break }
                if !(layer is ChannelMajor) { break }
            }
        }
    }

    public var layers: [Layer] { trunk + [head] }
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    public var buffers: [Buffer] { layers.flatMap(\.buffers) }
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Logits and penultimate features of an NCHW batch.
    public func forwardWithFeatures(_ x: Tensor, mode: ForwardMode) -> (logits: Tensor, features: Tensor) {
        var h = x
        var i = 0
        if mode == .training { fusedSpans = [:] }
        while i < trunk.count {
            // Batch norm, 2×2 max-pool (and ReLU) as one pass: in training as one layer
            // (`backward` follows suit), at inference the affine fused into the pooling.
            if let (bn, fuseReLU) = batchNormPoolBlock(at: i, input: h),
               mode != .training || fusesBatchNormPooling {
                let last = i + (fuseReLU ? 2 : 1)
                if mode == .training {
                    h = bn.forwardTrainingPooled(h, relu: fuseReLU)
                    fusedSpans[last] = i
                } else {
                    let (scale, shift) = bn.inferenceAffine()
                    h = MaxPool2x2Kernel.pool(h, argmax: nil, affine: (scale, shift), relu: fuseReLU)
                }
                i = last + 1
                continue
            }
            // At inference, a bfloat16 or float16 "same" convolution followed by that block runs as one
            // kernel: the full-resolution map is never written.
            if mode != .training, let conv = trunk[i] as? Conv2D, i + 1 < trunk.count,
               let (bn, fuseReLU) = batchNormPoolBlock(at: i + 1, input: h),
               let pooled = conv.forwardPooledForInference(h, affine: bn.inferenceAffine(), relu: fuseReLU) {
                h = pooled
                i += fuseReLU ? 4 : 3
                continue
            }
            // At inference, an 8-bit integer dense layer reads the channel-major map before a
            // Flatten as if flattened: no copy.
            if mode != .training, trunk[i] is Flatten, i + 1 < trunk.count, let fc = trunk[i + 1] as? Linear,
               fc.runsInt8, h.shape.count == 4, h.shape[0] * h.shape[2] * h.shape[3] == fc.inputs,
               let y = fc.forwardInt8(h.data, images: h.shape[1], groupLength: h.shape[2] * h.shape[3],
                                      groupStride: h.shape[1] * h.shape[2] * h.shape[3]) {
                h = y
                i += 2
                continue
            }
            // Outside training, batch norm (and a ReLU after it) runs in place on the previous
            // layer's fresh output: one pass instead of two allocations and two passes.
            if mode != .training, let bn = trunk[i] as? BatchNorm {
                let fuseReLU = i + 1 < trunk.count && trunk[i + 1] is ReLU
                bn.normalizeInPlaceForInference(&h, thenReLU: fuseReLU)
                i += fuseReLU ? 2 : 1
                continue
            }
            h = trunk[i].forward(h, mode: mode)
            i += 1
        }
        return (head.forward(h, mode: mode), h)
    }

    /// Logits of an NCHW batch.
    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        forwardWithFeatures(x, mode: mode).logits
    }

    /// The batch norm at `i` when a 2×2 max-pool follows it (on a 4-D input), and whether a
    /// ReLU follows the pool.
    private func batchNormPoolBlock(at i: Int, input: Tensor) -> (BatchNorm, relu: Bool)? {
        guard let bn = trunk[i] as? BatchNorm, i + 1 < trunk.count, let pool = trunk[i + 1] as? MaxPool,
              pool.isFastPath, input.shape.count == 4 else { return nil }
        return (bn, i + 2 < trunk.count && trunk[i + 2] is ReLU)
    }

    /// Back-propagates the logits' gradient through the whole network (after a `.training` forward).
    public func backward(_ logitGradient: Tensor) {
        var g = head.backward(logitGradient)
        var i = trunk.count - 1
        while i >= 0 {
            if let first = fusedSpans[i], let bn = trunk[first] as? BatchNorm {
                g = bn.backwardPooled(g)
                i = first - 1
                continue
            }
            g = trunk[i].backward(g)
            i -= 1
        }
    }

    public func zeroGradients() { for p in parameters { p.zeroGradient() } }

    /// Copies every parameter and buffer value from a network of the same architecture.
    public func copyWeights(from other: Network) {
        for (a, b) in zip(parameters, other.parameters) { a.value = b.value }
        for (a, b) in zip(buffers, other.buffers) { a.value = b.value }
    }

    /// Copies the parameters and buffers of the first `layers` trunk layers (all of them when
    /// nil) from a network of the same architecture, whatever its number of classes: the way a
    /// pretrained trunk seeds a new detector or classifier.
    public func copyTrunkWeights(from other: Network, layers: Int? = nil) {
        let n = min(layers ?? trunk.count, trunk.count)
        // layers the other trunk lacks (a trailing dropout) must hold no weights
        precondition(trunk.prefix(n).dropFirst(other.trunk.count).allSatisfy { $0.parameters.isEmpty && $0.buffers.isEmpty },
                     "trunk of \(other.trunk.count) layers, \(n) wanted")
        for (mine, theirs) in zip(trunk.prefix(n), other.trunk.prefix(n)) {
            precondition(mine.parameters.count == theirs.parameters.count, "trunks differ")
            for (a, b) in zip(mine.parameters, theirs.parameters) {
                precondition(a.value.count == b.value.count, "trunks differ in \(a.name)")
                a.value = b.value
            }
            for (a, b) in zip(mine.buffers, theirs.buffers) { a.value = b.value }
        }
    }
}

/// The network architectures lfosa can build.
public enum Architecture: String, Sendable, CaseIterable, Codable {
    /// The benchmark CNN: three conv3×3–BN–ReLU–maxpool2 stages (32, 64, 128), 256-d hidden layer.
    case referenceCNN = "reference-cnn"
    /// A wider small CNN for the `fast` profile (VGG-style, 6 conv layers, global pooling).
    case compactCNN = "compact-cnn"
    /// CIFAR ResNet-18 (3×3 stem, four stages of two basic blocks), the paper's network.
    case resnet18 = "resnet18"
}

extension Network {
    /// Builds an architecture for `inputShape` = [C, H, W] and `classes` outputs.
    public static func make(_ architecture: Architecture, inputShape: [Int], classes: Int,
                            dropout: Float = 0, seed: UInt64) -> Network {
        var rng = SplitMix64(seed: seed)
        let c = inputShape[0], h = inputShape[1], w = inputShape[2]
        switch architecture {
        case .referenceCNN:
            var trunk: [Layer] = [ChannelMajor()]
            var ch = c, hh = h, ww = w
            for (i, out) in [32, 64, 128].enumerated() {
                // ReLU after the pooling: max-pool and ReLU commute (both monotone), so this is
                // conv–BN–ReLU–pool's function with the ReLU on a quarter of the values.
                trunk += [Conv2D(name: "conv\(i)", inputChannels: ch, outputChannels: out, kernel: 3, padding: 1, rng: &rng),
                          BatchNorm(name: "bn\(i)", channels: out), MaxPool(kernel: 2), ReLU()]
                ch = out; hh /= 2; ww /= 2
            }
            trunk += [Flatten(), Linear(name: "fc0", inputs: ch * hh * ww, outputs: 256, rng: &rng), ReLU()]
            if dropout > 0 { trunk.append(Dropout(rate: dropout, seed: rng.next())) }
            let head = Linear(name: "head", inputs: 256, outputs: classes, rng: &rng)
            return Network(trunk: trunk, head: head, classes: classes, inputShape: inputShape)
        case .compactCNN:
            var trunk: [Layer] = [ChannelMajor()]
            var ch = c
            for (i, out) in [64, 128, 256].enumerated() {
                trunk += [Conv2D(name: "conv\(i)a", inputChannels: ch, outputChannels: out, kernel: 3, padding: 1, rng: &rng),
                          BatchNorm(name: "bn\(i)a", channels: out), ReLU(),
                          Conv2D(name: "conv\(i)b", inputChannels: out, outputChannels: out, kernel: 3, padding: 1, rng: &rng),
                          BatchNorm(name: "bn\(i)b", channels: out), MaxPool(kernel: 2), ReLU()]   // pool first: same function, fusable
                ch = out
            }
            trunk += [GlobalAveragePool()]
            if dropout > 0 { trunk.append(Dropout(rate: dropout, seed: rng.next())) }
            let head = Linear(name: "head", inputs: ch, outputs: classes, rng: &rng)
            return Network(trunk: trunk, head: head, classes: classes, inputShape: inputShape)
        case .resnet18:
            var trunk: [Layer] = [ChannelMajor(),
                                  Conv2D(name: "conv1", inputChannels: c, outputChannels: 64, kernel: 3, padding: 1, rng: &rng),
                                  BatchNorm(name: "bn1", channels: 64), ReLU()]
            var ch = 64
            for (stage, out) in [64, 128, 256, 512].enumerated() {
                for b in 0..<2 {
                    let stride = (stage > 0 && b == 0) ? 2 : 1
                    trunk.append(ResidualBlock(name: "layer\(stage + 1).\(b)", inputChannels: ch, outputChannels: out,
                                               stride: stride, rng: &rng))
                    ch = out
                }
            }
            trunk.append(GlobalAveragePool())
            if dropout > 0 { trunk.append(Dropout(rate: dropout, seed: rng.next())) }
            let head = Linear(name: "linear", inputs: ch, outputs: classes, rng: &rng)
            return Network(trunk: trunk, head: head, classes: classes, inputShape: inputShape)
        }
    }
}
