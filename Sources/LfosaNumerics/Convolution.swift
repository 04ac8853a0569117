import CBLAS

/// 2-D convolution over channel-major feature maps `[Cin, N, H, W]` → `[Cout, N, Ho, Wo]`.
///
/// Any kernel size, stride and zero padding. A whole batch is one matrix product: the input is
/// unfolded (im2col) into `[Cin·kh·kw, N·Ho·Wo]` and multiplied by the `[Cout, Cin·kh·kw]`
/// weights with `cblas_sgemm`. 3×3 stride-1 padding-1 convolutions with enough channels take
/// the Winograd F(2×2, 3×3) path instead (2.25× fewer multiplications), forward and backward.
public final class Conv2D: Layer {
    public var computesInputGradient = true
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernelHeight: Int
    public let kernelWidth: Int
    public let stride: Int
    public let padding: Int
    public let weight: Parameter        // [Cout, Cin, kh, kw]
    public let bias: Parameter?         // [Cout]
    /// Whether the Winograd path is used (set false to force im2col, e.g. in tests).
    public var allowsWinograd: Bool

    private var columns: [Float] = []
    private var inputShape: [Int] = []
    private var winograd: WinogradState?

    public init(name: String, inputChannels: Int, outputChannels: Int, kernel: Int, stride: Int = 1,
                padding: Int = 0, bias: Bool = false, rng: inout SplitMix64) {
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelHeight = kernel
        self.kernelWidth = kernel
        self.stride = stride
        self.padding = padding
        let fanIn = inputChannels * kernel * kernel
        weight = Parameter(name: name + ".weight", shape: [outputChannels, inputChannels, kernel, kernel],
                           value: kaimingNormal(count: outputChannels * fanIn, fanIn: fanIn, rng: &rng))
        self.bias = bias ? Parameter(name: name + ".bias", shape: [outputChannels],
                                     value: [Float](repeating: 0, count: outputChannels)) : nil
        allowsWinograd = kernel == 3 && stride == 1 && padding == 1 && inputChannels >= 16
    }

    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    func outputSize(_ h: Int, _ w: Int) -> (Int, Int) {
        ((h + 2 * padding - kernelHeight) / stride + 1, (w + 2 * padding - kernelWidth) / stride + 1)
    }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[0] == inputChannels,
                     "Conv2D expects [\(inputChannels), N, H, W], got \(x.shape)")
        if allowsWinograd {
            if winograd == nil { winograd = WinogradState() }
            var y = winograd!.forward(x, weight: weight.value, outputChannels: outputChannels,
                                      keepForBackward: mode == .training)
            addBias(&y)
            if mode == .training { inputShape = x.shape }
            return y
        }
        let n = x.shape[1], h = x.shape[2], w = x.shape[3]
        let (ho, wo) = outputSize(h, w)
        let k = inputChannels * kernelHeight * kernelWidth
        let cols = n * ho * wo
        let direct = kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0
        let col: [Float] = direct ? x.data : im2col(x, ho: ho, wo: wo)
        var y = Tensor(shape: [outputChannels, n, ho, wo]) { out in
            col.withUnsafeBufferPointer { cp in
                weight.value.withUnsafeBufferPointer { wp in
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outputChannels), Int32(cols), Int32(k),
                                1, wp.baseAddress, Int32(k), cp.baseAddress, Int32(cols), 0, out.baseAddress, Int32(cols))
                }
            }
        }
        addBias(&y)
        if mode == .training {
            columns = col
            inputShape = x.shape
        }
        return y
    }

    private func addBias(_ y: inout Tensor) {
        guard let bias else { return }
        let plane = y.count / outputChannels
        y.data.withUnsafeMutableBufferPointer { yp in
            for c in 0..<outputChannels {
                let b = bias.value[c]
                for i in (c * plane)..<((c + 1) * plane) { yp[i] += b }
            }
        }
    }

    public func backward(_ g: Tensor) -> Tensor {
        if let bias {
            let plane = g.count / outputChannels
            g.data.withUnsafeBufferPointer { gp in
                for c in 0..<outputChannels {
                    var s: Float = 0
                    for i in (c * plane)..<((c + 1) * plane) { s += gp[i] }
                    bias.gradient[c] += s
                }
            }
        }
        if allowsWinograd, let winograd {
            return winograd.backward(g, weight: weight.value, weightGradient: &weight.gradient,
                                     inputShape: inputShape, outputChannels: outputChannels,
                                     computeInputGradient: computesInputGradient)
        }
        let n = inputShape[1], h = inputShape[2], w = inputShape[3]
        let (ho, wo) = outputSize(h, w)
        let k = inputChannels * kernelHeight * kernelWidth
        let cols = n * ho * wo
        g.data.withUnsafeBufferPointer { gp in
            columns.withUnsafeBufferPointer { cp in
                weight.gradient.withUnsafeMutableBufferPointer { dw in
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(outputChannels), Int32(k), Int32(cols),
                                1, gp.baseAddress, Int32(cols), cp.baseAddress, Int32(cols), 1, dw.baseAddress, Int32(k))
                }
            }
        }
        guard computesInputGradient else { return Tensor(shape: [0]) }
        let dcol = [Float](unsafeUninitializedCapacity: k * cols) { dc, count in
            count = k * cols
            g.data.withUnsafeBufferPointer { gp in
                weight.value.withUnsafeBufferPointer { wp in
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(k), Int32(cols), Int32(outputChannels),
                                1, wp.baseAddress, Int32(k), gp.baseAddress, Int32(cols), 0, dc.baseAddress, Int32(cols))
                }
            }
        }
        if kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0 {
            return Tensor(shape: inputShape, data: dcol)
        }
        return col2im(dcol, ho: ho, wo: wo)
    }

    /// Unfolds `[Cin, N, H, W]` into rows `(ci, i, j)` × columns `(n, oy, ox)`.
    func im2col(_ x: Tensor, ho: Int, wo: Int) -> [Float] {
        let n = x.shape[1], h = x.shape[2], w = x.shape[3]
        let kh = kernelHeight, kw = kernelWidth, s = stride, p = padding
        let rows = inputChannels * kh * kw, cols = n * ho * wo
        return [Float](unsafeUninitializedCapacity: rows * cols) { col, count in
            count = rows * cols
            x.data.withUnsafeBufferPointer { xp in
                parallelChunks(rows, minimumPerWorker: 1) { lo, hi in
                    for r in lo..<hi {
                        let ci = r / (kh * kw), i = (r / kw) % kh, j = r % kw
                        // valid ox range: 0 <= ox*s - p + j < w
                        let oxLo = max(0, (p - j + s - 1) / s)
                        let oxHi = min(wo, (w + p - j + s - 1) / s)
                        var dst = r * cols
                        for ni in 0..<n {
                            let plane = (ci * n + ni) * h * w
                            for oy in 0..<ho {
                                let iy = oy * s - p + i
                                if iy < 0 || iy >= h || oxLo >= oxHi {
                                    for ox in 0..<wo { col[dst + ox] = 0 }
                                } else {
                                    let row = plane + iy * w - p + j
                                    for ox in 0..<oxLo { col[dst + ox] = 0 }
                                    if s == 1 {
                                        for ox in oxLo..<oxHi { col[dst + ox] = xp[row + ox] }
                                    } else {
                                        for ox in oxLo..<oxHi { col[dst + ox] = xp[row + ox * s] }
                                    }
                                    for ox in oxHi..<wo { col[dst + ox] = 0 }
                                }
                                dst += wo
                            }
                        }
                    }
                }
            }
        }
    }

    /// Folds column gradients back onto `[Cin, N, H, W]`, summing overlaps.
    func col2im(_ dcol: [Float], ho: Int, wo: Int) -> Tensor {
        let n = inputShape[1], h = inputShape[2], w = inputShape[3]
        let kh = kernelHeight, kw = kernelWidth, s = stride, p = padding
        let cols = n * ho * wo
        var dx = Tensor(shape: inputShape)
        dx.data.withUnsafeMutableBufferPointer { d in
            dcol.withUnsafeBufferPointer { dc in
                parallelChunks(inputChannels, minimumPerWorker: 1) { lo, hi in
                    for ci in lo..<hi {
                        for i in 0..<kh {
                            for j in 0..<kw {
                                let r = (ci * kh + i) * kw + j
                                let oxLo = max(0, (p - j + s - 1) / s)
                                let oxHi = min(wo, (w + p - j + s - 1) / s)
                                if oxLo >= oxHi { continue }
                                var src = r * cols
                                for ni in 0..<n {
                                    let plane = (ci * n + ni) * h * w
                                    for oy in 0..<ho {
                                        let iy = oy * s - p + i
                                        if iy >= 0 && iy < h {
                                            let row = plane + iy * w - p + j
                                            for ox in oxLo..<oxHi { d[row + ox * s] += dc[src + ox] }
                                        }
                                        src += wo
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }
}
