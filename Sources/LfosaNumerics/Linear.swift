import CBLAS
import LfosaKernels

/// Fully connected layer: `[N, in]` → `[N, out]`, y = x·Wᵀ + b.
public final class Linear: Layer, MatmulPrecisionSettable {
    public var computesInputGradient = true
    public var matmulPrecision = MatmulPrecision.float32
    public let inputs: Int
    public let outputs: Int
    public let weight: Parameter   // [out, in]
    public let bias: Parameter     // [out]
    private var input: [Float] = []
    private var batch = 0
    /// Wᵀ packed for AMX bfloat16 products, and the weight generation it was packed from.
    private var packedWeight: [UInt16] = []
    private var packedGeneration: UInt64?

    /// PyTorch's default initialisation: U(±1/√in) for weights and bias.
    public init(name: String, inputs: Int, outputs: Int, rng: inout SplitMix64) {
        self.inputs = inputs
        self.outputs = outputs
        let bound = 1 / Float(inputs).squareRoot()
        weight = Parameter(name: name + ".weight", shape: [outputs, inputs],
                           value: uniform(count: inputs * outputs, bound: bound, rng: &rng))
        bias = Parameter(name: name + ".bias", shape: [outputs],
                         value: uniform(count: outputs, bound: bound, rng: &rng))
    }

    public var parameters: [Parameter] { [weight, bias] }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        precondition(x.shape.count == 2 && x.shape[1] == inputs, "Linear expects [N, \(inputs)], got \(x.shape)")
        let n = x.shape[0]
        if mode == .training { input = x.data; batch = n }
        if mode != .training, let y8 = forwardInt8(x.data, images: n, groupLength: inputs, groupStride: 0) { return y8 }
        var y = Tensor(shape: [n, outputs]) { out in
            for i in 0..<n { for j in 0..<outputs { out[i * outputs + j] = bias.value[j] } }
        }
        if n > 0, mode != .training, matmulPrecision.effective == .bfloat16 {
            // bfloat16 on AMX at inference: Wᵀ packed once per weight change (once for a whole
            // pool), not in every call and worker. Training changes the weights every step, so
            // it packs per call as before.
            if packedGeneration != weight.generation {
                let count = lfosa_bf16_packed_b_elements(Int32(inputs), Int32(outputs))
                if packedWeight.count != count { packedWeight = [UInt16](repeating: 0, count: count) }
                weight.value.withUnsafeBufferPointer { w in
                    packedWeight.withUnsafeMutableBufferPointer { pb in
                        lfosa_bf16_pack_b(1, Int32(inputs), Int32(outputs), w.baseAddress, Int32(inputs), pb.baseAddress)
                    }
                }
                packedGeneration = weight.generation
            }
            x.data.withUnsafeBufferPointer { xp in
                packedWeight.withUnsafeBufferPointer { pb in
                    y.data.withUnsafeMutableBufferPointer { yp in
                        GEMM.bf16PackedB(CblasNoTrans, m: n, n: outputs, k: inputs, a: xp.baseAddress!, lda: inputs,
                                         packedB: pb.baseAddress!, beta: 1, c: yp.baseAddress!, ldc: outputs)
                    }
                }
            }
            return y
        }
        x.data.withUnsafeBufferPointer { xp in
            weight.value.withUnsafeBufferPointer { w in
                y.data.withUnsafeMutableBufferPointer { yp in
                    GEMM.sgemm(CblasNoTrans, CblasTrans, m: n, n: outputs, k: inputs,
                               a: xp.baseAddress, lda: inputs, b: w.baseAddress, ldb: inputs,
                               beta: 1, c: yp.baseAddress, ldc: outputs, precision: matmulPrecision)
                }
            }
        }
        return y
    }

    /// Tests turn the 8-bit integer inference kernel off to compare it with float32.
    var allowsDirectInt8 = true

    /// Whether inference runs `lfosa_i8_linear_forward`: `.int8Inference` on a CPU with
    /// AVX512-VNNI, for a layer of at least 32 outputs — a head's few logits are the scores
    /// themselves and cost next to nothing in float32.
    var runsInt8: Bool {
        allowsDirectInt8 && outputs >= 32 && matmulPrecision.effective == .int8Inference
    }

    /// Inference with 8-bit integer products (`lfosa_i8_linear_forward`) on `images` inputs whose
    /// feature f of image i is `x[(f / groupLength)·groupStride + i·groupLength + f % groupLength]`:
    /// a row-major `[N, inputs]` batch (`groupLength` = inputs) or a channel-major map
    /// `[C, N, h, w]` read as if flattened (`groupLength` = h·w, `groupStride` = N·h·w). Nil when
    /// the layer does not run int8, or an input is negative or not finite (the caller runs float32).
    func forwardInt8(_ x: [Float], images n: Int, groupLength: Int, groupStride: Int) -> Tensor? {
        guard runsInt8, n > 0, groupLength > 0, x.count >= n * inputs else { return nil }
        if int8Packed.generation != weight.generation || int8Packed.words.isEmpty {
            var words = [UInt32](repeating: 0, count: lfosa_i8_linear_packed_words(Int32(outputs), Int32(inputs)))
            var scales = [Float](repeating: 0, count: (outputs + 31) / 32 * 32)
            lfosa_i8_linear_pack(Int32(outputs), Int32(inputs), weight.value, &words, &scales)
            int8Packed = (weight.generation, words, scales)
        }
        var failed = false
        let y = Tensor(shape: [n, outputs]) { out in
            x.withUnsafeBufferPointer { xp in
                int8Packed.words.withUnsafeBufferPointer { wp in
                    int8Packed.scales.withUnsafeBufferPointer { sp in
                        bias.value.withUnsafeBufferPointer { bp in
                            let box = (x: xp.baseAddress!, w: wp.baseAddress!, s: sp.baseAddress!, b: bp.baseAddress!,
                                       y: out.baseAddress!)
                            let dims = (inputs: Int32(inputs), outputs: Int32(outputs), glen: Int32(groupLength))
                            failed = parallelChunksReportingAny(n) { lo, hi in
                                lfosa_i8_linear_forward(Int32(lo), Int32(hi), dims.inputs, dims.outputs, box.x, dims.glen,
                                                        groupStride, box.w, box.s, box.b, box.y) != 0
                            }
                        }
                    }
                }
            }
        }
        return failed ? nil : y
    }

    private var int8Packed: (generation: UInt64, words: [UInt32], scales: [Float]) = (0, [], [])

    public func backward(_ g: Tensor) -> Tensor {
        let n = batch
        g.data.withUnsafeBufferPointer { gp in
            input.withUnsafeBufferPointer { xp in
                weight.gradient.withUnsafeMutableBufferPointer { dw in
                    GEMM.sgemm(CblasTrans, CblasNoTrans, m: outputs, n: inputs, k: n,
                               a: gp.baseAddress, lda: outputs, b: xp.baseAddress, ldb: inputs,
                               beta: 1, c: dw.baseAddress, ldc: inputs, precision: matmulPrecision)
                }
            }
            bias.gradient.withUnsafeMutableBufferPointer { db in
                for i in 0..<n { for j in 0..<outputs { db[j] += gp[i * outputs + j] } }
            }
        }
        guard computesInputGradient else { return Tensor(shape: [0]) }
        return Tensor(shape: [n, inputs]) { dx in
            g.data.withUnsafeBufferPointer { gp in
                weight.value.withUnsafeBufferPointer { w in
                    GEMM.sgemm(CblasNoTrans, CblasNoTrans, m: n, n: inputs, k: outputs,
                               a: gp.baseAddress, lda: outputs, b: w.baseAddress, ldb: inputs,
                               beta: 0, c: dx.baseAddress, ldc: inputs, precision: matmulPrecision)
                }
            }
        }
    }
}
