/// Rectified linear unit, elementwise, any layout.
public final class ReLU: Layer {
    public var computesInputGradient = true
    private var output: [Float] = []

    public init() {}

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        let y = Tensor(shape: input.shape) { out in
            input.data.withUnsafeBufferPointer { x in
                let n = x.count
                parallelChunks(n, minimumPerWorker: 1 << 16) { lo, hi in
                    for i in lo..<hi { out[i] = max(x[i], 0) }
                }
            }
        }
        if mode == .training { output = y.data }
        return y
    }

    public func backward(_ g: Tensor) -> Tensor {
        guard computesInputGradient else { return Tensor(shape: [0]) }
        return Tensor(shape: g.shape) { out in
            g.data.withUnsafeBufferPointer { gp in
                output.withUnsafeBufferPointer { y in
                    parallelChunks(gp.count, minimumPerWorker: 1 << 16) { lo, hi in
                        // Branch-free (a data-dependent branch mispredicts half the time here).
                        var i = lo
                        while i + 16 <= hi {
                            let yv = UnsafeRawPointer(y.baseAddress! + i).loadUnaligned(as: SIMD16<Float>.self)
                            let gv = UnsafeRawPointer(gp.baseAddress! + i).loadUnaligned(as: SIMD16<Float>.self)
                            UnsafeMutableRawPointer(out.baseAddress! + i)
                                .storeBytes(of: gv.replacing(with: 0, where: yv .<= 0), as: SIMD16<Float>.self)
                            i += 16
                        }
                        while i < hi { out[i] = y[i] > 0 ? gp[i] : 0; i += 1 }
                    }
                }
            }
        }
    }
}

/// Inverted dropout: zeroes each value with probability `rate` and scales the rest by 1/(1−rate).
///
/// Active in `.training` and `.inferenceWithDropout`; the identity in `.inference`.
/// Its masks come from its own seeded generator, so a seeded network repeats exactly.
public final class Dropout: Layer {
    public var computesInputGradient = true
    public let rate: Float
    private var rng: SplitMix64
    private var mask: [Float] = []

    public init(rate: Float, seed: UInt64) {
        precondition(rate >= 0 && rate < 1)
        self.rate = rate
        self.rng = SplitMix64(seed: seed)
    }

    /// Reseeds the mask generator (e.g. before a reproducible MC-dropout pass).
    public func reseed(_ seed: UInt64) { rng = SplitMix64(seed: seed) }

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        if mode == .inference || rate == 0 { return input }
        let scale = 1 / (1 - rate)
        var m = [Float](repeating: 0, count: input.count)
        for i in 0..<m.count { m[i] = rng.nextUnitFloat() >= rate ? scale : 0 }
        var y = input
        for i in 0..<m.count { y.data[i] *= m[i] }
        if mode == .training { mask = m }
        return y
    }

    public func backward(_ g: Tensor) -> Tensor {
        if rate == 0 { return g }
        var d = g
        for i in 0..<d.count { d.data[i] *= mask[i] }
        return d
    }
}

/// Converts an NCHW batch to the channel-major `[C, N, H, W]` layout conv stacks use.
public final class ChannelMajor: Layer {
    public var computesInputGradient = false
    private var inputShape: [Int] = []

    public init() {}

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        precondition(input.shape.count == 4, "ChannelMajor expects NCHW")
        inputShape = input.shape
        return swapFirstTwoAxes(input)
    }

    public func backward(_ g: Tensor) -> Tensor {
        guard computesInputGradient else { return Tensor(shape: [0]) }
        return swapFirstTwoAxes(g)
    }
}

/// Swaps the first two axes of a rank-4 tensor: NCHW ↔ CNHW.
public func swapFirstTwoAxes(_ x: Tensor) -> Tensor {
    let a = x.shape[0], b = x.shape[1], inner = x.shape[2] * x.shape[3]
    return Tensor(shape: [b, a, x.shape[2], x.shape[3]]) { out in
        x.data.withUnsafeBufferPointer { src in
            let box = (src: src.baseAddress!, out: out.baseAddress!)
            parallelChunks(a, minimumPerWorker: max(1, 16_384 / max(1, b * inner))) { lo, hi in
                for i in lo..<hi {
                    for j in 0..<b {
                        (box.out + (j * a + i) * inner).update(from: box.src + (i * b + j) * inner, count: inner)
                    }
                }
            }
        }
    }
}

/// Flattens channel-major feature maps `[C, N, H, W]` into `[N, C·H·W]` (PyTorch's NCHW order).
public final class Flatten: Layer {
    public var computesInputGradient = true
    private var inputShape: [Int] = []

    public init() {}

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        inputShape = input.shape
        // [C, N, H, W] → [N, C, H, W] is the same memory as [N, C·H·W].
        var y = swapFirstTwoAxes(input)
        y.shape = [input.shape[1], input.shape[0] * input.shape[2] * input.shape[3]]
        return y
    }

    public func backward(_ g: Tensor) -> Tensor {
        guard computesInputGradient else { return Tensor(shape: [0]) }
        let nchw = Tensor(shape: [inputShape[1], inputShape[0], inputShape[2], inputShape[3]], data: g.data)
        return swapFirstTwoAxes(nchw)
    }
}

/// Global average pooling: `[C, N, H, W]` → `[N, C]`.
public final class GlobalAveragePool: Layer {
    public var computesInputGradient = true
    private var inputShape: [Int] = []

    public init() {}

    public func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        inputShape = input.shape
        let c = input.shape[0], n = input.shape[1], hw = input.shape[2] * input.shape[3]
        let inv = 1 / Float(hw)
        return Tensor(shape: [n, c]) { out in
            input.data.withUnsafeBufferPointer { x in
                for ci in 0..<c {
                    for ni in 0..<n {
                        var s: Float = 0
                        let base = (ci * n + ni) * hw
                        for k in 0..<hw { s += x[base + k] }
                        out[ni * c + ci] = s * inv
                    }
                }
            }
        }
    }

    public func backward(_ g: Tensor) -> Tensor {
        guard computesInputGradient else { return Tensor(shape: [0]) }
        let c = inputShape[0], n = inputShape[1], hw = inputShape[2] * inputShape[3]
        let inv = 1 / Float(hw)
        return Tensor(shape: inputShape) { out in
            for ci in 0..<c {
                for ni in 0..<n {
                    let v = g.data[ni * c + ci] * inv
                    let base = (ci * n + ni) * hw
                    for k in 0..<hw { out[base + k] = v }
                }
            }
        }
    }
}
