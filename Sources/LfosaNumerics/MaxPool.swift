/// Max pooling over channel-major feature maps `[C, N, H, W]` (no padding; floor output size).
///
/// The forward pass records the arg-max (first maximum in row-major order, as PyTorch) for
/// `backward`; 2×2 stride 2 takes a vectorised fast path (`MaxPool2x2Kernel`).
public final class MaxPool: Layer {
    public var computesInputGradient = true
    public let kernel: Int
    public let stride: Int
    private var argmax: [Int32] = []
    private var inputShape: [Int] = []

    public init(kernel: Int = 2, stride: Int? = nil) {
        self.kernel = kernel
        self.stride = stride ?? kernel
    }

    var isFastPath: Bool { kernel == 2 && stride == 2 }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3]
        let ho = (h - kernel) / stride + 1, wo = (w - kernel) / stride + 1
        let training = mode == .training
        if training { inputShape = x.shape }
        if isFastPath {
            if training && argmax.count != planes * ho * wo { argmax = [Int32](repeating: 0, count: planes * ho * wo) }
            return argmax.withUnsafeMutableBufferPointer { am in
                MaxPool2x2Kernel.pool(x, argmax: training ? am.baseAddress : nil)
            }
        }
        if training && argmax.count != planes * ho * wo { argmax = [Int32](repeating: 0, count: planes * ho * wo) }
        let k = kernel, s = stride
        return Tensor(shape: [x.shape[0], x.shape[1], ho, wo]) { out in
            x.data.withUnsafeBufferPointer { xp in
                argmax.withUnsafeMutableBufferPointer { am in
                    parallelChunks(planes, minimumPerWorker: 8) { lo, hi in
                        for p in lo..<hi {
                            let ib = p * h * w, ob = p * ho * wo
                            for oy in 0..<ho {
                                for ox in 0..<wo {
                                    var best = -Float.infinity, bi = 0
                                    for i in 0..<k {
                                        let row = ib + (oy * s + i) * w + ox * s
                                        for j in 0..<k where xp[row + j] > best {
                                            best = xp[row + j]; bi = row + j
                                        }
                                    }
                                    out[ob + oy * wo + ox] = best
                                    if training { am[ob + oy * wo + ox] = Int32(bi) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    public func backward(_ g: Tensor) -> Tensor {
        guard computesInputGradient else { return Tensor(shape: [0]) }
        var dx = Tensor(shape: inputShape)
        let planes = inputShape[0] * inputShape[1]
        let per = g.count / planes
        dx.data.withUnsafeMutableBufferPointer { d in
            g.data.withUnsafeBufferPointer { gp in
                argmax.withUnsafeBufferPointer { am in
                    parallelChunks(planes, minimumPerWorker: 8) { lo, hi in
                        for i in (lo * per)..<(hi * per) { d[Int(am[i])] += gp[i] }
                    }
                }
            }
        }
        return dx
    }
}
