/// Max pooling over channel-major feature maps `[C, N, H, W]` (no padding; floor output size).
///
/// The forward pass records the arg-max (first maximum in row-major order, as PyTorch) for
/// `backward`; 2×2 stride 2 takes a branch-free fast path.
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

    private var isFastPath: Bool { kernel == 2 && stride == 2 }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3]
        let ho = (h - kernel) / stride + 1, wo = (w - kernel) / stride + 1
        let training = mode == .training
        if training { inputShape = x.shape }
        if isFastPath {
            if training && argmax.count != planes * ho * wo { argmax = [Int32](repeating: 0, count: planes * ho * wo) }
            let w32 = Int32(w)
            return Tensor(shape: [x.shape[0], x.shape[1], ho, wo]) { out in
                x.data.withUnsafeBufferPointer { xp in
                    argmax.withUnsafeMutableBufferPointer { am in
                        parallelChunks(planes, minimumPerWorker: 8) { lo, hi in
                            for p in lo..<hi {
                                let ib = p * h * w, ob = p * ho * wo
                                for oy in 0..<ho {
                                    let r0 = ib + 2 * oy * w, r1 = r0 + w, o = ob + oy * wo
                                    for ox in 0..<wo {
                                        let a = xp[r0 + 2 * ox], b = xp[r0 + 2 * ox + 1]
                                        let c = xp[r1 + 2 * ox], d = xp[r1 + 2 * ox + 1]
                                        let m = max(max(a, b), max(c, d))
                                        out[o + ox] = m
                                        if training {
                                            // offset of the first maximum, by arithmetic (no data-dependent branch)
                                            let na: Int32 = a != m ? 1 : 0, nb: Int32 = b != m ? 1 : 0
                                            let nc: Int32 = c != m ? 1 : 0
                                            am[o + ox] = Int32(r0 + 2 * ox) + na * (1 + nb * (w32 - 1 + nc))
                                        }
                                    }
                                }
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
