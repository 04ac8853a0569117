/// One known class as the side panel lists it.
public struct ClassTally: Hashable, Sendable {
    public var name: String
    /// Items labeled with this class so far (all batches).
    public var count: Int

    public init(name: String, count: Int) {
        self.name = name
        self.count = count
    }
}

/// The model's opinion of the current item, shown as an optional hint.
public struct ModelHint: Hashable, Sendable {
    public var className: String
    /// The posterior of the known-like mixture component (the LfOSA ranking score).
    public var w: Double

    public init(className: String, w: Double) {
        self.className = className
        self.w = w
    }
}

/// Background training as the progress line shows it: "detector epoch 3/8 loss 0.41 ETA 12s".
public struct TrainingProgress: Hashable, Sendable {
    /// Which network trains ("detector", "classifier").
    public var network: String
    public var epoch: Int
    public var epochs: Int
    public var loss: Double?
    public var eta: Duration?
    /// Overall progress of this training run, 0…1 (drives the bar).
    public var fraction: Double

    public init(network: String, epoch: Int, epochs: Int, loss: Double? = nil, eta: Duration? = nil, fraction: Double) {
        self.network = network
        self.epoch = epoch
        self.epochs = epochs
        self.loss = loss
        self.eta = eta
        self.fraction = fraction
    }

    /// The one-line summary, e.g. "detector epoch 3/8 loss 0.41 ETA 12s".
    public var summary: String {
        var s = "\(network) epoch \(epoch)/\(epochs)"
        if let loss { s += " loss " + TextLayout.fixed2(loss) }
        if let eta { s += " ETA " + TextLayout.duration(eta) }
        return s
    }
}

/// An image for a screen: the pixels, and optionally the cells already prepared for it.
///
/// `prepared` is used only when its size equals what the screen would produce for the
/// current layout and depth (see `LabelingScreen.prepareImage`); otherwise the screen
/// renders from `pixels`, so a stale prefetch after a resize is harmless.
public struct ImageContent: Hashable, Sendable {
    public var pixels: PixelImage
    public var prepared: CellGrid?

    public init(pixels: PixelImage, prepared: CellGrid? = nil) {
        self.pixels = pixels
        self.prepared = prepared
    }
}

/// Everything the labeling screen shows.
public struct LabelingViewModel: Hashable, Sendable {
    public var classes: [ClassTally]
    public var unknownCount: Int
    /// 1-based position of the shown item in the batch, and the batch size.
    public var position: Int
    public var batchSize: Int
    public var round: Int
    /// Running selection precision: known verdicts / all verdicts of queried items.
    public var knownQueried: Int
    public var totalQueried: Int
    public var image: ImageContent?
    /// An identifier of the item (file name, pool index).
    public var caption: String?
    /// The verdict already given to this item (after undo or navigation), highlighted.
    public var currentVerdict: Verdict?
    public var hint: ModelHint?
    public var training: TrainingProgress?
    /// Shown while a class has too few labels and the query is diverse/random.
    public var coldStartNotice: String?
    /// A transient status message ("undo: cat", "saved").
    public var message: String?
    public var demo: DemoPanelModel?

    public init(classes: [ClassTally], unknownCount: Int = 0, position: Int = 1, batchSize: Int = 0, round: Int = 1,
                knownQueried: Int = 0, totalQueried: Int = 0, image: ImageContent? = nil, caption: String? = nil,
                currentVerdict: Verdict? = nil, hint: ModelHint? = nil, training: TrainingProgress? = nil,
                coldStartNotice: String? = nil, message: String? = nil, demo: DemoPanelModel? = nil) {
        self.classes = classes
        self.unknownCount = unknownCount
        self.position = position
        self.batchSize = batchSize
        self.round = round
        self.knownQueried = knownQueried
        self.totalQueried = totalQueried
        self.image = image
        self.caption = caption
        self.currentVerdict = currentVerdict
        self.hint = hint
        self.training = training
        self.coldStartNotice = coldStartNotice
        self.message = message
        self.demo = demo
    }

    /// knownQueried / totalQueried, nil before the first verdict.
    public var precision: Double? { totalQueried > 0 ? Double(knownQueried) / Double(totalQueried) : nil }
}
