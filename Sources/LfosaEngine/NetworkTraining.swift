import LfosaNumerics

/// Which of the engine's networks a progress report is about.
public enum NetworkRole: String, Sendable, Equatable, Codable {
    case detector
    case classifier
    /// Self-supervised pretraining of the shared trunk (`RotationPretraining`).
    case trunk
}

/// A training progress report (sent every few steps and at the end of each network's run).
public struct TrainingProgress: Sendable, Equatable {
    public var role: NetworkRole
    /// Epochs completed over that network's training set (fractional).
    public var epoch: Double
    public var step: Int
    public var totalSteps: Int
    /// Mean loss of the steps since the previous report.
    public var loss: Float
}

/// Errors the engine reports.
public enum EngineError: Error, Equatable, Sendable {
    /// `retrain` was cancelled; the networks keep their pre-round weights.
    case cancelled
    /// A call came in the wrong phase of the loop.
    case wrongPhase(String)
    /// A verdict names an index that is not in the unlabeled pool, or an invalid class.
    case invalidVerdict(String)
}

/// One supervised training run of a network on samples of an image source.
struct TrainingRun {
    var source: ImageBatchSource
    var samples: [Int]
    var labels: [Int]
    var temperatures: [Float]
    var steps: Int
    var batchSize: Int
    var schedule: LearningRateSchedule
    var momentum: Float
    var weightDecay: Float
    var augmentation: Augmentation
    var normalization: Normalization
    /// Draw every batch evenly over the classes present (each class's samples in a reshuffled
    /// cycle) instead of in one shuffled order over all samples.
    var classBalanced: Bool = false
    /// Under `classBalanced`, the label of the unknown class (nil: none) and how many slots of
    /// each round-robin cycle it takes (a known class takes one).
    var unknownLabel: Int? = nil
    var unknownWeight: Int = 1
    /// Under `classBalanced`, a group per sample (nil: none) by which the unknown class's draws
    /// are shared out evenly (`BalancedSampler`'s `weightedGroups`): the query each unknown came from.
    var unknownGroups: [Int]? = nil
    /// Probability that a step's batch is mixed (mixup, Zhang et al. 2018): each image blended
    /// with another of the batch, λ uniform in [0, 1] per batch, the loss the same blend of the
    /// two images' losses (the tempered cross-entropy's gradient is linear in the target). 0: off.
    var mixup: Float = 0
    /// How a mixed batch is mixed.
    var mixStyle: MixStyle = .blend

    /// Trains `network` in place; returns the mean loss of the last reported window.
    func run(_ network: Network, role: NetworkRole, rng: inout SplitMix64,
             progress: (TrainingProgress) -> Void, isCancelled: () -> Bool) throws -> Float {
        let n = samples.count
        precondition(n > 0 && labels.count == n && temperatures.count == n)
        let batch = min(batchSize, n)
        let stepsPerEpoch = max(1, (n + batch - 1) / batch)
        var order = Array(0..<n)
        seededShuffle(&order, using: &rng)
        var cursor = 0
        var sampler = classBalanced ? BalancedSampler(labels: labels, rng: &rng, weighted: unknownLabel, weight: unknownWeight, weightedGroups: unknownGroups) : nil
        var sgd = SGD(learningRate: 0, momentum: momentum, weightDecay: weightDecay)
        for p in network.parameters { p.momentum = [] }
        var windowLoss: Float = 0, windowSteps = 0, lastLoss: Float = .nan
        let reportEvery = max(1, min(20, steps / 10))
        for step in 0..<steps {
            if isCancelled() { throw EngineError.cancelled }
            var picked = [Int]()
            picked.reserveCapacity(batch)
            if sampler != nil {
                for _ in 0..<batch { picked.append(sampler!.next(rng: &rng)) }
            }
            while picked.count < batch {
                if cursor == n { seededShuffle(&order, using: &rng); cursor = 0 }
                picked.append(order[cursor]); cursor += 1
            }
            var x = makeBatch(from: source, indices: picked.map { samples[$0] }, augmentation: augmentation,
                              normalization: normalization, rng: &rng)
            sgd.learningRate = schedule.rate(step: step, totalSteps: steps, stepsPerEpoch: stepsPerEpoch)
            network.zeroGradients()
            // mixup: drawn only when on, so runs without it keep their random streams
            var partner: [Int]? = nil, lambda: Float = 1
            if mixup > 0, rng.nextUnitFloat() < mixup {
                var perm = Array(0..<picked.count)
                seededShuffle(&perm, using: &rng)
                lambda = rng.nextUnitFloat()
                switch mixStyle {
                case .blend:
                    mixBatch(&x.data, images: picked.count, partner: perm, lambda: lambda)
                case .cutmix:
                    let box = CutMixBox(height: x.shape[2], width: x.shape[3], area: 1 - lambda, rng: &rng)
                    cutMixBatch(&x.data, shape: x.shape, partner: perm, box: box)
                    lambda = box.keptFraction
                }
                partner = perm
            }
            let logits = network.forward(x, mode: .training)
            var (loss, grad) = softmaxCrossEntropy(logits: logits, labels: picked.map { labels[$0] },
                                                   temperatures: picked.map { temperatures[$0] })
            if let partner {
                let (other, otherGrad) = softmaxCrossEntropy(logits: logits, labels: partner.map { labels[picked[$0]] },
                                                             temperatures: partner.map { temperatures[picked[$0]] })
                loss = lambda * loss + (1 - lambda) * other
                for k in grad.data.indices { grad.data[k] = lambda * grad.data[k] + (1 - lambda) * otherGrad.data[k] }
            }
            network.backward(grad)
            sgd.step(network.parameters)
            windowLoss += loss; windowSteps += 1
            if (step + 1) % reportEvery == 0 || step + 1 == steps {
                lastLoss = windowLoss / Float(windowSteps)
                progress(TrainingProgress(role: role, epoch: Double(step + 1) / Double(stepsPerEpoch), step: step + 1,
                                          totalSteps: steps, loss: lastLoss))
                windowLoss = 0; windowSteps = 0
            }
        }
        return lastLoss
    }
}

/// How `TrainingRun.mixup` mixes a batch.
public enum MixStyle: String, Sendable, Equatable, CaseIterable {
    /// mixup (Zhang et al., 2018): every pixel λ·x_i + (1 − λ)·x_j.
    case blend
    /// CutMix (Yun et al., 2019): a box of about 1 − λ of the image area, at a uniform centre
    /// and clipped at the borders, pasted from x_j into x_i; λ becomes the fraction of x_i kept.
    case cutmix
}

/// The rectangle CutMix pastes: rows `y0..<y1`, columns `x0..<x1` of an `height` × `width` image.
struct CutMixBox: Equatable {
    var y0: Int, y1: Int, x0: Int, x1: Int
    var height: Int, width: Int

    /// A box whose sides are √`area` of the image's (`area` in 0…1), centred at a pixel drawn
    /// uniformly from `rng`, clipped at the borders (so its actual area can be smaller).
    init(height: Int, width: Int, area: Float, rng: inout SplitMix64) {
        let r = max(0, min(1, area)).squareRoot()
        let bh = Int((Float(height) * r).rounded()), bw = Int((Float(width) * r).rounded())
        let cy = rng.nextInt(below: height), cx = rng.nextInt(below: width)
        self.init(y0: max(0, cy - bh / 2), y1: min(height, cy - bh / 2 + bh), x0: max(0, cx - bw / 2),
                  x1: min(width, cx - bw / 2 + bw), height: height, width: width)
    }

    init(y0: Int, y1: Int, x0: Int, x1: Int, height: Int, width: Int) {
        self.y0 = y0; self.y1 = max(y0, y1); self.x0 = x0; self.x1 = max(x0, x1)
        self.height = height; self.width = width
    }

    /// The fraction of the image outside the box: the weight of the image's own label.
    var keptFraction: Float { 1 - Float((y1 - y0) * (x1 - x0)) / Float(height * width) }
}

/// Pastes `box` of image `partner[i]` into image `i` of an NCHW batch (`shape` [N, C, H, W]),
/// every channel, all from the unmixed batch.
func cutMixBatch(_ data: inout [Float], shape: [Int], partner: [Int], box: CutMixBox) {
    precondition(shape.count == 4 && partner.count == shape[0] && data.count == shape.reduce(1, *))
    precondition(box.height == shape[2] && box.width == shape[3])
    let channels = shape[1], plane = shape[2] * shape[3], size = channels * plane
    let original = data
    for i in 0..<shape[0] {
        let a = i * size, b = partner[i] * size
        for c in 0..<channels {
            for y in box.y0..<box.y1 {
                let row = c * plane + y * shape[3]
                for x in box.x0..<box.x1 { data[a + row + x] = original[b + row + x] }
            }
        }
    }
}

/// Blends each image `i` of a batch (`images` equal-sized rows of `data`) with image
/// `partner[i]`: λ·x_i + (1 − λ)·x_partner[i], all from the unblended batch.
func mixBatch(_ data: inout [Float], images: Int, partner: [Int], lambda: Float) {
    precondition(images > 0 && partner.count == images && data.count % images == 0)
    let size = data.count / images
    let original = data
    original.withUnsafeBufferPointer { o in
        data.withUnsafeMutableBufferPointer { d in
            for i in 0..<images {
                let a = i * size, b = partner[i] * size
                for k in 0..<size { d[a + k] = lambda * o[a + k] + (1 - lambda) * o[b + k] }
            }
        }
    }
}

/// Class-balanced draws: classes in a reshuffled round-robin cycle, each class's samples in
/// their own reshuffled cycle, so every class fills the same share of the batches however few
/// samples it has — or, for one `weighted` class, `weight` times that share (it takes `weight`
/// slots of each cycle).
struct BalancedSampler {
    /// Slots (one per class present) in the current round-robin order.
    private var order: [Int]
    private var orderCursor = 0
    /// Per slot, that class's sample indices in their current order.
    private var members: [[Int]]
    private var cursors: [Int]

    init(labels: [Int], rng: inout SplitMix64, weighted: Int? = nil, weight: Int = 1, weightedGroups: [Int]? = nil) {
        precondition(weight >= 1)
        precondition(weightedGroups == nil || weightedGroups!.count == labels.count)
        var byClass: [Int: [Int]] = [:]
        for (i, y) in labels.enumerated() { byClass[y, default: []].append(i) }
        let classes = byClass.keys.sorted()
        members = classes.map { byClass[$0]! }
        for c in members.indices { seededShuffle(&members[c], using: &rng) }
        cursors = [Int](repeating: 0, count: members.count)
        order = Array(members.indices)
        if let weighted, let slot = classes.firstIndex(of: weighted) {
            order += [Int](repeating: slot, count: weight - 1)
            if let weightedGroups {
                var byGroup: [Int: [Int]] = [:]
                for i in members[slot] { byGroup[weightedGroups[i], default: []].append(i) }
                if byGroup.count > 1 {   // drawn only then: one group is the plain cycle
                    groupMembers = byGroup.keys.sorted().map { byGroup[$0]! }
                    for g in groupMembers.indices { seededShuffle(&groupMembers[g], using: &rng) }
                    groupCursors = [Int](repeating: 0, count: groupMembers.count)
                    groupOrder = Array(groupMembers.indices)
                    seededShuffle(&groupOrder, using: &rng)
                    groupedSlot = slot
                }
            }
        }
        seededShuffle(&order, using: &rng)
    }

    /// With `weightedGroups`, the weighted class's samples by group: each draw of that class
    /// takes the next group of a reshuffled round-robin cycle, then that group's next sample,
    /// so every group fills the same share of the class's draws however few samples it has.
    private var groupedSlot: Int? = nil
    private var groupMembers: [[Int]] = []
    private var groupCursors: [Int] = []
    private var groupOrder: [Int] = []
    private var groupOrderCursor = 0

    /// The next sample (an index into the labels).
    mutating func next(rng: inout SplitMix64) -> Int {
        if orderCursor == order.count { seededShuffle(&order, using: &rng); orderCursor = 0 }
        let slot = order[orderCursor]
        orderCursor += 1
        if slot == groupedSlot {
            if groupOrderCursor == groupOrder.count { seededShuffle(&groupOrder, using: &rng); groupOrderCursor = 0 }
            let g = groupOrder[groupOrderCursor]
            groupOrderCursor += 1
            if groupCursors[g] == groupMembers[g].count { seededShuffle(&groupMembers[g], using: &rng); groupCursors[g] = 0 }
            defer { groupCursors[g] += 1 }
            return groupMembers[g][groupCursors[g]]
        }
        if cursors[slot] == members[slot].count { seededShuffle(&members[slot], using: &rng); cursors[slot] = 0 }
        defer { cursors[slot] += 1 }
        return members[slot][cursors[slot]]
    }
}

/// Which images a selection scores a second time, left–right mirrored, averaging the two views'
/// outputs (test-time flip averaging).
public enum FlipScoring: String, Sendable, Equatable, CaseIterable, Codable {
    /// Plain images only.
    case off
    /// Only the images the network predicts as a known class on the plain view (its arg-max is
    /// not the unknown output; every image for a network without one): the images a query can
    /// pick from. The rest keep their plain outputs.
    case known
    /// Every image: twice the inference.
    case all
    /// The query's candidates only: LfOSA scores the pool plain, ranks it, scores the top
    /// `candidatesPerQuery`·b of that ranking (those predicted known) again on the plain and the
    /// mirrored image — at `MatmulPrecision.refinement`, float16 under int8 scoring — and ranks
    /// again with their two views' logits averaged: about 4b more images per selection instead
    /// of every predicted-known one. Strategies without such a ranking treat it as `.known`.
    case candidates

    /// Candidates re-scored mirrored per queried image under `.candidates`.
    public static let candidatesPerQuery = 2

    /// The one-pixel diagonal shifts whose views `.candidates` can average in too, in the order
    /// `SelectionContext.candidateShifts` takes them (`TrainingProfile.candidateShifts`).
    public static let candidateShiftViews = [PixelShift(dx: 1, dy: 1), PixelShift(dx: -1, dy: -1),
                                             PixelShift(dx: 1, dy: -1), PixelShift(dx: -1, dy: 1)]
}

/// Batched inference over pool indices.
enum PoolInference {
    /// Logits (`[n × classes]`, row-major) and optionally penultimate features of `indices`.
    /// `flip` says which rows are also scored left–right mirrored, their two views' logits (and
    /// features) averaged: none, all, or (`.known`) those whose plain arg-max is not
    /// `unknownColumn` (all rows when it is nil). `shift` scores every view shifted so
    /// (`makeBatch`'s `shift`).
    static func run(_ network: Network, source: ImageBatchSource, indices: [Int], batch: Int,
                    normalization: Normalization, withFeatures: Bool = false,
                    flip: FlipScoring = .off, unknownColumn: Int? = nil,
                    shift: PixelShift = .zero) -> (logits: [Float], features: [Float], featureWidth: Int) {
        var logits = [Float](), features = [Float]()
        logits.reserveCapacity(indices.count * network.classes)
        var width = 0
        var rng = SplitMix64(seed: 0)   // unused: no augmentation
        let c = network.classes
        var start = 0
        while start < indices.count {
            let end = min(indices.count, start + batch)
            let (l, f) = forward(network, makeBatch(from: source, indices: Array(indices[start..<end]), augmentation: .none,
                                                    normalization: normalization, rng: &rng, shift: shift), withFeatures: withFeatures)
            logits += l
            if withFeatures {
                features += f
                width = f.count / (end - start)
            }
            start = end
        }
        // Second pass: the rows to average (all, or those predicted known on the plain view),
        // mirrored, in full batches.
        let rows: [Int]
        switch flip {
        case .off: return (logits, features, width)
        case .all: rows = Array(indices.indices)
        case .known, .candidates:
            rows = indices.indices.filter { row in unknownColumn.map { argmax(logits, row: row, columns: c) != $0 } ?? true }
        }
        averageMirrored(network, source: source, indices: indices, rows: rows, batch: batch, normalization: normalization,
                        logits: &logits, features: &features, featureWidth: width, shift: shift)
        return (logits, features, width)
    }

    /// Scores `rows` (positions into `indices`) left–right mirrored, in full batches, and
    /// averages each row's logits (and, with `featureWidth` > 0, features) with those; `shift`
    /// as in `run`.
    static func averageMirrored(_ network: Network, source: ImageBatchSource, indices: [Int], rows: [Int], batch: Int,
                                normalization: Normalization, logits: inout [Float], features: inout [Float], featureWidth width: Int,
                                shift: PixelShift = .zero) {
        var rng = SplitMix64(seed: 0)   // unused: no augmentation
        let c = network.classes
        var start = 0
        while start < rows.count {
            let end = min(rows.count, start + batch)
            let chunkRows = rows[start..<end]
            let (lm, fm) = forward(network, makeBatch(from: source, indices: chunkRows.map { indices[$0] }, augmentation: .none,
                                                      normalization: normalization, rng: &rng, mirrored: true, shift: shift),
                                   withFeatures: width > 0)
            for (i, row) in chunkRows.enumerated() {
                for j in 0..<c { logits[row * c + j] = 0.5 * (logits[row * c + j] + lm[i * c + j]) }
                for j in 0..<width { features[row * width + j] = 0.5 * (features[row * width + j] + fm[i * width + j]) }
            }
            start = end
        }
    }

    /// `pairs` (`[indices.count × classes]`, each row the average of an image's plain and
    /// mirrored views) averaged with the same pair of views of every image shifted by each of
    /// `shifts`, every pair weighing the same.
    static func averageShiftedViews(_ network: Network, source: ImageBatchSource, indices: [Int], batch: Int,
                                    normalization: Normalization, shifts: ArraySlice<PixelShift>, pairs: [Float]) -> [Float] {
        guard !shifts.isEmpty, !indices.isEmpty else { return pairs }
        var sum = pairs
        for shift in shifts {
            let l = run(network, source: source, indices: indices, batch: batch, normalization: normalization,
                        flip: .all, shift: shift).logits
            for i in 0..<sum.count { sum[i] += l[i] }
        }
        let views = Float(1 + shifts.count)   // view pairs: plain + mirrored, then each shift's pair
        return sum.map { $0 / views }
    }

    private static func forward(_ network: Network, _ x: Tensor, withFeatures: Bool) -> (logits: [Float], features: [Float]) {
        if withFeatures {
            let (l, f) = network.forwardWithFeatures(x, mode: .inference)
            return (l.data, f.data)
        }
        return (network.forward(x, mode: .inference).data, [])
    }
}

extension SelectionContext {
    /// The networks' outputs on `indices` of the source (the pool by default), in inference
    /// batches, flip-averaged as `flipScoring` says; `unknownColumn` is the network's unknown
    /// output (nil: none), which decides the rows `.known` averages.
    func inference(_ network: Network, indices: [Int]? = nil, withFeatures: Bool = false, unknownColumn: Int? = nil,
                   flip: FlipScoring? = nil) -> (logits: [Float], features: [Float], featureWidth: Int) {
        PoolInference.run(network, source: source, indices: indices ?? pool, batch: inferenceBatch,
                          normalization: normalization, withFeatures: withFeatures, flip: flip ?? flipScoring, unknownColumn: unknownColumn)
    }

    /// Re-scores pool positions `rows` at the network's `MatmulPrecision.refinement` (float16
    /// for int8 scoring) on the plain and the mirrored images, and sets their logits to the
    /// two views' average. Where the refinement is the network's own precision, `logits`
    /// already hold the plain view's scores at it, so only the mirrored view is scored.
    /// With `candidateShifts` n > 0, the first n of `FlipScoring.candidateShiftViews` add a
    /// plain and a mirrored view each, scored at the network's own precision (int8 where it
    /// scores the pool so), and every view weighs the same in the average.
    func rescoreBothViews(_ network: Network, rows: [Int], logits: inout [Float]) {
        let saved = network.matmulPrecision
        if saved.refinement != saved {
            network.matmulPrecision = saved.refinement
            let c = network.classes
            let plain = PoolInference.run(network, source: source, indices: rows.map { pool[$0] }, batch: inferenceBatch,
                                          normalization: normalization).logits
            for (i, row) in rows.enumerated() { for j in 0..<c { logits[row * c + j] = plain[i * c + j] } }
        }
        var none = [Float]()
        PoolInference.averageMirrored(network, source: source, indices: pool, rows: rows, batch: inferenceBatch,
                                      normalization: normalization, logits: &logits, features: &none, featureWidth: 0)
        if network.matmulPrecision != saved { network.matmulPrecision = saved }
        let shifts = FlipScoring.candidateShiftViews.prefix(max(0, candidateShifts))
        guard !shifts.isEmpty, !rows.isEmpty else { return }
        let c = network.classes
        var pairs = [Float](repeating: 0, count: rows.count * c)
        for (i, row) in rows.enumerated() { for j in 0..<c { pairs[i * c + j] = logits[row * c + j] } }
        let averaged = PoolInference.averageShiftedViews(network, source: source, indices: rows.map { pool[$0] }, batch: inferenceBatch,
                                                         normalization: normalization, shifts: shifts, pairs: pairs)
        for (i, row) in rows.enumerated() { for j in 0..<c { logits[row * c + j] = averaged[i * c + j] } }
    }
}
