import ArgumentParser
import Foundation
import LfosaNumerics

/// `lfosa bench …`: benchmarks that print one JSON line each (release builds only are meaningful).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks (run with `swift run -c release`); each prints one JSON line.",
        subcommands: [BenchEngineCommand.self, BenchDataCommand.self, BenchStoreCommand.self, BenchTUICommand.self]
    )
}

/// Train and inference throughput of the reference CNN on 3×32×32 inputs.
struct BenchEngineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Reference CNN: train step (batch 128, CE on logits/0.5, SGD) and inference (batch 256) throughput."
    )

    @Flag(help: "Print JSON only (the default output is JSON plus a human summary on stderr).")
    var json = false

    @Option(help: "Seconds to time each phase.")
    var seconds: Double = 6

    @Option(help: "Worker threads of the numeric core (default: all online cores; OpenBLAS itself runs one).")
    var threads: Int?

    @Option(help: "Architecture to measure (reference-cnn, compact-cnn, resnet18).")
    var architecture: String = Architecture.referenceCNN.rawValue

    @Option(help: ArgumentHelp("Inference batch size (tuning; the comparison with PyTorch uses 256).", visibility: .hidden))
    var inferBatch = 256

    @Option(help: ArgumentHelp("Floats of unfolded columns per convolution chunk (tuning).", visibility: .hidden))
    var unfoldBudget: Int?

    @Option(help: "Precision of the matrix products: fp32, bf16 (bfloat16 operands, float32 sums; Intel AMX, else fp32) fp16 (float32 training, float16 inference convolutions; AVX512-FP16, else fp32) or int8 (fp16, with 8-bit integer products in the convolutions after a ReLU, the first convolution on the pixels and the dense layer; AVX512-VNNI).")
    var precision: String = MatmulPrecision.float32.rawValue

    @Option(help: "Precision of the training convolutions' products where --precision trains in float32: fp32, fp16 (forward and input gradients with float16 products; AVX512-FP16, else fp32) or bf16 (the same with bfloat16 products summed in float32; AVX512-BF16, else fp32).")
    var trainPrecision: String = TrainingPrecision.float32.rawValue

    @Flag(help: "Use the Winograd F(2×2,3×3) path for 3×3 convolutions (default: cache-blocked im2col + sgemm).")
    var winograd = false

    mutating func run() throws {
        guard let arch = Architecture(rawValue: architecture) else {
            throw ValidationError("unknown architecture '\(architecture)'")
        }
        let precision = try MatmulPrecision.parse(precision)
        let trainingPrecision = try TrainingPrecision.parse(trainPrecision).effective
        Runtime.prepareForNumerics(threads: threads)
        if let unfoldBudget, unfoldBudget > 0 { Conv2D.unfoldBudget = unfoldBudget }
        let result = EngineBenchmark.run(architecture: arch, seconds: seconds, winograd: winograd, inferBatch: max(1, inferBatch),
                                          precision: precision, trainingPrecision: trainingPrecision)
        let line = "{\"impl\":\"lfosa\",\"architecture\":\"\(arch.rawValue)\",\"threads\":\(ParallelConfiguration.workers),"
            + "\"winograd\":\(winograd),\"matmul_precision\":\"\(precision.effective.rawValue)\",\"train_precision\":\"\(trainingPrecision.rawValue)\",\"blas_core\":\"\(BLASKernels.coreName)\","
            + "\"train_images_per_s\":\(String(format: "%.1f", result.train)),"
            + "\"infer_images_per_s\":\(String(format: "%.1f", result.infer))}"
        print(line)
        if !json {
            FileHandle.standardError.write(Data(
                "train \(Int(result.train)) img/s, inference \(Int(result.infer)) img/s; compare: /usr/bin/python3 assets/bench/reference_cnn_torch.py\n".utf8))
        }
    }
}

/// Timing loop for the engine benchmark (the clock lives here, not in the numeric core).
enum EngineBenchmark {
    static func run(architecture: Architecture, seconds: Double, winograd: Bool, inferBatch: Int = 256,
                    precision: MatmulPrecision = .float32,
                    trainingPrecision: TrainingPrecision = .float32) -> (train: Double, infer: Double) {
        let net = Network.make(architecture, inputShape: [3, 32, 32], classes: 5, seed: 1)
        net.matmulPrecision = precision
        net.trainingPrecision = trainingPrecision
        for case let conv as Conv2D in net.trunk { conv.allowsWinograd = winograd }
        var rng = SplitMix64(seed: 7)
        let trainX = Tensor(shape: [128, 3, 32, 32], data: (0..<(128 * 3072)).map { _ in rng.nextUnitFloat() })
        let labels = (0..<128).map { _ in rng.nextInt(below: 5) }
        let temps = [Float](repeating: 0.5, count: 128)
        let sgd = SGD(learningRate: 0.01, momentum: 0.9, weightDecay: 5e-4)
        func step() {
            net.zeroGradients()
            let logits = net.forward(trainX, mode: .training)
            let (_, grad) = softmaxCrossEntropy(logits: logits, labels: labels, temperatures: temps)
            net.backward(grad)
            sgd.step(net.parameters)
        }
        let train = timed(images: 128, seconds: seconds, step)
        // scored as the pool is: random 8-bit pixels, normalised as makeBatch does, the encoding known
        let normalization = Normalization.centered(channels: 3)
        net.pixelEncoding = normalization.pixelEncoding
        let pixels = ImageBatchSource(channels: 3, height: 32, width: 32,
                                      pixels: (0..<(inferBatch * 3072)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        let inferX = makeBatch(from: pixels, indices: Array(0..<inferBatch), augmentation: .none, normalization: normalization, rng: &rng)
        var sink: Float = 0
        let infer = timed(images: inferBatch, seconds: seconds) { sink += net.forward(inferX, mode: .inference).data[0] }
        if sink.isNaN { print("") }
        return (train, infer)
    }

    static func timed(images: Int, seconds: Double, _ body: () -> Void) -> Double {
        for _ in 0..<2 { body() }
        let start = DispatchTime.now().uptimeNanoseconds
        var calls = 0
        var elapsed = 0.0
        repeat {
            body()
            calls += 1
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        } while elapsed < seconds
        return Double(calls * images) / elapsed
    }
}
