/// ResNet basic block on channel-major maps: conv3×3(stride)–BN–ReLU–conv3×3–BN, plus the
/// shortcut (identity, or conv1×1(stride)–BN when the shape changes), then ReLU.
public final class ResidualBlock: Layer, MatmulPrecisionSettable, TrainingPrecisionSettable {
    public var computesInputGradient = true {
        didSet { /* inner layers always produce input gradients; the block sums them */ }
    }
    let conv1: Conv2D, bn1: BatchNorm, relu1 = ReLU()
    let conv2: Conv2D, bn2: BatchNorm
    let shortcutConv: Conv2D?, shortcutBN: BatchNorm?
    private var outputMask: [Float] = []
    public var matmulPrecision: MatmulPrecision = .float32 {
        didSet { for conv in [conv1, conv2] + (shortcutConv.map { [$0] } ?? []) { conv.matmulPrecision = matmulPrecision } }
    }
    public var trainingPrecision: TrainingPrecision = .float32 {
        didSet { for conv in [conv1, conv2] + (shortcutConv.map { [$0] } ?? []) { conv.trainingPrecision = trainingPrecision } }
    }

    public init(name: String, inputChannels: Int, outputChannels: Int, stride: Int, rng: inout SplitMix64) {
        conv1 = Conv2D(name: name + ".conv1", inputChannels: inputChannels, outputChannels: outputChannels,
                       kernel: 3, stride: stride, padding: 1, rng: &rng)
        bn1 = BatchNorm(name: name + ".bn1", channels: outputChannels)
        conv2 = Conv2D(name: name + ".conv2", inputChannels: outputChannels, outputChannels: outputChannels,
                       kernel: 3, stride: 1, padding: 1, rng: &rng)
        bn2 = BatchNorm(name: name + ".bn2", channels: outputChannels)
        if stride != 1 || inputChannels != outputChannels {
            shortcutConv = Conv2D(name: name + ".shortcut.0", inputChannels: inputChannels,
                                  outputChannels: outputChannels, kernel: 1, stride: stride, padding: 0, rng: &rng)
            shortcutBN = BatchNorm(name: name + ".shortcut.1", channels: outputChannels)
        } else {
            shortcutConv = nil
            shortcutBN = nil
        }
    }

    public var parameters: [Parameter] {
        conv1.parameters + bn1.parameters + conv2.parameters + bn2.parameters
            + (shortcutConv?.parameters ?? []) + (shortcutBN?.parameters ?? [])
    }
    public var buffers: [Buffer] { bn1.buffers + bn2.buffers + (shortcutBN?.buffers ?? []) }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        var y = bn2.forward(conv2.forward(relu1.forward(bn1.forward(conv1.forward(x, mode: mode), mode: mode),
                                                        mode: mode), mode: mode), mode: mode)
        let s: Tensor
        if let shortcutConv, let shortcutBN {
            s = shortcutBN.forward(shortcutConv.forward(x, mode: mode), mode: mode)
        } else {
            s = x
        }
        for i in 0..<y.count { y.data[i] = max(y.data[i] + s.data[i], 0) }
        if mode == .training { outputMask = y.data }
        return y
    }

    public func backward(_ g: Tensor) -> Tensor {
        var gz = g
        for i in 0..<gz.count where outputMask[i] <= 0 { gz.data[i] = 0 }
        var dx = conv1.backward(bn1.backward(relu1.backward(conv2.backward(bn2.backward(gz)))))
        if let shortcutConv, let shortcutBN {
            let ds = shortcutConv.backward(shortcutBN.backward(gz))
            for i in 0..<dx.count { dx.data[i] += ds.data[i] }
        } else {
            for i in 0..<dx.count { dx.data[i] += gz.data[i] }
        }
        return dx
    }
}
