import Dispatch
import CBLAS
import LfosaKernels

/// 2-D convolution over channel-major feature maps `[Cin, N, H, W]` → `[Cout, N, Ho, Wo]`.
///
/// Any kernel size, stride and zero padding. A whole batch is one matrix product: the input is
/// unfolded (im2col) into `[Cin·kh·kw, N·Ho·Wo]` and multiplied by the `[Cout, Cin·kh·kw]`
/// weights with `cblas_sgemm`, a few images at a time so the unfolded block stays in cache
/// (backward unfolds again instead of keeping it). "Same" convolutions (stride 1, odd square
/// kernel, padding kernel/2) take implicit-GEMM kernels instead where the CPU has them
/// (`directKernel`): AMX tiles in bfloat16, AVX-512 FMA in float32 — forward, the input gradient
/// as the forward of the rotated kernel, and the weight gradient, none unfolding anything.
/// 3×3 stride-1 padding-1 convolutions can take the Winograd F(2×2, 3×3) path instead
/// (`allowsWinograd`), forward and backward.
public final class Conv2D: Layer, MatmulPrecisionSettable, TrainingPrecisionSettable {
    public var computesInputGradient = true
    /// Precision of the products (the Winograd path always runs float32).
    public var matmulPrecision = MatmulPrecision.float32
    /// float16 or bfloat16 forward and input-gradient products in training (see `TrainingPrecision`).
    public var trainingPrecision = TrainingPrecision.float32
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernelHeight: Int
    public let kernelWidth: Int
    public let stride: Int
    public let padding: Int
    public let weight: Parameter        // [Cout, Cin, kh, kw]
    public let bias: Parameter?         // [Cout]
    /// Whether the Winograd path is used (only for 3×3, stride 1, padding 1). Off by default:
    /// on this network and machine the cache-blocked im2col path measured as fast or faster
    /// (single-core CPU time, conv 32→64 at 16×16: 14/28 ms forward/backward vs 18/35 ms).
    public var allowsWinograd: Bool {
        get { useWinograd }
        set { useWinograd = newValue && kernelHeight == 3 && kernelWidth == 3 && stride == 1 && padding == 1 }
    }
    private var useWinograd = false

    private var input = Tensor(shape: [0])
    private var workspace: [Float] = []
    private var dcolWorkspace: [Float] = []
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
        allowsWinograd = false
    }

    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    func outputSize(_ h: Int, _ w: Int) -> (Int, Int) {
        ((h + 2 * padding - kernelHeight) / stride + 1, (w + 2 * padding - kernelWidth) / stride + 1)
    }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[0] == inputChannels,
                     "Conv2D expects [\(inputChannels), N, H, W], got \(x.shape)")
        if mode == .training { input = x }
        if allowsWinograd {
            if winograd == nil { winograd = WinogradState() }
            var y = winograd!.forward(x, weight: weight.value, outputChannels: outputChannels,
                                      keepForBackward: mode == .training)
            addBias(&y)
            return y
        }
        let n = x.shape[1], h = x.shape[2], w = x.shape[3]
        let (ho, wo) = outputSize(h, w)
        let k = inputChannels * kernelHeight * kernelWidth
        let cols = n * ho * wo
        var y = Tensor(shape: [outputChannels, n, ho, wo]) { out in
            weight.value.withUnsafeBufferPointer { wp in
                if isPointwise {
                    x.data.withUnsafeBufferPointer { cp in
                        GEMM.sgemm(CblasNoTrans, CblasNoTrans, m: outputChannels, n: cols, k: k,
                                   a: wp.baseAddress, lda: k, b: cp.baseAddress, ldb: cols,
                                   beta: 0, c: out.baseAddress, ldc: cols, precision: matmulPrecision)
                    }
                    return
                }
                if let reduced = reducedPrecisionKernel(training: mode == .training, h: h, w: w, ho: ho, wo: wo) {
                    // float16 or bfloat16 products; a non-finite output (a float16 sum beyond its
                    // range, reported by any worker) sends the layer back to the float32 kernel below.
                    let overflow = x.data.withUnsafeBufferPointer { xp -> Bool in
                        let box = (x: xp.baseAddress!, w: wp.baseAddress!, out: out.baseAddress!)
                        return parallelChunksReportingAny(n) { lo, hi in
                            reduced(Int32(outputChannels), Int32(inputChannels), Int32(kernelHeight), Int32(kernelWidth),
                                    Int32(n), Int32(h), Int32(w), box.x, Int32(lo), Int32(hi), box.w, box.out, Int32(cols)) != 0
                        }
                    }
                    if !overflow { return }
                }
                if let direct = directKernel(h: h, w: w, ho: ho, wo: wo) {
                    // "same" convolution straight from the input (no unfolded copy), the
                    // batch's images split over the workers.
                    x.data.withUnsafeBufferPointer { xp in
                        let box = (x: xp.baseAddress!, w: wp.baseAddress!, out: out.baseAddress!)
                        parallelChunks(n) { lo, hi in
                            direct.forward(Int32(outputChannels), Int32(inputChannels), Int32(kernelHeight),
                                           Int32(kernelWidth), Int32(n), Int32(h), Int32(w), box.x, Int32(lo),
                                           Int32(hi), box.w, box.out, Int32(cols))
                        }
                    }
                    return
                }
                // Cache-blocked: unfold a few images at a time and write their output columns in place.
                _ = forEachImageChunk(n: n, plane: ho * wo, k: k) { _, n0, n1, col, parallel in
                    im2col(x, images: n0..<n1, ho: ho, wo: wo, into: col, parallel: parallel)
                    let chunkCols = (n1 - n0) * ho * wo
                    GEMM.sgemm(CblasNoTrans, CblasNoTrans, m: outputChannels, n: chunkCols, k: k,
                               a: wp.baseAddress, lda: k, b: col.baseAddress, ldb: chunkCols,
                               beta: 0, c: out.baseAddress! + n0 * ho * wo, ldc: cols, parallel: parallel, precision: matmulPrecision)
                }
            }
        }
        addBias(&y)
        return y
    }

    /// Inference only: this convolution, then a per-channel affine (batch norm's), a 2×2
    /// stride-2 max-pool and optionally a ReLU, in one kernel that never writes the
    /// full-resolution map — when the bfloat16 direct kernel applies (no bias, even plane
    /// sizes), or the float16 one (`.float16Inference`, planes 8, 16 or 32 wide; nil after a
    /// float16 overflow); nil otherwise. The kernel is an implicit GEMM over zero-padded bfloat16 copies
    /// of each image (see `lfosa_bf16_conv_same_pool_forward`): the same numbers as the layers
    /// one after another up to float32 summation order.
    func forwardPooledForInference(_ x: Tensor, affine: (scale: [Float], shift: [Float]), relu: Bool) -> Tensor? {
        guard allowsPoolFusion, bias == nil, !allowsWinograd, x.shape.count == 4,
              x.shape[0] == inputChannels else { return nil }
        let h = x.shape[2], w = x.shape[3]
        let (ho, wo) = outputSize(h, w)
        // float16 (AVX512-FP16) or bfloat16 (AMX): the same arguments; the float16 kernel reports
        // an overflow, which leaves the layers to run one by one (in float32 after the same overflow).
        if matmulPrecision.effective == .int8Inference, allowsDirectInt8, let encoding = pixelEncoding,
           encoding.scale.count == inputChannels, directKernel(h: h, w: w, ho: ho, wo: wo) == .float32,
           lfosa_i8_conv_pixels_pool_supported(Int32(inputChannels), Int32(h), Int32(w), Int32(kernelHeight),
                                               Int32(kernelWidth)) != 0 {
            let operands = int8PixelWeights(encoding, h: h, w: w)
            let y = operands.withPointers { p in
                forwardPooled(x, affine: affine, relu: relu) { co, ci, kh, kw, n, h, w, x, lo, hi, _, s, t, relu, out in
                    lfosa_i8_conv_pixels_pool_forward(co, ci, kh, kw, n, h, w, x, lo, hi, p.packed, p.scales, p.map,
                                                      p.encodingScale, p.encodingOffset, s, t, relu, out)
                }
            }
            if let y { return y }   // nil: the input is not the encoded pixels — the kernels below
        }
        if matmulPrecision.effective == .int8Inference, allowsDirectInt8, directKernel(h: h, w: w, ho: ho, wo: wo) == .float32,
           lfosa_i8_conv_same_pool_supported(Int32(inputChannels), Int32(h), Int32(w), Int32(kernelHeight),
                                             Int32(kernelWidth)) != 0 {
            let y = int8Weights().withPointers { p in
                forwardPooled(x, affine: affine, relu: relu) { co, ci, kh, kw, n, h, w, x, lo, hi, _, s, t, relu, out in
                    lfosa_i8_conv_same_pool_forward(co, ci, kh, kw, n, h, w, x, lo, hi, p.packed, p.scales, s, t, relu, out)
                }
            }
            if let y { return y }   // nil: a negative input (no ReLU before this layer) — float16 or bfloat16 below
        }
        let half = matmulPrecision.effective.float16Convolutions
        if half {
            guard runsFloat16(h: h, w: w, ho: ho, wo: wo),
                  lfosa_f16_conv_same_pool_supported(Int32(h), Int32(w), Int32(kernelHeight), Int32(kernelWidth)) != 0
            else { return nil }
        } else {
            guard allowsDirectBFloat16, directKernel(h: h, w: w, ho: ho, wo: wo) == .bfloat16,
                  lfosa_bf16_conv_same_pool_supported(Int32(h), Int32(w), Int32(kernelHeight), Int32(kernelWidth)) != 0
            else { return nil }
        }
        if half { return forwardPooled(x, affine: affine, relu: relu, kernel: lfosa_f16_conv_same_pool_forward) }
        return forwardPooled(x, affine: affine, relu: relu) { co, ci, kh, kw, n, h, w, x, lo, hi, wt, s, t, relu, out in
            lfosa_bf16_conv_same_pool_forward(co, ci, kh, kw, n, h, w, x, lo, hi, wt, s, t, relu, out)
            return 0
        }
    }

    /// The weights as `lfosa_i8_conv_same_pool_forward` takes them (signed bytes, per-channel
    /// scales), packed once per weight change — once for a whole pool's scoring.
    private func int8Weights() -> Int8ConvolutionOperands {
        if int8Packed.generation != weight.generation || int8Packed.operands.packed.isEmpty {
            let co = Int32(outputChannels), ci = Int32(inputChannels), kh = Int32(kernelHeight), kw = Int32(kernelWidth)
            var words = [UInt32](repeating: 0, count: lfosa_i8_packed_weight_words(co, ci, kh, kw))
            var scales = [Float](repeating: 0, count: (outputChannels + 7) / 8 * 8)
            lfosa_i8_pack_weights(co, ci, kh, kw, weight.value, &words, &scales)
            int8Packed = (weight.generation, Int8ConvolutionOperands(packed: words, scales: scales))
        }
        return int8Packed.operands
    }

    private var int8Packed: (generation: UInt64, operands: Int8ConvolutionOperands) = (0, Int8ConvolutionOperands(packed: [], scales: []))

    /// The layer's input is `encoding.scale[c]·p + encoding.offset[c]` of 8-bit pixels p (the
    /// network's first convolution; `Network.pixelEncoding`): under `.int8Inference` its
    /// products run on the pixels themselves (`lfosa_i8_conv_pixels_pool_forward`) — exact
    /// inputs, only the weights in 8 bits. Nil: none known (float16 for a first layer).
    public var pixelEncoding: PixelEncoding?

    /// The weights w·s_c packed for `lfosa_i8_conv_pixels_pool_forward`, their scales, the
    /// border bias map for `h × w` planes and the encoding, once per weight change (once for a
    /// whole pool's scoring).
    func int8PixelWeights(_ encoding: PixelEncoding, h: Int, w: Int) -> Int8ConvolutionOperands {
        let key = PixelWeightsKey(generation: weight.generation, encoding: encoding, h: h, w: w)
        if int8PixelPacked.key != key {
            let co = Int32(outputChannels), ci = Int32(inputChannels), kh = Int32(kernelHeight), kw = Int32(kernelWidth)
            let taps = kernelHeight * kernelWidth
            var scaled = weight.value
            for o in 0..<outputChannels {
                for c in 0..<inputChannels {
                    let base = (o * inputChannels + c) * taps
                    for k in 0..<taps { scaled[base + k] *= encoding.scale[c] }
                }
            }
            var words = [UInt32](repeating: 0, count: lfosa_i8_packed_weight_words(co, ci, kh, kw))
            var scales = [Float](repeating: 0, count: (outputChannels + 7) / 8 * 8)
            lfosa_i8_pack_weights(co, ci, kh, kw, scaled, &words, &scales)
            var map = [Float](repeating: 0, count: outputChannels * h * w)
            lfosa_i8_pixel_bias_map(co, ci, kh, kw, Int32(h), Int32(w), weight.value, encoding.offset, &map)
            int8PixelPacked = (key, Int8ConvolutionOperands(packed: words, scales: scales, map: map, encoding: encoding))
        }
        return int8PixelPacked.operands
    }

    private struct PixelWeightsKey: Equatable {
        var generation: UInt64
        var encoding: PixelEncoding
        var h: Int, w: Int
    }

    private var int8PixelPacked: (key: PixelWeightsKey?, operands: Int8ConvolutionOperands) =
        (nil, Int8ConvolutionOperands(packed: [], scales: []))

    /// One of the fused convolution + affine + pool (+ ReLU) kernels over the batch, its images
    /// split over the workers; nil when any worker's kernel reports failure (nonzero).
    private func forwardPooled(_ x: Tensor, affine: (scale: [Float], shift: [Float]), relu: Bool,
                               kernel: (Int32, Int32, Int32, Int32, Int32, Int32, Int32, UnsafePointer<Float>?,
                                        Int32, Int32, UnsafePointer<Float>?, UnsafePointer<Float>?,
                                        UnsafePointer<Float>?, Int32, UnsafeMutablePointer<Float>?) -> Int32) -> Tensor? {
        let n = x.shape[1], h = x.shape[2], w = x.shape[3]
        var failed = false
        let y = Tensor(shape: [outputChannels, n, h / 2, w / 2]) { out in
            x.data.withUnsafeBufferPointer { xp in
                weight.value.withUnsafeBufferPointer { wp in
                    affine.scale.withUnsafeBufferPointer { sp in
                        affine.shift.withUnsafeBufferPointer { tp in
                            let box = (x: xp.baseAddress!, w: wp.baseAddress!, s: sp.baseAddress!, t: tp.baseAddress!,
                                       out: out.baseAddress!)
                            let dims = (co: Int32(outputChannels), ci: Int32(inputChannels), kh: Int32(kernelHeight),
                                        kw: Int32(kernelWidth), n: Int32(n), h: Int32(h), w: Int32(w), relu: Int32(relu ? 1 : 0))
                            failed = parallelChunksReportingAny(n) { lo, hi in
                                kernel(dims.co, dims.ci, dims.kh, dims.kw, dims.n, dims.h, dims.w, box.x, Int32(lo), Int32(hi),
                                       box.w, box.s, box.t, dims.relu, box.out) != 0
                            }
                        }
                    }
                }
            }
        }
        return failed ? nil : y
    }

    /// Tests turn the pooled inference kernel off to compare it with the layers one by one.
    var allowsPoolFusion = true

    /// Tests turn the direct kernel off to compare it with unfolding + the bfloat16 GEMM.
    var allowsDirectBFloat16 = true

    /// Tests turn the float32 direct kernel off to compare it with unfolding + sgemm.
    var allowsDirectFloat32 = true

    /// Tests turn the float16 inference kernel off to compare it with the float32 one.
    var allowsDirectFloat16 = true

    /// Tests turn the 8-bit integer inference kernel off to compare it with the others.
    var allowsDirectInt8 = true

    /// Whether this layer's inference runs the float16 kernel for an `h × w` input: products at
    /// `.float16Inference` (or int8's leftovers) on a CPU with AVX512-FP16 (training keeps the
    /// float32 kernel unless `trainsFloat16`).
    private func runsFloat16(h: Int, w: Int, ho: Int, wo: Int) -> Bool {
        matmulPrecision.effective.float16Convolutions && float16KernelTakes(h: h, w: w, ho: ho, wo: wo)
    }

    /// Whether training runs this layer's forward and input-gradient convolutions in float16
    /// for an `h × w` input: `TrainingPrecision.float16` on a CPU with AVX512-FP16 (never under
    /// bfloat16, whose direct kernel takes precedence).
    private func trainsFloat16(h: Int, w: Int, ho: Int, wo: Int) -> Bool {
        trainingPrecision == .float16 && float16KernelTakes(h: h, w: w, ho: ho, wo: wo)
    }

    /// The reduced-precision forward kernel (`lfosa_f16_conv_same_forward`'s arguments; returns
    /// nonzero on a non-finite output) this layer's forward pass runs for an `h × w` input, in
    /// training or at inference: bfloat16 (`trainsBFloat16`) or float16 (`trainsFloat16`,
    /// `runsFloat16`); nil for the float32 kernels.
    private func reducedPrecisionKernel(training: Bool, h: Int, w: Int, ho: Int, wo: Int)
        -> (@convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Int32, UnsafePointer<Float>?, Int32, Int32,
                            UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int32) -> Int32)? {
        if training && trainsBFloat16(h: h, w: w, ho: ho, wo: wo) { return lfosa_dpbf16_conv_same_forward }
        if training ? trainsFloat16(h: h, w: w, ho: ho, wo: wo) : runsFloat16(h: h, w: w, ho: ho, wo: wo) {
            return lfosa_f16_conv_same_forward
        }
        return nil
    }

    /// Whether training runs this layer's forward and input-gradient convolutions with bfloat16
    /// products (`TrainingPrecision.bfloat16`, AVX512-BF16) for an `h × w` input: where the
    /// float32 direct kernel would (never under `MatmulPrecision.bfloat16`, whose AMX kernel
    /// takes precedence).
    private func trainsBFloat16(h: Int, w: Int, ho: Int, wo: Int) -> Bool {
        trainingPrecision == .bfloat16 && directKernel(h: h, w: w, ho: ho, wo: wo) == .float32
            && lfosa_dpbf16_conv_same_supported(Int32(h), Int32(w), Int32(kernelHeight), Int32(kernelWidth)) != 0
    }

    /// Whether the float16 kernel can stand in for this layer's float32 direct kernel on an
    /// `h × w` input: allowed, a "same" convolution the float32 direct kernel takes, and a plane
    /// and kernel `f16_conv.c` handles on this CPU.
    private func float16KernelTakes(h: Int, w: Int, ho: Int, wo: Int) -> Bool {
        allowsDirectFloat16 && directKernel(h: h, w: w, ho: ho, wo: wo) == .float32
            && lfosa_f16_conv_same_supported(Int32(h), Int32(w), Int32(kernelHeight), Int32(kernelWidth)) != 0
    }

    /// The implicit-GEMM "same"-convolution kernels (LfosaKernels): forward (and, with the
    /// kernel rotated, the input gradient) and the weight gradient, in one precision.
    enum DirectKernel {
        case bfloat16, float32

        var forward: @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Int32, UnsafePointer<Float>?, Int32, Int32,
                                     UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int32) -> Void {
            self == .bfloat16 ? lfosa_bf16_conv_same_forward : lfosa_f32_conv_same_forward
        }

        var weightGradient: @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Int32, UnsafePointer<Float>?, Int32,
                                            Int32, UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?) -> Void {
            self == .bfloat16 ? lfosa_bf16_conv_same_weight_gradient : lfosa_f32_conv_same_weight_gradient
        }
    }

    /// The direct kernel this layer takes for an `h × w` input (nil: unfolding + GEMM): a "same"
    /// convolution (stride 1, square odd kernel, padding kernel/2) whose precision has one here.
    func directKernel(h: Int, w: Int, ho: Int, wo: Int) -> DirectKernel? {
        guard stride == 1 && ho == h && wo == w && 2 * padding + 1 == kernelHeight && kernelHeight == kernelWidth
        else { return nil }
        let kh = Int32(kernelHeight), kw = Int32(kernelWidth)
        switch matmulPrecision {
        case .bfloat16:
            return allowsDirectBFloat16 && lfosa_bf16_conv_same_supported(Int32(h), Int32(w), kh, kw) != 0
                && lfosa_amx_bf16_available() != 0 ? .bfloat16 : nil
        case .float32, .float16Inference, .int8Inference:
            return allowsDirectFloat32 && lfosa_f32_conv_same_supported(Int32(h), Int32(w), kh, kw) != 0 ? .float32 : nil
        }
    }

    private var isPointwise: Bool { kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0 }

    /// Floats of unfolded columns per chunk (per worker): sized to stay in a core's L2 cache.
    nonisolated(unsafe) public static var unfoldBudget = 1 << 18

    /// Images per chunk (tests lower it to exercise multi-chunk and multi-thread paths).
    var imagesPerChunkOverride: Int?

    /// Runs `body(worker, n0, n1, workspace, parallel)` over chunks of images whose unfolded
    /// columns fit in about 1 MiB (or `imagesPerChunk` images). Without `unfolds` the workspace
    /// is empty (kernels that read the input directly).
    ///
    /// With several workers, whole chunks run on different threads, each with its own
    /// workspace and single-threaded BLAS (coarse-grained: no synchronisation inside a chunk);
    /// `parallel` then is false and the body must not fork further. Chunks go to workers
    /// round-robin in a fixed order, so results do not depend on scheduling except through
    /// per-worker accumulators the caller sums in worker order.
    private func forEachImageChunk(n: Int, plane: Int, k: Int, imagesPerChunk: Int? = nil, unfolds: Bool = true,
                                   _ body: (Int, Int, Int, UnsafeMutableBufferPointer<Float>, Bool) -> Void) -> Int {
        let per = imagesPerChunkOverride ?? imagesPerChunk ?? max(1, Self.unfoldBudget / max(1, k * plane))
        let chunk = min(n, per)
        let chunks = (n + chunk - 1) / chunk
        let workers = max(1, min(ParallelConfiguration.workers, chunks))
        let slot = unfolds ? chunk * plane * k : 0
        if workspace.count < workers * slot { workspace = [Float](repeating: 0, count: workers * slot) }
        workspace.withUnsafeMutableBufferPointer { all in
            if workers == 1 {
                let col = UnsafeMutableBufferPointer(rebasing: all[0..<slot])
                for c in 0..<chunks { body(0, c * chunk, min(n, (c + 1) * chunk), col, true) }
                return
            }
            withoutActuallyEscaping(body) { body in
                DispatchQueue.concurrentPerform(iterations: workers) { w in
                    let col = UnsafeMutableBufferPointer(rebasing: all[(w * slot)..<((w + 1) * slot)])
                    for c in Swift.stride(from: w, to: chunks, by: workers) {
                        body(w, c * chunk, min(n, (c + 1) * chunk), col, false)
                    }
                }
            }
        }
        return workers
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
                                     inputShape: input.shape, outputChannels: outputChannels,
                                     computeInputGradient: computesInputGradient)
        }
        let x = input
        let n = x.shape[1], h = x.shape[2], w = x.shape[3]
        let (ho, wo) = outputSize(h, w)
        let k = inputChannels * kernelHeight * kernelWidth
        let cols = n * ho * wo
        let needInput = computesInputGradient
        if isPointwise {
            g.data.withUnsafeBufferPointer { gp in
                x.data.withUnsafeBufferPointer { cp in
                    weight.gradient.withUnsafeMutableBufferPointer { dw in
                        GEMM.sgemm(CblasNoTrans, CblasTrans, m: outputChannels, n: k, k: cols,
                                   a: gp.baseAddress, lda: cols, b: cp.baseAddress, ldb: cols,
                                   beta: 1, c: dw.baseAddress, ldc: k, precision: matmulPrecision)
                    }
                }
            }
            guard needInput else { return Tensor(shape: [0]) }
            return Tensor(shape: x.shape) { dx in
                g.data.withUnsafeBufferPointer { gp in
                    weight.value.withUnsafeBufferPointer { wp in
                        GEMM.sgemm(CblasTrans, CblasNoTrans, m: k, n: cols, k: outputChannels,
                                   a: wp.baseAddress, lda: k, b: gp.baseAddress, ldb: cols,
                                   beta: 0, c: dx.baseAddress, ldc: cols, precision: matmulPrecision)
                    }
                }
            }
        }
        let directKernel = directKernel(h: h, w: w, ho: ho, wo: wo)
        let direct = directKernel != nil
        // col2im accumulates into zeros; the direct kernel writes every element of dx itself
        var dx = direct && needInput ? Tensor(shape: x.shape, unsafeUninitialized: { _ in }) : Tensor(shape: needInput ? x.shape : [0])
        let slot = direct ? 0 : min(n, imagesPerChunkOverride ?? max(1, Self.unfoldBudget / max(1, k * ho * wo))) * ho * wo * k
        let maxWorkers = max(1, ParallelConfiguration.workers)
        if dcolWorkspace.count < maxWorkers * slot { dcolWorkspace = [Float](repeating: 0, count: maxWorkers * slot) }
        // Direct kernels: the input gradient of a "same" convolution is the "same" convolution
        // of g with the kernel flipped and its channel axes swapped.
        let flipped = direct && needInput ? flippedWeight() : []
        // The input gradient in reduced precision: bfloat16 (float32's exponent range, no
        // scaling) or float16, each image's g scaled by a power of two that puts its largest
        // magnitude near 2^10 before it is rounded to float16 (the kernel divides the sums by it
        // again). Nonzero: an output was not finite, redo it in float32.
        let reducedGradient: ((Int32, Int32, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?) -> Int32)?
        let (cin32, cout32, kh32, kw32) = (Int32(inputChannels), Int32(outputChannels), Int32(kernelHeight), Int32(kernelWidth))
        let (n32, h32, w32, cols32) = (Int32(n), Int32(h), Int32(w), Int32(cols))
        if !(direct && needInput) {
            reducedGradient = nil
        } else if trainsBFloat16(h: h, w: w, ho: ho, wo: wo) {
            reducedGradient = { n0, n1, g, f, dx in
                lfosa_dpbf16_conv_same_forward(cin32, cout32, kh32, kw32, n32, h32, w32, g, n0, n1, f, dx, cols32)
            }
        } else if trainsFloat16(h: h, w: w, ho: ho, wo: wo) {
            reducedGradient = { n0, n1, g, f, dx in
                lfosa_f16_conv_same_forward_scaled(cin32, cout32, kh32, kw32, n32, h32, w32, g, n0, n1, f, dx, cols32, 0)
            }
        } else {
            reducedGradient = nil
        }
        let weightCount = weight.count
        // One weight-gradient accumulator per worker, summed in worker order afterwards.
        var partials = [Float](repeating: 0, count: maxWorkers * weightCount)
        var workersUsed = 1
        g.data.withUnsafeBufferPointer { gp in
            weight.value.withUnsafeBufferPointer { wp in
                partials.withUnsafeMutableBufferPointer { dwAll in
                    dx.data.withUnsafeMutableBufferPointer { dxp in
                        dcolWorkspace.withUnsafeMutableBufferPointer { dcAll in
                            // Direct kernels need no workspace. The float32 one sums per-lane partials
                            // over a call's images (reduced once per call): one call per worker.
                            let perCall = directKernel == .float32 ? (n + maxWorkers - 1) / maxWorkers : nil
                            workersUsed = forEachImageChunk(n: n, plane: ho * wo, k: k, imagesPerChunk: perCall,
                                                            unfolds: !direct) { worker, n0, n1, col, parallel in
                                let chunkCols = (n1 - n0) * ho * wo
                                let gChunk = gp.baseAddress! + n0 * ho * wo
                                if let directKernel {
                                    x.data.withUnsafeBufferPointer { xp in
                                        directKernel.weightGradient(
                                            Int32(outputChannels), Int32(inputChannels), Int32(kernelHeight),
                                            Int32(kernelWidth), Int32(n), Int32(h), Int32(w), xp.baseAddress, Int32(n0),
                                            Int32(n1), gp.baseAddress, Int32(cols), 1, dwAll.baseAddress! + worker * weightCount)
                                    }
                                } else {
                                    // The unfolded chunk is recomputed (cheap, in cache) rather than kept from forward.
                                    im2col(x, images: n0..<n1, ho: ho, wo: wo, into: col, parallel: parallel)
                                    GEMM.sgemm(CblasNoTrans, CblasTrans, m: outputChannels, n: k, k: chunkCols,
                                               a: gChunk, lda: cols, b: col.baseAddress, ldb: chunkCols,
                                               beta: 1, c: dwAll.baseAddress! + worker * weightCount, ldc: k,
                                               parallel: parallel, precision: matmulPrecision)
                                }
                                guard needInput else { return }
                                if let directKernel {
                                    if let reducedGradient {
                                        let overflow = flipped.withUnsafeBufferPointer { fp in
                                            reducedGradient(Int32(n0), Int32(n1), gp.baseAddress, fp.baseAddress, dxp.baseAddress) != 0
                                        }
                                        if !overflow { return }
                                    }
                                    flipped.withUnsafeBufferPointer { fp in
                                        directKernel.forward(
                                            Int32(inputChannels), Int32(outputChannels), Int32(kernelHeight),
                                            Int32(kernelWidth), Int32(n), Int32(h), Int32(w), gp.baseAddress, Int32(n0),
                                            Int32(n1), fp.baseAddress, dxp.baseAddress, Int32(cols))
                                    }
                                    return
                                }
                                let dc = UnsafeMutableBufferPointer(rebasing: dcAll[(worker * slot)..<((worker + 1) * slot)])
                                GEMM.sgemm(CblasTrans, CblasNoTrans, m: k, n: chunkCols, k: outputChannels,
                                           a: wp.baseAddress, lda: k, b: gChunk, ldb: cols,
                                           beta: 0, c: dc.baseAddress, ldc: chunkCols, parallel: parallel, precision: matmulPrecision)
                                col2im(dc, images: n0..<n1, shape: x.shape, ho: ho, wo: wo, into: dxp,
                                       parallel: parallel)
                            }
                        }
                    }
                }
            }
        }
        weight.gradient.withUnsafeMutableBufferPointer { dw in
            partials.withUnsafeBufferPointer { pp in
                for w in 0..<workersUsed {
                    let base = w * weightCount
                    for i in 0..<weightCount { dw[i] += pp[base + i] }
                }
            }
        }
        return dx
    }

    /// The weight as `[Cin, Cout, kh, kw]` with each kernel rotated by 180°.
    private func flippedWeight() -> [Float] {
        let kh = kernelHeight, kw = kernelWidth, cin = inputChannels, cout = outputChannels
        var f = [Float](repeating: 0, count: weight.count)
        weight.value.withUnsafeBufferPointer { wp in
            for co in 0..<cout {
                for ci in 0..<cin {
                    let src = (co * cin + ci) * kh * kw, dst = (ci * cout + co) * kh * kw
                    for i in 0..<(kh * kw) { f[dst + kh * kw - 1 - i] = wp[src + i] }
                }
            }
        }
        return f
    }

    /// Unfolds images `images` of `[Cin, N, H, W]` into rows `(ci, i, j)` × columns `(n, oy, ox)`.
    func im2col(_ x: Tensor, images: Range<Int>, ho: Int, wo: Int, into col: UnsafeMutableBufferPointer<Float>,
                parallel: Bool = true) {
        let n = x.shape[1], h = x.shape[2], w = x.shape[3]
        let kh = kernelHeight, kw = kernelWidth, s = stride, p = padding
        let rows = inputChannels * kh * kw, cols = images.count * ho * wo
        x.data.withUnsafeBufferPointer { xp in
            parallelChunks(rows, minimumPerWorker: parallel ? 1 : rows + 1) { lo, hi in
                for r in lo..<hi {
                    let ci = r / (kh * kw), i = (r / kw) % kh, j = r % kw
                    if s == 1 && ho == h && wo == w {
                        // "Same" convolution: each image's row block is its plane shifted by
                        // (i−p, j−p) — one contiguous copy, then the padding zeroed.
                        var dst = r * cols
                        for ni in images {
                            Self.shiftedPlane(xp.baseAddress! + (ci * n + ni) * h * w, h: h, w: w, dy: i - p, dx: j - p,
                                              into: col.baseAddress! + dst)
                            dst += ho * wo
                        }
                        continue
                    }
                    // valid ox range: 0 <= ox*s - p + j < w
                    let oxLo = min(wo, max(0, (p - j + s - 1) / s))
                    let oxHi = max(oxLo, min(wo, (w + p - j + s - 1) / s))
                    var dst = r * cols
                    for ni in images {
                        let plane = (ci * n + ni) * h * w
                        for oy in 0..<ho {
                            let iy = oy * s - p + i
                            if iy < 0 || iy >= h {
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

    /// Where a plane shifted by (dy, dx) overlaps itself: rows `yLo..<yHi` and columns
    /// `xLo..<xHi` of the destination have a source, and the valid rows as one flat run are
    /// `a..<b` (destination offsets; source = destination + `shift`), clipped to the plane.
    /// Inside that run, entries in the border columns wrap across a row edge.
    private struct PlaneShift {
        let yLo: Int, yHi: Int, xLo: Int, xHi: Int, shift: Int, a: Int, b: Int

        init(h: Int, w: Int, dy: Int, dx: Int) {
            yLo = min(h, max(0, -dy)); yHi = max(yLo, min(h, h - dy))
            xLo = min(w, max(0, -dx)); xHi = max(xLo, min(w, w - dx))
            shift = dy * w + dx
            let lo = yLo * w, hi = yHi * w
            a = min(hi, max(lo, -shift)); b = max(a, min(hi, h * w - shift))
        }

        /// Zeroes the border columns of the valid rows of a `w`-wide plane.
        @inline(__always)
        func zeroBorderColumns(_ p: UnsafeMutablePointer<Float>, w: Int) {
            guard xLo > 0 || xHi < w else { return }
            for y in yLo..<yHi {
                let row = p + y * w
                if xLo == 1 { row[0] = 0 } else { Conv2D.zero(row, xLo) }
                if xHi == w - 1 { row[w - 1] = 0 } else { Conv2D.zero(row + xHi, w - xHi) }
            }
        }
    }

    /// Writes `out[y·w + x] = plane[(y+dy)·w + x+dx]`, 0 where that falls outside the plane.
    @inline(__always)
    static func shiftedPlane(_ plane: UnsafePointer<Float>, h: Int, w: Int, dy: Int, dx: Int,
                             into out: UnsafeMutablePointer<Float>) {
        let g = PlaneShift(h: h, w: w, dy: dy, dx: dx)
        // one contiguous copy of the valid rows, then everything without a source zeroed
        if g.a < g.b { (out + g.a).update(from: plane + g.a + g.shift, count: g.b - g.a) }
        zero(out + g.yLo * w, g.a - g.yLo * w)
        zero(out + g.b, g.yHi * w - g.b)
        zero(out, g.yLo * w)
        zero(out + g.yHi * w, (h - g.yHi) * w)
        g.zeroBorderColumns(out, w: w)
    }

    /// Adds `src[y·w + x]` onto `out[(y+dy)·w + x+dx]` where that lies inside the plane — the
    /// transpose of `shiftedPlane`. Zeroes `src`'s border columns first so that the valid rows
    /// can be added as one contiguous run (entries wrapping across a row edge then add 0).
    @inline(__always)
    static func addShiftedPlane(_ src: UnsafeMutablePointer<Float>, h: Int, w: Int, dy: Int, dx: Int,
                                into out: UnsafeMutablePointer<Float>) {
        let g = PlaneShift(h: h, w: w, dy: dy, dx: dx)
        g.zeroBorderColumns(src, w: w)
        let target = out + g.shift
        for q in g.a..<g.b { target[q] += src[q] }
    }

    /// Zeroes `count` floats (≤ 0: none): short runs inline, long ones through `memset`.
    @inline(__always)
    private static func zero(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
        if count >= 64 { p.update(repeating: 0, count: count); return }
        var i = 0
        while i + 8 <= count {
            UnsafeMutableRawPointer(p + i).storeBytes(of: SIMD8<Float>(), as: SIMD8<Float>.self)
            i += 8
        }
        while i < count { p[i] = 0; i += 1 }
    }

    /// Folds column gradients of images `images` back onto `[Cin, N, H, W]`, summing overlaps.
    /// `dcol` is scratch: the "same"-convolution path zeroes its border entries.
    func col2im(_ dcol: UnsafeMutableBufferPointer<Float>, images: Range<Int>, shape: [Int], ho: Int, wo: Int,
                into d: UnsafeMutableBufferPointer<Float>, parallel: Bool = true) {
        let n = shape[1], h = shape[2], w = shape[3]
        let kh = kernelHeight, kw = kernelWidth, s = stride, p = padding
        let cols = images.count * ho * wo
        parallelChunks(inputChannels, minimumPerWorker: parallel ? 1 : inputChannels + 1) { lo, hi in
            for ci in lo..<hi {
                if s == 1 && ho == h && wo == w {
                    for i in 0..<kh {
                        for j in 0..<kw {
                            var src = ((ci * kh + i) * kw + j) * cols
                            for ni in images {
                                Self.addShiftedPlane(dcol.baseAddress! + src, h: h, w: w, dy: i - p, dx: j - p,
                                                     into: d.baseAddress! + (ci * n + ni) * h * w)
                                src += h * w
                            }
                        }
                    }
                    continue
                }
                for i in 0..<kh {
                    for j in 0..<kw {
                        let r = (ci * kh + i) * kw + j
                        let oxLo = min(wo, max(0, (p - j + s - 1) / s))
                        let oxHi = max(oxLo, min(wo, (w + p - j + s - 1) / s))
                        if oxLo >= oxHi { continue }
                        var src = r * cols
                        for ni in images {
                            let plane = (ci * n + ni) * h * w
                            for oy in 0..<ho {
                                let iy = oy * s - p + i
                                if iy >= 0 && iy < h {
                                    let row = plane + iy * w - p + j
                                    for ox in oxLo..<oxHi { d[row + ox * s] += dcol[src + ox] }
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

/// The packed operands of an 8-bit integer convolution kernel (`i8_conv.c`): the weights as
/// signed bytes in the kernel's layout, their per-channel scales and, for the first layer on
/// the pixels, the border bias map and the pixel encoding (empty otherwise).
struct Int8ConvolutionOperands {
    var packed: [UInt32]
    var scales: [Float]
    var map: [Float] = []
    var encodingScale: [Float] = []
    var encodingOffset: [Float] = []

    init(packed: [UInt32], scales: [Float], map: [Float] = [], encoding: PixelEncoding? = nil) {
        self.packed = packed
        self.scales = scales
        self.map = map
        self.encodingScale = encoding?.scale ?? []
        self.encodingOffset = encoding?.offset ?? []
    }

    /// The operands' base addresses (nil for the empty ones), valid inside `body` only.
    struct Pointers {
        let packed: UnsafePointer<UInt32>?
        let scales: UnsafePointer<Float>?
        let map: UnsafePointer<Float>?
        let encodingScale: UnsafePointer<Float>?
        let encodingOffset: UnsafePointer<Float>?
    }

    func withPointers<R>(_ body: (Pointers) -> R) -> R {
        packed.withUnsafeBufferPointer { pp in
            scales.withUnsafeBufferPointer { sp in
                map.withUnsafeBufferPointer { mp in
                    encodingScale.withUnsafeBufferPointer { es in
                        encodingOffset.withUnsafeBufferPointer { eo in
                            body(Pointers(packed: pp.baseAddress, scales: sp.baseAddress, map: mp.baseAddress,
                                          encodingScale: es.baseAddress, encodingOffset: eo.baseAddress))
                        }
                    }
                }
            }
        }
    }
}
