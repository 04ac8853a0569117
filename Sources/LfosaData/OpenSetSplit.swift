/// Which classes are "known" in an open-set experiment.
public enum KnownClasses: Sendable, Equatable {
    /// Explicit class ids.
    case ids([Int])
    /// Class names, resolved against the dataset's class names.
    case names([String])
    /// K = round(ratio × classes); the first K ids (as in the LfOSA paper).
    case mismatchRatio(Double)
}

/// The open-set split used by simulate and demo.
///
/// `initialLabeled` and `unlabeled` index the train pool and are disjoint and together
/// cover every train item; `initialLabeled` holds only known-class items; `testKnown`
/// indexes the test pool's known-class items. All index lists are ascending.
public struct OpenSetSplit: Sendable, Equatable {
    public var known: [Int]
    public var initialLabeled: [Int]
    public var unlabeled: [Int]
    public var testKnown: [Int]
    /// The seed the random choice was made with (log it to repeat a run).
    public var seed: UInt64

    public init(known: [Int], initialLabeled: [Int], unlabeled: [Int], testKnown: [Int], seed: UInt64) {
        self.known = known
        self.initialLabeled = initialLabeled
        self.unlabeled = unlabeled
        self.testKnown = testKnown
        self.seed = seed
    }

    /// Builds the split: resolves the known classes, then draws `initialPercent` % of the
    /// known-class training items (rounded, at least 1 when any exist) as the initial
    /// labeled set with a `SplitMix64` seeded by `seed`; every other train item is
    /// unlabeled. Pure: same inputs, same split.
    ///
    /// Throws when the train pool has items without ground truth, when a class id or
    /// name is unknown, or when the ratio or percentage is out of range.
    public static func make(trainLabels: [Int?], testLabels: [Int?], classNames: [String], known spec: KnownClasses,
                            initialPercent: Double, seed: UInt64) throws(DataError) -> OpenSetSplit {
        if let missing = trainLabels.firstIndex(where: { $0 == nil }) {
            throw DataError(path: "open-set split", problem: "train item \(missing) has no ground-truth label; an open-set split needs a fully labeled dataset")
        }
        guard initialPercent > 0 && initialPercent <= 100 else {
            throw DataError(path: "open-set split", problem: "initial labeled percentage \(initialPercent) is outside (0, 100]")
        }
        let known = try resolve(spec, classNames: classNames)
        let knownSet = Set(known)
        var knownTrain: [Int] = []
        for (i, l) in trainLabels.enumerated() where knownSet.contains(l!) { knownTrain.append(i) }
        var take = Int((Double(knownTrain.count) * initialPercent / 100).rounded())
        if take == 0 && !knownTrain.isEmpty { take = 1 }
        var rng = SplitMix64(seed: seed)
        // Partial Fisher–Yates: the first `take` entries become a uniform random sample.
        for i in 0..<take {
            let j = i + rng.below(knownTrain.count - i)
            knownTrain.swapAt(i, j)
        }
        let labeled = knownTrain.prefix(take).sorted()
        let labeledSet = Set(labeled)
        let unlabeled = (0..<trainLabels.count).filter { !labeledSet.contains($0) }
        let testKnown = testLabels.indices.filter { testLabels[$0].map(knownSet.contains) ?? false }
        return OpenSetSplit(known: known, initialLabeled: labeled, unlabeled: unlabeled, testKnown: testKnown, seed: seed)
    }

    /// Convenience over a loaded dataset (test split optional).
    public static func make(_ dataset: LoadedDataset, known: KnownClasses, initialPercent: Double, seed: UInt64) throws(DataError) -> OpenSetSplit {
        try make(trainLabels: dataset.train.labels, testLabels: dataset.test?.labels ?? [], classNames: dataset.train.classNames,
                 known: known, initialPercent: initialPercent, seed: seed)
    }

    /// The sorted known class ids for `spec`.
    public static func resolve(_ spec: KnownClasses, classNames: [String]) throws(DataError) -> [Int] {
        let classCount = classNames.count
        let ids: [Int]
        switch spec {
        case .ids(let given):
            if let bad = given.first(where: { $0 < 0 || $0 >= classCount }) {
                throw DataError(path: "open-set split", problem: "known class id \(bad) is out of range 0…\(classCount - 1)")
            }
            ids = given
        case .names(let given):
            var out: [Int] = []
            for name in given {
                guard let id = classNames.firstIndex(of: name) ?? classNames.firstIndex(where: { $0.lowercased() == name.lowercased() }) else {
                    throw DataError(path: "open-set split", problem: "unknown class name '\(name)' (classes: \(classNames.joined(separator: ", ")))")
                }
                out.append(id)
            }
            ids = out
        case .mismatchRatio(let ratio):
            guard ratio > 0 && ratio <= 1 else {
                throw DataError(path: "open-set split", problem: "mismatch ratio \(ratio) is outside (0, 1]")
            }
            let k = Int((ratio * Double(classCount)).rounded())
            guard k >= 1 else {
                throw DataError(path: "open-set split", problem: "mismatch ratio \(ratio) of \(classCount) classes leaves no known class")
            }
            ids = Array(0..<k)
        }
        let unique = Array(Set(ids)).sorted()
        if unique.isEmpty { throw DataError(path: "open-set split", problem: "no known classes given") }
        return unique
    }
}
