/// What `BatchNorm.forwardTrainingPooled` keeps for its backward pass.
struct PooledTrainingState {
    var input: Tensor            // the batch norm's input (shared storage, not a copy)
    var means: [Float]
    var inverseStd: [Float]
    var argmax: [Int32]          // per pooled output: index of its window's maximum in `input`
    var output: Tensor           // pooled output (after the ReLU when `relu`)
    var relu: Bool
}

extension BatchNorm {
    /// Training-mode batch norm, 2×2 stride-2 max-pool and (optionally) ReLU as one layer.
    ///
    /// The same function as the three layers in a row, without writing the normalised map:
    /// statistics are two reads of `x`, then one pass pools `γ·x̂ + β` (and clamps at 0) while
    /// recording each window's arg-max. `backwardPooled` recomputes x̂ from the kept input.
    /// Running statistics are updated as `forward` does.
    func forwardTrainingPooled(_ x: Tensor, relu: Bool) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[0] == channels, "BatchNorm(\(channels)) got \(x.shape)")
        let (means, invStd) = batchStatistics(x)
        var scale = [Float](repeating: 0, count: channels), shift = scale
        for c in 0..<channels {
            scale[c] = gamma.value[c] * invStd[c]
            shift[c] = beta.value[c] - means[c] * scale[c]
        }
        var argmax = [Int32](repeating: 0, count: channels * x.shape[1] * (x.shape[2] / 2) * (x.shape[3] / 2))
        let out = argmax.withUnsafeMutableBufferPointer { am in
            MaxPool2x2Kernel.pool(x, argmax: am.baseAddress, affine: (scale, shift), relu: relu)
        }
        pooledState = PooledTrainingState(input: x, means: means, inverseStd: invStd, argmax: argmax, output: out, relu: relu)
        return out
    }

    /// Backward of `forwardTrainingPooled`: `g` is the gradient of the pooled output.
    ///
    /// Only window maxima receive gradient, so the sums batch norm needs (Σ dy, Σ dy·x̂) run
    /// over the pooled positions; the input gradient is then one pass over the input plus a
    /// scatter at the maxima.
    func backwardPooled(_ g: Tensor) -> Tensor {
        guard let state = pooledState else { preconditionFailure("backwardPooled without forwardTrainingPooled") }
        let x = state.input
        let plane = x.count / channels
        let per = g.count / channels
        precondition(g.count == state.argmax.count, "gradient \(g.shape) does not match the pooled output")
        var dGamma = [Float](repeating: 0, count: channels)
        var dBeta = [Float](repeating: 0, count: channels)
        let needInput = computesInputGradient
        let relu = state.relu
        let dxCount = needInput ? x.count : 0
        let dxData = [Float](unsafeUninitializedCapacity: dxCount) { dxp, initialized in
        initialized = dxCount   // every element is written below (first pass of each channel)
        g.data.withUnsafeBufferPointer { gp in
            x.data.withUnsafeBufferPointer { xp in
                state.argmax.withUnsafeBufferPointer { am in
                    state.output.data.withUnsafeBufferPointer { yp in
                        do {
                            dGamma.withUnsafeMutableBufferPointer { dg in
                                dBeta.withUnsafeMutableBufferPointer { db in
                                    parallelChunks(channels, minimumPerWorker: max(1, 4096 / max(plane, 1))) { lo, hi in
                                        for c in lo..<hi {
                                            let m = state.means[c], inv = state.inverseStd[c]
                                            var sg: Float = 0, sgx: Float = 0
                                            for k in (c * per)..<((c + 1) * per) {
                                                let gv = relu && yp[k] <= 0 ? 0 : gp[k]
                                                sg += gv
                                                sgx += gv * ((xp[Int(am[k])] - m) * inv)
                                            }
                                            dg[c] = sgx; db[c] = sg
                                            guard needInput else { continue }
                                            let scale = gamma.value[c] * inv / Float(plane)
                                            let count = Float(plane)
                                            let a = -scale * sg, b = -scale * sgx * inv
                                            // dx = scale·(−Σdy − x̂·Σdy·x̂) everywhere, + scale·M·dy at the maxima
                                            for k in (c * plane)..<((c + 1) * plane) {
                                                dxp[k] = a + b * (xp[k] - m)
                                            }
                                            for k in (c * per)..<((c + 1) * per) {
                                                let gv = relu && yp[k] <= 0 ? 0 : gp[k]
                                                dxp[Int(am[k])] += scale * count * gv
                                            }
                                        }
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
        return Tensor(shape: needInput ? x.shape : [0], data: dxData)
    }
}
