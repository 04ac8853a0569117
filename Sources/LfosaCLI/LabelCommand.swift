import ArgumentParser
import Foundation
import LfosaData
import LfosaEngine
import LfosaNumerics
import LfosaStore
import LfosaTerminal

/// `lfosa label SOURCE --classes cat,dog`: annotate a pool in the terminal with LfOSA.
struct LabelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "label",
        abstract: "Label images in the terminal; LfOSA picks which ones to show.",
        discussion: """
            Shows each queried image as coloured block characters. Keys: 1-9 then letters for the \
            classes, u unknown, space skip, backspace undo (any number of steps), g grid, m MAV \
            histograms, ? help, q save and quit. Every verdict is committed to SESSION/labels.sqlite \
            before the next image is shown; running the same command again resumes. Until every \
            class has a few labels the images are random (cold start); after that the model \
            retrains between batches on a background thread.
            """
    )

    @Argument(help: "Image folder, CSV manifest or packed dataset (see lfosa dataset).")
    var source: String?

    @Option(help: "Known classes, comma separated (e.g. cat,dog). Not needed to resume.")
    var classes: String?

    @Option(help: "Session config JSON (source, classes, keys, batch, seed, annotator, session).")
    var config: String?

    @Option(help: "Session directory (default ./<source>.lfosa).")
    var session: String?

    @Option(help: "Images per batch.")
    var batch: Int?

    @Option(help: "Seed of every random choice (cold-start order, networks).")
    var seed: UInt64?

    @Option(help: "Annotator name stored with each verdict (default $USER).")
    var annotator: String?





    @OptionGroup(title: "Training")
    var training: InteractiveTrainingOptions

    @OptionGroup(title: "Scoring")
    var scoring: ScoringOptions


    @Option(name: .customLong("image-size"), help: "Side of the square training images (folders, CSV).")
    var imageSize: Int = 32

    @Option(name: .customLong("cold-start"), help: "Random batches until every class has this many labels.")
    var coldStart: Int = 3

    @Flag(name: .customLong("no-hint"), help: "Do not show the model's guess.")
    var noHint = false

    @Option(name: .customLong("seed-labels"),
            help: "Start with labels: a CSV 'path,label' file or a folder of class subfolders (label 'unknown' allowed); images are matched by content.")
    var seedLabels: String?

    mutating func run() throws {
        // option values first: a bad one stops before any dataset is read or session touched
        let scoreValue = try LfOSAStrategy.Score.parse(scoring.score)
        let matmulPrecision = try MatmulPrecision.parse(scoring.precision)
        let trainingPrecision = try scoring.trainingPrecision(for: matmulPrecision)
        let file = try config.map { try AnnotationConfigFile.load($0) }
        guard let sourceSpec = source ?? file?.source else {
            throw AnnotationSetup.fail("label", "no SOURCE given (argument or \"source\" in --config)")
        }
        let batchSize = batch ?? file?.batch ?? 20
        guard batchSize > 0, training.isValid, imageSize >= 8, coldStart >= 0 else {
            throw AnnotationSetup.fail("label", "--batch, --train-steps and --train-batch must be positive, --image-size at least 8, --pretrain-steps not negative, --unknown-weight at least 1, --mixup between 0 and 1, --temperature positive")
        }
        let directory = session ?? file?.session ?? LabelStore.defaultSessionDirectory(forSource: sourceSpec)
        let classList = classes.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? file?.classes
        let database = (directory as NSString).appendingPathComponent(LabelStore.databaseFileName)
        if classList == nil && !FileManager.default.fileExists(atPath: database) {
            throw AnnotationSetup.fail("label", "--classes is required to start a new session (no session at \(directory))")
        }

        FileHandle.standardError.write(Data("lfosa label: reading \(sourceSpec)...\n".utf8))
        var dataset: LoadedDataset
        do {
            dataset = try DatasetLoader.load(spec: sourceSpec, options: LoadOptions(resize: ResizePolicy(width: imageSize, height: imageSize),
                                                                                     cacheDirectory: DatasetLoadingOptions.defaultCacheDirectory(ProcessInfo.processInfo.environment)))
        } catch {
            throw AnnotationSetup.fail("label", error.description)
        }
        let names = classList ?? []
        let keyCount = classList?.count ?? 0
        let baseKeys = try file?.keyMap(classCount: keyCount, file: config ?? "") ?? KeyMap.standard(classCount: keyCount)
        if classList != nil && baseKeys.unboundClasses(classCount: names.count) > 0 {
            throw AnnotationSetup.fail("label", "\(names.count) classes but only \(baseKeys.classKeys.count) class keys")
        }
        let absoluteSource = AnnotationSession.absolutePath(dataset.path)
        let who = AnnotationSetup.annotatorName(annotator ?? file?.annotator)
        let seedValue = seed ?? file?.seed ?? 1
        let sessionConfig = SessionConfiguration(source: absoluteSource, classNames: names,
                                                 classKeys: baseKeys.classKeys.prefix(names.count).map(\.name),
                                                 strategy: StrategyKind.lfosa.rawValue,
                                                 strategyParameters: ["batch": "\(batchSize)", "train_steps": "\(training.trainSteps)"],
                                                 seed: seedValue, annotator: who)
        let (store, _) = try AnnotationSetup.openStore(directory: directory, configuration: sessionConfig,
                                                       classesGiven: classList != nil, command: "label")
        // Keys of a resumed session come from the store, overridden by the config file.
        var keys = baseKeys
        if classList == nil {
            keys = try file?.keyMap(classCount: store.configuration.classNames.count, file: config ?? "")
                ?? KeyMap.standard(classCount: store.configuration.classNames.count)
            if file?.keys?.classes == nil {
                keys.classKeys = store.configuration.classKeys.compactMap { KeyPress(name: $0) }
            }
        }
        if let seedLabels {
            do {
                let added = try SeedLabelImport.run(path: seedLabels, pool: dataset.train, sourceRoot: absoluteSource,
                                                    store: store, annotator: who)
                FileHandle.standardError.write(Data("lfosa label: \(added) seed labels imported from \(seedLabels)\n".utf8))
            } catch let error as StoreError {
                store.close()
                throw AnnotationSetup.fail("label", error.description)
            }
        }
        Runtime.prepareForNumerics(threads: nil)
        var settings = AnnotationSettings()
        settings.batch = batchSize
        settings.coldStartLabels = coldStart
        settings.seed = store.configuration.seed
        settings.annotator = who
        settings.profile = try training.profile(poolSize: dataset.train.count, scoring: scoring, matmul: matmulPrecision,
                                                training: trainingPrecision)
        settings.score = scoreValue
        settings.trunkCacheDirectory = DatasetLoadingOptions.defaultCacheDirectory(ProcessInfo.processInfo.environment)
        let annotation: AnnotationSession
        do {
            annotation = try AnnotationSession(pool: dataset.train, store: store, settings: settings, showHints: !noHint)
        } catch let error as StoreError {
            store.close()
            throw AnnotationSetup.fail("label", error.description)
        }
        try AnnotationSetup.runOnTerminal(annotation, keyMap: keys, demo: nil, command: "label")
    }
}
