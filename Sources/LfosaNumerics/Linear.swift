import CBLAS

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
        var y = Tensor(shape: [n, outputs]) { out in
            for i in 0..<n { for j in 0..<outputs { out[i * outputs + j] = bias.value[j] } }
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
