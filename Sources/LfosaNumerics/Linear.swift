import CBLAS

/// Fully connected layer: `[N, in]` → `[N, out]`, y = x·Wᵀ + b.
public final class Linear: Layer {
    public var computesInputGradient = true
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
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(outputs), Int32(inputs),
                                1, xp.baseAddress, Int32(inputs), w.baseAddress, Int32(inputs),
                                1, yp.baseAddress, Int32(outputs))
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
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(outputs), Int32(inputs), Int32(n),
                                1, gp.baseAddress, Int32(outputs), xp.baseAddress, Int32(inputs),
                                1, dw.baseAddress, Int32(inputs))
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
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(inputs), Int32(outputs),
                                1, gp.baseAddress, Int32(outputs), w.baseAddress, Int32(inputs),
                                0, dx.baseAddress, Int32(inputs))
                }
            }
        }
    }
}
