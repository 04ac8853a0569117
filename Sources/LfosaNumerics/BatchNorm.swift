/// Batch normalisation over channel-major feature maps `[C, N, H, W]` (or `[N, C]` when `dense`).
///
/// Training normalises with the batch's biased statistics and updates running statistics with
/// `momentum` (running variance uses the unbiased estimate, as PyTorch does); inference uses
/// the running statistics.
public final class BatchNorm: Layer {
    public var computesInputGradient = true
    public let channels: Int
    public let epsilon: Float
    public let momentum: Float
    public let gamma: Parameter
    public let beta: Parameter
    public let runningMean: Buffer
    public let runningVariance: Buffer
    private var normalized: [Float] = []
    private var inverseStd: [Float] = []
    private var shape: [Int] = []
    /// State of the last `forwardTrainingPooled` (nil after a plain `forward`).
    var pooledState: PooledTrainingState?

    public init(name: String, channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        self.channels = channels
        self.epsilon = epsilon
        self.momentum = momentum
        gamma = Parameter(name: name + ".weight", shape: [channels], value: [Float](repeating: 1, count: channels))
        beta = Parameter(name: name + ".bias", shape: [channels], value: [Float](repeating: 0, count: channels))
        runningMean = Buffer(name: name + ".running_mean", value: [Float](repeating: 0, count: channels))
        runningVariance = Buffer(name: name + ".running_var", value: [Float](repeating: 1, count: channels))
    }

    public var parameters: [Parameter] { [gamma, beta] }
    public var buffers: [Buffer] { [runningMean, runningVariance] }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        precondition(x.shape[0] == channels, "BatchNorm(\(channels)) got \(x.shape)")
        let plane = x.count / channels
        if mode != .training {
            let (scale, shift) = inferenceAffine()
            return Tensor(shape: x.shape) { out in
                x.data.withUnsafeBufferPointer { xp in
                    parallelChunks(channels, minimumPerWorker: max(1, 4096 / max(plane, 1))) { lo, hi in
                        for c in lo..<hi {
                            let s = scale[c], b = shift[c]
                            let base = c * plane
                            for k in 0..<plane { out[base + k] = xp[base + k] * s + b }
                        }
                    }
                }
            }
        }
        shape = x.shape
        pooledState = nil
        let (means, invStd) = batchStatistics(x)
        let xhat = [Float](unsafeUninitializedCapacity: x.count) { xh, n in
            n = x.count
            x.data.withUnsafeBufferPointer { xp in
                parallelChunks(channels, minimumPerWorker: max(1, 4096 / max(plane, 1))) { lo, hi in
                    for c in lo..<hi {
                        let base = c * plane, m = means[c], inv = invStd[c]
                        for k in 0..<plane { xh[base + k] = (xp[base + k] - m) * inv }
                    }
                }
            }
        }
        normalized = xhat
        inverseStd = invStd
        return Tensor(shape: x.shape) { out in
            xhat.withUnsafeBufferPointer { xh in
                parallelChunks(channels, minimumPerWorker: max(1, 4096 / max(plane, 1))) { lo, hi in
                    for c in lo..<hi {
                        let g = gamma.value[c], b = beta.value[c], base = c * plane
                        for k in 0..<plane { out[base + k] = xh[base + k] * g + b }
                    }
                }
            }
        }
    }

    /// Per-channel batch mean and 1/√(biased variance + ε) of `[C, …]` (two reads of `x`), and
    /// the running statistics moved towards them (unbiased variance, as PyTorch).
    func batchStatistics(_ x: Tensor) -> (means: [Float], inverseStd: [Float]) {
        let plane = x.count / channels
        var means = [Float](repeating: 0, count: channels)
        var variances = [Float](repeating: 0, count: channels)
        var invStd = [Float](repeating: 0, count: channels)
        x.data.withUnsafeBufferPointer { xp in
            means.withUnsafeMutableBufferPointer { mp in
                variances.withUnsafeMutableBufferPointer { vp in
                    invStd.withUnsafeMutableBufferPointer { ip in
                        parallelChunks(channels, minimumPerWorker: max(1, 4096 / max(plane, 1))) { lo, hi in
                            for c in lo..<hi {
                                let base = xp.baseAddress! + c * plane
                                let m = simdSum(base, plane) / Float(plane)
                                let v = simdSquaredDeviation(base, plane, shift: m) / Float(plane)
                                mp[c] = m; vp[c] = v; ip[c] = 1 / (v + epsilon).squareRoot()
                            }
                        }
                    }
                }
            }
        }
        let unbias = plane > 1 ? Float(plane) / Float(plane - 1) : 1
        for c in 0..<channels {
            runningMean.value[c] = (1 - momentum) * runningMean.value[c] + momentum * means[c]
            runningVariance.value[c] = (1 - momentum) * runningVariance.value[c] + momentum * variances[c] * unbias
        }
        return (means, invStd)
    }

    public func backward(_ g: Tensor) -> Tensor {
        let plane = g.count / channels
        var dGamma = [Float](repeating: 0, count: channels)
        var dBeta = [Float](repeating: 0, count: channels)
        let needInput = computesInputGradient
        let dx = [Float](unsafeUninitializedCapacity: needInput ? g.count : 0) { dxp, n in
            n = needInput ? g.count : 0
            g.data.withUnsafeBufferPointer { gp in
                normalized.withUnsafeBufferPointer { xh in
                    dGamma.withUnsafeMutableBufferPointer { dg in
                        dBeta.withUnsafeMutableBufferPointer { db in
                            parallelChunks(channels, minimumPerWorker: max(1, 4096 / max(plane, 1))) { lo, hi in
                                for c in lo..<hi {
                                    let base = c * plane
                                    let (sg, sgx) = simdSumAndDot(gp.baseAddress! + base, xh.baseAddress! + base, plane)
                                    dg[c] = sgx; db[c] = sg
                                    if needInput {
                                        let scale = gamma.value[c] * inverseStd[c] / Float(plane)
                                        let m = Float(plane)
                                        for k in 0..<plane {
                                            dxp[base + k] = scale * (m * gp[base + k] - sg - xh[base + k] * sgx)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for c in 0..<channels {
            gamma.gradient[c] += dGamma[c]
            beta.gradient[c] += dBeta[c]
        }
        return needInput ? Tensor(shape: g.shape, data: dx) : Tensor(shape: [0])
    }
}

extension BatchNorm {
    /// The per-channel affine `y = scale·x + shift` this layer applies at inference.
    func inferenceAffine() -> (scale: [Float], shift: [Float]) {
        var scale = [Float](repeating: 0, count: channels), shift = scale
        for c in 0..<channels {
            scale[c] = gamma.value[c] / (runningVariance.value[c] + epsilon).squareRoot()
            shift[c] = beta.value[c] - runningMean.value[c] * scale[c]
        }
        return (scale, shift)
    }

    /// Inference-mode normalisation applied in place, optionally followed by ReLU in the same
    /// pass (the network fuses `BatchNorm, ReLU` this way outside training).
    func normalizeInPlaceForInference(_ y: inout Tensor, thenReLU relu: Bool) {
        precondition(y.shape[0] == channels)
        let plane = y.count / channels
        let (scale, shift) = inferenceAffine()
        y.data.withUnsafeMutableBufferPointer { yp in
            parallelChunks(channels, minimumPerWorker: max(1, 4096 / max(plane, 1))) { lo, hi in
                for c in lo..<hi {
                    let s = scale[c], b = shift[c]
                    let base = c * plane
                    if relu {
                        for k in 0..<plane { yp[base + k] = max(yp[base + k] * s + b, 0) }
                    } else {
                        for k in 0..<plane { yp[base + k] = yp[base + k] * s + b }
                    }
                }
            }
        }
    }
}
