import LfosaKernels

/// What `BatchNorm.forwardTrainingPooled` keeps for its backward pass.
struct PooledTrainingState {
    var input: Tensor            // the batch norm's input (shared storage, not a copy)
    var means: [Float]
    var inverseStd: [Float]
    var argmax: [Int32]          // per pooled output: index of its window's maximum in `input`
    var maxInput: [Float]        // per pooled output: `input` at that index
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
        let pooled = channels * x.shape[1] * (x.shape[2] / 2) * (x.shape[3] / 2)
        // the pooling writes an index and an input value for every pooled output
        var out = Tensor(shape: [0])
        var maxInput = [Float]()
        let argmax = [Int32](unsafeUninitializedCapacity: pooled) { am, amCount in
            maxInput = [Float](unsafeUninitializedCapacity: pooled) { mi, miCount in
                out = MaxPool2x2Kernel.pool(x, argmax: am.baseAddress, affine: (scale, shift), relu: relu,
                                            maxInput: mi.baseAddress)
                miCount = pooled
            }
            amCount = pooled
        }
        pooledState = PooledTrainingState(input: x, means: means, inverseStd: invStd, argmax: argmax, maxInput: maxInput,
                                          output: out, relu: relu)
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
        let gammas = gamma.value
        let dxData = [Float](unsafeUninitializedCapacity: dxCount) { dxBuffer, initialized in
        initialized = dxCount   // every element is written below (first pass of each channel)
        g.data.withUnsafeBufferPointer { gBuffer in
            x.data.withUnsafeBufferPointer { xBuffer in
                state.argmax.withUnsafeBufferPointer { amBuffer in
                    state.maxInput.withUnsafeBufferPointer { miBuffer in
                        state.output.data.withUnsafeBufferPointer { yBuffer in
                            dGamma.withUnsafeMutableBufferPointer { dg in
                                dBeta.withUnsafeMutableBufferPointer { db in
                                    let box = (g: gBuffer.baseAddress!, x: xBuffer.baseAddress!, am: amBuffer.baseAddress!,
                                               mi: miBuffer.baseAddress!, y: yBuffer.baseAddress!, dx: dxBuffer.baseAddress,
                                               dg: dg.baseAddress!, db: db.baseAddress!)
                                    parallelChunks(channels, minimumPerWorker: max(1, 4096 / max(plane, 1))) { lo, hi in
                                        for c in lo..<hi {
                                            if KernelDispatch.hasAVX512 {
                                                lfosa_bn_pool_backward_channel(
                                                    box.g + c * per, box.mi + c * per, box.y + c * per, box.am + c * per,
                                                    Int32(per), box.x + c * plane, Int32(plane),
                                                    needInput ? box.dx.map { $0 + c * plane } : nil, Int32(c * plane),
                                                    state.means[c], state.inverseStd[c], gammas[c], relu ? 1 : 0,
                                                    box.dg + c, box.db + c)
                                                continue
                                            }
                                            Self.backwardPooledChannel(
                                                g: box.g + c * per, maxInput: box.mi + c * per, output: box.y + c * per,
                                                argmax: box.am + c * per, count: per, x: box.x + c * plane, plane: plane,
                                                dx: needInput ? box.dx.map { $0 + c * plane } : nil, channelBase: c * plane,
                                                mean: state.means[c], inverseStd: state.inverseStd[c], gamma: gammas[c],
                                                relu: relu, dGamma: box.dg + c, dBeta: box.db + c)
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

    /// One channel of `backwardPooled`, 16 lanes at a time: Σ dy and Σ dy·x̂ over the pooled
    /// positions (x̂ from the input kept at each maximum), then dx over the plane, then the
    /// scatter at the maxima (`argmax` holds indices into the whole input: `channelBase` is
    /// this channel's first).
    @inline(__always)
    static func backwardPooledChannel(g: UnsafePointer<Float>, maxInput: UnsafePointer<Float>, output: UnsafePointer<Float>,
                                      argmax: UnsafePointer<Int32>, count per: Int, x: UnsafePointer<Float>, plane: Int,
                                      dx: UnsafeMutablePointer<Float>?, channelBase: Int, mean m: Float, inverseStd inv: Float,
                                      gamma: Float, relu: Bool, dGamma: UnsafeMutablePointer<Float>,
                                      dBeta: UnsafeMutablePointer<Float>) {
        typealias V = SIMD16<Float>
        let zero = V(repeating: 0)
        var vg = zero, vgx = zero
        var k = 0
        while k + 16 <= per {
            var gv = UnsafeRawPointer(g + k).loadUnaligned(as: V.self)
            if relu { gv.replace(with: zero, where: UnsafeRawPointer(output + k).loadUnaligned(as: V.self) .<= zero) }
            vg += gv
            vgx += gv * (UnsafeRawPointer(maxInput + k).loadUnaligned(as: V.self) - m)
            k += 16
        }
        var sg = vg.sum(), sgx = vgx.sum()
        while k < per {
            let gv = relu && output[k] <= 0 ? 0 : g[k]
            sg += gv
            sgx += gv * (maxInput[k] - m)
            k += 1
        }
        sgx *= inv
        dGamma.pointee = sgx
        dBeta.pointee = sg
        guard let dx else { return }
        let scale = gamma * inv / Float(plane)
        let a = -scale * sg, b = -scale * sgx * inv
        // dx = scale·(−Σdy − x̂·Σdy·x̂) everywhere, + scale·M·dy at the maxima
        var i = 0
        while i + 16 <= plane {
            let xv = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(dx + i).storeBytes(of: a + b * (xv - m), as: V.self)
            i += 16
        }
        while i < plane {
            dx[i] = a + b * (x[i] - m)
            i += 1
        }
        let peak = scale * Float(plane)
        for k in 0..<per {
            let gv = relu && output[k] <= 0 ? 0 : g[k]
            dx[Int(argmax[k]) - channelBase] += peak * gv
        }
    }
}
