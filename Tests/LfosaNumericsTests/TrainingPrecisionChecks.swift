import Testing
@testable import LfosaNumerics

/// The checks `Float16TrainingTests` and `BFloat16TrainingTests` share, at a training precision
/// and the tolerance of its rounding.
enum TrainingPrecisionChecks {
    /// One layer in training: the forward pass and the input gradient (of a gradient of size
    /// 1e-8) within `tolerance` of float32's (relative to the largest value) and not equal to
    /// them (the reduced-precision kernel ran); the weight gradient is float32's exactly (it stays
    /// float32); inference is untouched.
    static func layerForwardAndInputGradient(cin: Int, cout: Int, h: Int, w: Int, precision: TrainingPrecision,
                                             tolerance: Float) {
        let n = 6
        var rng = SplitMix64(seed: UInt64(cin * 100 + h))
        let conv = Conv2D(name: "c", inputChannels: cin, outputChannels: cout, kernel: 3, padding: 1, rng: &rng)
        let x = Tensor(shape: [cin, n, h, w], data: (0..<(cin * n * h * w)).map { _ in max(0, rng.nextUnitFloat() * 3 - 1) })
        let g = Tensor(shape: [cout, n, h, w], data: (0..<(cout * n * h * w)).map { _ in (rng.nextUnitFloat() - 0.5) * 2e-8 })
        func run(_ precision: TrainingPrecision) -> (y: [Float], dx: [Float], dw: [Float], inference: [Float]) {
            conv.trainingPrecision = precision
            for p in conv.parameters { p.zeroGradient() }
            let y = conv.forward(x, mode: .training).data
            let dx = conv.backward(g).data
            return (y, dx, conv.weight.gradient, conv.forward(x, mode: .inference).data)
        }
        let single = run(.float32), reduced = run(precision)
        func close(_ a: [Float], _ b: [Float]) -> Bool {
            let size = b.map(abs).max()!
            return size > 0 && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * size }
        }
        #expect(close(reduced.y, single.y))
        #expect(reduced.y != single.y, "the \(precision) kernel ran forward")
        #expect(reduced.inference == single.inference, "inference is not training's business")
        #expect(reduced.dw == single.dw, "weight gradients stay float32")
        if conv.computesInputGradient {
            #expect(close(reduced.dx, single.dx))
            #expect(reduced.dx != single.dx, "the \(precision) kernel ran backward")
        }
    }

    /// `Network.trainingPrecision` reaches every convolution, and the reference CNN trained 30
    /// SGD steps from the same start at `precision` ends within `lossTolerance` (relative) of
    /// float32's loss, with at least 60 of 64 predictions the same.
    static func networkTrainsLikeFloat32(precision: TrainingPrecision, lossTolerance: Float) {
        var rng = SplitMix64(seed: 5)
        let x = Tensor(shape: [64, 3, 16, 16], data: (0..<(64 * 768)).map { _ in rng.nextUnitFloat() * 2 - 1 })
        let labels = (0..<64).map { _ in rng.nextInt(below: 4) }
        let temperatures = [Float](repeating: 0.5, count: 64)
        func train(_ precision: TrainingPrecision) -> (losses: [Float], logits: [Float]) {
            let net = Network.make(.referenceCNN, inputShape: [3, 16, 16], classes: 4, seed: 8)
            net.trainingPrecision = precision
            #expect(net.trunk.compactMap { $0 as? Conv2D }.allSatisfy { $0.trainingPrecision == precision })
            let sgd = SGD(learningRate: 0.02, momentum: 0.9, weightDecay: 5e-4)
            var losses: [Float] = []
            for _ in 0..<30 {
                net.zeroGradients()
                let (loss, grad) = softmaxCrossEntropy(logits: net.forward(x, mode: .training),
                                                       labels: labels, temperatures: temperatures)
                net.backward(grad)
                sgd.step(net.parameters)
                losses.append(loss)
            }
            return (losses, net.forward(x, mode: .inference).data)
        }
        let single = train(.float32), reduced = train(precision)
        #expect(reduced.losses != single.losses)
        #expect(single.losses.last! < 0.5 * single.losses.first!, "it learns: \(single.losses)")
        #expect(abs(reduced.losses.last! - single.losses.last!) <= lossTolerance * single.losses.last! + 0.01,
                "\(precision) \(reduced.losses.last!) against float32 \(single.losses.last!)")
        func argmax(_ logits: [Float]) -> [Int] {
            (0..<64).map { i in (0..<4).max { logits[i * 4 + $0] < logits[i * 4 + $1] }! }
        }
        let agree = zip(argmax(reduced.logits), argmax(single.logits)).filter { $0 == $1 }.count
        #expect(agree >= 60, "\(agree) of 64 predictions agree")
    }
}
