@testable import LfosaTerminal

/// Test images and view models shared by the screen tests.
enum Fixtures {
    /// A 32×32 image: a blue→red horizontal gradient with a bright disc in the middle.
    static let image = PixelImage(width: 32, height: 32) { x, y in
        let dx = x - 16, dy = y - 16
        if dx * dx + dy * dy < 64 { return RGB(250, 230, 40) }
        return RGB(UInt8(x * 8), 40, UInt8(255 - x * 8))
    }

    static let classes = [ClassTally(name: "airplane", count: 34), ClassTally(name: "automobile", count: 12),
                          ClassTally(name: "bird", count: 7)]

    static func labeling(image: PixelImage? = Fixtures.image) -> LabelingViewModel {
        LabelingViewModel(classes: classes, unknownCount: 20, position: 12, batchSize: 20, round: 3,
                          knownQueried: 8, totalQueried: 12, image: image.map { ImageContent(pixels: $0) },
                          caption: "pool #4711", hint: ModelHint(className: "bird", w: 0.934),
                          training: TrainingProgress(network: "detector", epoch: 3, epochs: 8, loss: 0.4123,
                                                     eta: .seconds(12), fraction: 0.3))
    }

    /// A deterministic panel: knowns around 6, unknowns around 2, with a fitted mixture.
    static func panel(name: String = "airplane", split: Bool = true) -> HistogramPanelModel {
        var mavs: [Float] = [], truth: [Bool] = []
        var state: UInt64 = 42
        func uniform() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24)
        }
        for i in 0..<300 {
            let known = i % 3 == 0
            let noise = (uniform() + uniform() + uniform() - 1.5) * 2
            mavs.append((known ? 6 : 2) + noise)
            truth.append(known)
        }
        return HistogramPanelModel(className: name, mavs: mavs, isKnown: split ? truth : nil,
                                   components: MixtureComponents(weights: [0.67, 0.33], means: [2, 6], variances: [1, 1]),
                                   queried: 12)
    }
}
