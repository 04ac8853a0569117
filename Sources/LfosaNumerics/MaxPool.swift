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

    /// Inference only, 2×2 stride 2: pools `scale[c]·x + shift[c]` of each channel `c` of
    /// `[C, N, H, W]` (a batch norm's inference affine), then applies ReLU if asked — one pass
    /// over the input instead of three.
    func forwardInference(_ x: Tensor, scale: [Float], shift: [Float], relu: Bool) -> Tensor {
        precondition(isFastPath && x.shape.count == 4 && scale.count == x.shape[0] && shift.count == x.shape[0])
        let n = x.shape[1], h = x.shape[2], w = x.shape[3]
        let planes = x.shape[0] * n, ho = h / 2, wo = w / 2
        return Tensor(shape: [x.shape[0], n, ho, wo]) { out in
            x.data.withUnsafeBufferPointer { xp in
                parallelChunks(planes, minimumPerWorker: 8) { lo, hi in
                    for p in lo..<hi {
                        MaxPool2x2Kernel.plane(xp.baseAddress! + p * h * w, h: h, w: w,
                                               out: out.baseAddress! + p * ho * wo, argmax: nil, base: 0,
                                               scale: scale[p / n], shift: shift[p / n], affine: true, relu: relu)
                    }
                }
            }
        }
    }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3]
        let ho = (h - kernel) / stride + 1, wo = (w - kernel) / stride + 1
        let training = mode == .training
        if training { inputShape = x.shape }
        if isFastPath {
            if training && argmax.count != planes * ho * wo { argmax = [Int32](repeating: 0, count: planes * ho * wo) }
            return Tensor(shape: [x.shape[0], x.shape[1], ho, wo]) { out in
                x.data.withUnsafeBufferPointer { xp in
                    argmax.withUnsafeMutableBufferPointer { am in
                        parallelChunks(planes, minimumPerWorker: 8) { lo, hi in
                            for p in lo..<hi {
                                MaxPool2x2Kernel.plane(xp.baseAddress! + p * h * w, h: h, w: w,
                                                       out: out.baseAddress! + p * ho * wo,
                                                       argmax: training ? am.baseAddress! + p * ho * wo : nil,
                                                       base: Int32(p * h * w))
                            }
                        }
                    }
                }
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
