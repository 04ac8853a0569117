import LfosaKernels
import Testing
@testable import LfosaNumerics

/// The two 8-bit integer inference kernels outside the convolutions after a ReLU (AVX512-VNNI):
/// the first convolution on the image's own pixels (its input normalisation known, so only the
/// weights are quantised) and the dense layer (reading a channel-major map as if flattened).
/// Each against float32, image by image, with its fallbacks (skipped without AVX512-VNNI).
@Suite(.enabled(if: MatmulPrecision.int8Available, "no AVX512-VNNI on this CPU"))
struct Int8PixelAndDenseTests {
    /// `n` random 8-bit images through `makeBatch` (NCHW, normalised) and then channel-major,
    /// as the first convolution sees them; and the encoding.
    private func pixelInput(channels: Int, n: Int, h: Int, w: Int, normalization: Normalization,
                            rng: inout SplitMix64) -> Tensor {
        let source = ImageBatchSource(channels: channels, height: h, width: w,
                                      pixels: (0..<(n * channels * h * w)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        return swapFirstTwoAxes(makeBatch(from: source, indices: Array(0..<n), augmentation: .none,
                                          normalization: normalization, rng: &rng))
    }

    private static let cifarLike = Normalization(mean: [0.49, 0.48, 0.45, 0.5], std: [0.247, 0.243, 0.261, 0.25])

    /// 3 (RGB), 1 and 4 input channels; output counts that do and do not fill the 4- and
    /// 8-channel blocks; 32-wide planes of several row pairs; with and without ReLU: within the
    /// weights' quantisation of float32's convolution + affine + pooling everywhere, borders
    /// included (where the padding's missing offsets are the bias map), and the same numbers
    /// whatever images share a call.
    @Test(arguments: [(3, 32, 32), (1, 12, 6), (4, 9, 32), (3, 5, 2)])
    func firstLayerOnPixelsMatchesFloat32(shape: (cin: Int, cout: Int, h: Int)) {
        let (cin, cout, h) = shape
        let w = 32, n = 5
        var rng = SplitMix64(seed: UInt64(cin * 100 + cout))
        let normalization = Normalization(mean: Array(Self.cifarLike.mean.prefix(cin)), std: Array(Self.cifarLike.std.prefix(cin)))
        let conv = Conv2D(name: "c", inputChannels: cin, outputChannels: cout, kernel: 3, padding: 1, rng: &rng)
        conv.pixelEncoding = normalization.pixelEncoding
        let x = pixelInput(channels: cin, n: n, h: h, w: w, normalization: normalization, rng: &rng)
        let scale = (0..<cout).map { _ in rng.nextUnitFloat() * 3 - 1 }   // some negative
        let shift = (0..<cout).map { _ in rng.nextUnitFloat() - 0.5 }
        for relu in [false, true] {
            conv.matmulPrecision = .float32
            let reference = MaxPool2x2Kernel.pool(conv.forward(x, mode: .inference), argmax: nil, affine: (scale, shift), relu: relu).data
            conv.matmulPrecision = .float16Inference
            // nil without AVX512-FP16: float16 then runs layer by layer in float32
            let half = conv.forwardPooledForInference(x, affine: (scale, shift), relu: relu)?.data
            conv.matmulPrecision = .int8Inference
            guard let int8 = conv.forwardPooledForInference(x, affine: (scale, shift), relu: relu)?.data else {
                Issue.record("no pooled kernel took \(shape)"); return
            }
            #expect(int8.count == reference.count)
            #expect(half.map { !int8.elementsEqual($0) } ?? true, "the pixel kernel ran, not float16's")
            #expect(!relu || int8.allSatisfy { $0 >= 0 })
            let range = reference.map(abs).max()!
            let errors = zip(int8, reference).map { abs($0 - $1) }
            // weights rounded to 1/127 of the channel's largest; the pixels are exact
            #expect(errors.max()! <= 0.01 * range, "worst \(errors.max()!) at scale \(range)")
            #expect(errors.reduce(0, +) / Float(errors.count) <= 0.002 * range, "mean error at scale \(range)")
            // the border rows and columns of the pooled map are as close as the rest
            let ho = h / 2, wo = w / 2
            let border = (0..<errors.count).filter { i in
                let p = i % (ho * wo), y = p / wo, xx = p % wo
                return y == 0 || y == ho - 1 || xx == 0 || xx == wo - 1
            }
            #expect(border.map { errors[$0] }.max()! <= 0.01 * range)
            // one call per image, in reverse order: the same numbers
            let encoding = normalization.pixelEncoding
            let operands = conv.int8PixelWeights(encoding, h: h, w: w)
            let (packed, scales, map) = (operands.packed, operands.scales, operands.map)
            var perImage = [Float](repeating: .nan, count: int8.count)
            for i in (0..<n).reversed() {
                let failed = lfosa_i8_conv_pixels_pool_forward(Int32(cout), Int32(cin), 3, 3, Int32(n), Int32(h), Int32(w), x.data,
                                                               Int32(i), Int32(i + 1), packed, scales, map, encoding.scale,
                                                               encoding.offset, scale, shift, relu ? 1 : 0, &perImage)
                #expect(failed == 0)
            }
            #expect(perImage.elementsEqual(int8), "another split of the images: the same numbers")
        }
    }

    /// An input that is not the encoded pixels (a value between two pixel levels, out of range, or
    /// NaN; or no encoding known) runs the float16 kernel instead: its numbers exactly.
    @Test func inputOffThePixelGridTakesFloat16() {
        var rng = SplitMix64(seed: 3)
        let normalization = Normalization.centered(channels: 3)
        let conv = Conv2D(name: "c", inputChannels: 3, outputChannels: 8, kernel: 3, padding: 1, rng: &rng)
        var x = pixelInput(channels: 3, n: 3, h: 8, w: 32, normalization: normalization, rng: &rng)
        let ones = [Float](repeating: 1, count: 8), zeros = [Float](repeating: 0, count: 8)
        func both() -> ([Float]?, [Float]?) {
            conv.matmulPrecision = .float16Inference
            let half = conv.forwardPooledForInference(x, affine: (ones, zeros), relu: true)?.data
            conv.matmulPrecision = .int8Inference
            return (conv.forwardPooledForInference(x, affine: (ones, zeros), relu: true)?.data, half)
        }
        conv.pixelEncoding = nil
        var (int8, half) = both()
        // the fallback is float16's pooled kernel where the CPU has AVX512-FP16, else none (nil)
        let pooledFallback = MatmulPrecision.float16Available
        #expect((int8 != nil) == pooledFallback && int8 == half, "no encoding: float16")
        conv.pixelEncoding = normalization.pixelEncoding
        (int8, half) = both()
        #expect(int8 != nil && int8 != half, "encoded pixels: the pixel kernel")
        let step = normalization.pixelEncoding.scale[0]
        for bad in [x.data[300] + 0.5 * step, normalization.pixelEncoding.offset[0] - 2 * step, .nan] {
            let saved = x.data[300]
            x.data[300] = bad
            (int8, half) = both()
            // (NaN: float16's non-finite result leaves both to the layers one by one)
            #expect(int8 == half && (int8 != nil || bad.isNaN || !pooledFallback), "value \(bad): float16")
            x.data[300] = saved
        }
        // a 16-wide plane is not the pixel kernel's: float16 there too
        let narrow = pixelInput(channels: 3, n: 2, h: 16, w: 16, normalization: normalization, rng: &rng)
        conv.matmulPrecision = .float16Inference
        let narrowHalf = conv.forwardPooledForInference(narrow, affine: (ones, zeros), relu: false)?.data
        conv.matmulPrecision = .int8Inference
        #expect(conv.forwardPooledForInference(narrow, affine: (ones, zeros), relu: false)?.data == narrowHalf)
        #expect(lfosa_i8_conv_pixels_pool_supported(3, 16, 16, 3, 3) == 0 && lfosa_i8_conv_pixels_pool_supported(3, 32, 32, 3, 3) == 1)
    }

    /// A non-negative input (a ReLU's output, zeros and an all-zero image included).
    private func reluRows(_ n: Int, _ features: Int, rng: inout SplitMix64) -> [Float] {
        var v = (0..<(n * features)).map { _ in max(0, rng.nextUnitFloat() * 3 - 1) }
        for f in 0..<features { v[f] = 0 }   // image 0: all zero
        return v
    }

    /// Inputs that are and are not multiples of 4, outputs of one, several and a partial block of
    /// 32, batches of a partial and several 8-image blocks: within quantisation of float32 (the
    /// all-zero image gets the bias exactly), the same numbers however the images are split.
    @Test(arguments: [(2048, 256, 37), (37, 40, 9), (100, 32, 8), (64, 70, 3)])
    func denseMatchesFloat32WithinQuantisation(shape: (inputs: Int, outputs: Int, n: Int)) {
        let (inputs, outputs, n) = shape
        var rng = SplitMix64(seed: UInt64(inputs + outputs))
        let fc = Linear(name: "fc", inputs: inputs, outputs: outputs, rng: &rng)
        fc.bias.value = (0..<outputs).map { _ in rng.nextUnitFloat() - 0.5 }
        let x = Tensor(shape: [n, inputs], data: reluRows(n, inputs, rng: &rng))
        fc.matmulPrecision = .float32
        let reference = fc.forward(x, mode: .inference).data
        fc.matmulPrecision = .int8Inference
        #expect(fc.runsInt8)
        let int8 = fc.forward(x, mode: .inference).data
        #expect(int8.count == reference.count && !int8.elementsEqual(reference), "the int8 kernel ran")
        #expect(int8.prefix(outputs).elementsEqual(fc.bias.value), "an all-zero image: the bias")
        let range = reference.map(abs).max()!
        let errors = zip(int8, reference).map { abs($0 - $1) }
        #expect(errors.max()! <= 0.015 * range, "worst \(errors.max()!) at scale \(range)")
        #expect(errors.reduce(0, +) / Float(errors.count) <= 0.003 * range)
        // one call per image, in reverse order
        var packed = [UInt32](repeating: 0, count: lfosa_i8_linear_packed_words(Int32(outputs), Int32(inputs)))
        var scales = [Float](repeating: 0, count: (outputs + 31) / 32 * 32)
        lfosa_i8_linear_pack(Int32(outputs), Int32(inputs), fc.weight.value, &packed, &scales)
        var perImage = [Float](repeating: .nan, count: int8.count)
        for i in (0..<n).reversed() {
            #expect(lfosa_i8_linear_forward(Int32(i), Int32(i + 1), Int32(inputs), Int32(outputs), x.data, Int32(inputs), 0,
                                            packed, scales, fc.bias.value, &perImage) == 0)
        }
        #expect(perImage.elementsEqual(int8))
    }

    /// Read straight from a channel-major map [C, N, h, w], the dense layer gives the numbers it
    /// gives on that map flattened ([N, C·h·w]); in a network, Flatten + Linear at inference take
    /// that path and match the layers run one by one.
    @Test func denseReadsTheChannelMajorMapAsFlattened() {
        var rng = SplitMix64(seed: 12)
        let (c, n, h, w) = (8, 11, 2, 3)
        let fc = Linear(name: "fc", inputs: c * h * w, outputs: 48, rng: &rng)
        fc.matmulPrecision = .int8Inference
        let map = Tensor(shape: [c, n, h, w], data: (0..<(c * n * h * w)).map { _ in max(0, rng.nextUnitFloat() - 0.3) })
        let flat = Flatten().forward(map, mode: .inference)
        let viaFlat = fc.forward(flat, mode: .inference).data
        let direct = fc.forwardInt8(map.data, images: n, groupLength: h * w, groupStride: n * h * w)!.data
        #expect(direct.elementsEqual(viaFlat))
        // the network path
        let net = Network(trunk: [Flatten(), fc, ReLU()], head: Linear(name: "head", inputs: 48, outputs: 3, rng: &rng),
                          classes: 3, inputShape: [c, h, w])
        net.matmulPrecision = .int8Inference
        let logits = net.forward(map, mode: .inference).data
        var h1 = fc.forward(flat, mode: .inference)
        h1 = ReLU().forward(h1, mode: .inference)
        #expect(logits.elementsEqual(net.head.forward(h1, mode: .inference).data))
    }

    /// Negative or non-finite input, a small head and training all stay float32: the same numbers.
    @Test func denseFallsBackToFloat32() {
        var rng = SplitMix64(seed: 8)
        let fc = Linear(name: "fc", inputs: 64, outputs: 64, rng: &rng)
        var x = Tensor(shape: [4, 64], data: reluRows(4, 64, rng: &rng))
        fc.matmulPrecision = .float32
        let training = fc.forward(x, mode: .training).data
        fc.matmulPrecision = .int8Inference
        #expect(fc.forward(x, mode: .training).data == training, "training never quantises")
        for bad in [Float(-0.1), .nan, .infinity] {
            x.data[130] = bad
            fc.matmulPrecision = .float32
            let reference = fc.forward(x, mode: .inference).data
            fc.matmulPrecision = .int8Inference
            let out = fc.forward(x, mode: .inference).data
            #expect(out.count == reference.count && zip(out, reference).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) },
                    "input \(bad): float32")
        }
        let head = Linear(name: "head", inputs: 256, outputs: 5, rng: &rng)
        head.matmulPrecision = .int8Inference
        #expect(!head.runsInt8, "a head's few logits stay float32")
        // new weights are packed again
        x.data[130] = 0.5
        let before = fc.forward(x, mode: .inference).data
        fc.weight.value = fc.weight.value.map { -$0 }
        #expect(!fc.forward(x, mode: .inference).data.elementsEqual(before))
    }

    /// The reference CNN scoring normalised pixels as the pool is scored (`pixelEncoding` set):
    /// all three convolutions and the dense layer in int8, logits within 1.5 % of their spread of
    /// float32's and nearly every arg-max the same; without the encoding the first convolution
    /// runs float16 and the logits differ.
    @Test func networkOnPixelsStaysClose() {
        var rng = SplitMix64(seed: 9)
        let normalization = Normalization.centered(channels: 3)
        let net = Network.make(.referenceCNN, inputShape: [3, 32, 32], classes: 5, seed: 4)
        let source = ImageBatchSource(channels: 3, height: 32, width: 32,
                                      pixels: (0..<(64 * 3072)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        let x = makeBatch(from: source, indices: Array(0..<64), augmentation: .none, normalization: normalization, rng: &rng)
        net.matmulPrecision = .float32
        let reference = net.forward(x, mode: .inference).data
        net.matmulPrecision = .int8Inference
        let noEncoding = net.forward(x, mode: .inference).data
        net.pixelEncoding = normalization.pixelEncoding
        #expect((net.trunk.first { $0 is Conv2D } as? Conv2D)?.pixelEncoding == normalization.pixelEncoding)
        #expect(net.trunk.compactMap { $0 as? Conv2D }.dropFirst().allSatisfy { $0.pixelEncoding == nil })
        let int8 = net.forward(x, mode: .inference).data
        #expect(!int8.elementsEqual(noEncoding), "the pixel kernel ran")
        expectLogitsClose(int8, reference, classes: 5)
    }
}
