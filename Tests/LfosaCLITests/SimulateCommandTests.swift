import Foundation
import Testing
import LfosaData
import LfosaEngine
import LfosaNumerics

/// `lfosa simulate` as a user runs it on an image folder: the self-supervised trunk is trained
/// on the first run and loaded from the cache on the second, and bad options are one-line errors.
@Suite struct SimulateCommandTests {
    @Test func trunkIsPretrainedOnceThenCached() throws {
        let root = NSTemporaryDirectory() + "lfosa-simulate-cli-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        for (c, folder) in ["a", "b", "c", "d"].enumerated() {
            try FileManager.default.createDirectory(atPath: "\(root)/images/\(folder)", withIntermediateDirectories: true)
            for i in 0..<12 {
                // class c: a bright quadrant c, plus a per-image pattern
                let pixels = (0..<(8 * 8 * 3)).map { k -> UInt8 in
                    let p = k / 3, y = p / 8, x = p % 8
                    let lit = (y / 4) * 2 + (x / 4) == c
                    return UInt8(((lit ? 180 : 40) + (k * 13 + i * 29) % 50) & 0xFF)
                }
                try PNGCodec.write(RasterImage(width: 8, height: 8, channels: 3, pixels: pixels),
                                   to: "\(root)/images/\(folder)/\(i).png")
            }
        }
        let env = ["XDG_CACHE_HOME": root + "/cache"]
        let args = ["simulate", root + "/images", "--known", "0,1", "--init-percent", "30", "--batch", "4", "--rounds", "1",
                    "--strategies", "lfosa", "--pretrain-steps", "3", "--precision", "fp32", "--min-steps", "2", "--max-steps", "2", "--final-fit-steps", "3",
                    "--quiet", "--out", root + "/out"]
        let first = try runLfosa(args, timeout: 120, environment: env)
        #expect(first.status == 0, "stderr: \(first.stderr)")
        #expect(first.stdout.contains("self-supervised trunk: 3 rotation steps on 48 images, trained in"))
        let trunks = try FileManager.default.contentsOfDirectory(atPath: root + "/cache/lfosa/trunks")
        #expect(trunks.count == 1)
        let settings = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/out/results.json")))
        let recorded = ((settings as? [String: Any])?["settings"] as? [String: String]) ?? [:]
        #expect(recorded["pretrain_steps"] == "3" && recorded["pretrain_cached"] == "false")

        let second = try runLfosa(args, timeout: 120, environment: env)
        #expect(second.status == 0, "stderr: \(second.stderr)")
        #expect(second.stdout.contains("loaded from the cache"))
        // same numbers (the line's wall-clock part aside)
        func outcome(_ out: String) -> [Substring] {
            out.split(separator: "\n").filter { $0.contains("mean precision") }
                .map { $0.split(separator: "train+select", maxSplits: 1)[0] }
        }
        #expect(!outcome(first.stdout).isEmpty)
        #expect(outcome(first.stdout) == outcome(second.stdout))

        // bfloat16 products: a trunk of its own in the cache (where the CPU runs them)
        let bf16 = try runLfosa(args.map { $0 == root + "/out" ? root + "/out-bf16" : ($0 == "fp32" ? "bf16" : $0) },
                                timeout: 120, environment: env)
        #expect(bf16.status == 0, "stderr: \(bf16.stderr)")
        let bf16Settings = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/out-bf16/results.json")))
        let native = MatmulPrecision.bfloat16Available
        #expect(((bf16Settings as? [String: Any])?["settings"] as? [String: String])?["matmul_precision"] == (native ? "bf16" : "fp32"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/cache/lfosa/trunks").count == (native ? 2 : 1))
        #expect(recorded["matmul_precision"] == "fp32")   // args ask for fp32
        // float16 and int8 inference: training convolutions in float16 where the CPU has
        // AVX512-FP16, else in bfloat16 where it has AVX512-BF16 (their default where the scoring
        // precision runs here; a scoring precision that falls back to float32 trains in float32),
        // each training precision with a trunk of its own in the cache; the precisions recorded
        // are what ran here
        let halfTrains = TrainingPrecision.preferred.rawValue
        #expect(native ? halfTrains == "fp32" : halfTrains == (MatmulPrecision.float16Available ? "fp16"
                                                                : TrainingPrecision.bfloat16Available ? "bf16" : "fp32"))
        var trunkKinds: Set<String> = native ? ["fp32", "amx"] : ["fp32"]
        for (precision, ran) in [("fp16", MatmulPrecision.float16Inference.effective.rawValue),
                                 ("int8", MatmulPrecision.int8Inference.effective.rawValue)] {
            let out = root + "/out-" + precision
            let run = try runLfosa(args.map { $0 == root + "/out" ? out : ($0 == "fp32" ? precision : $0) }, timeout: 120,
                                   environment: env)
            #expect(run.status == 0, "stderr: \(run.stderr)")
            let trains = ran == "fp32" ? "fp32" : halfTrains
            #expect(run.stdout.contains("loaded from the cache") == trunkKinds.contains(trains), "\(precision) trains \(trains)")
            trunkKinds.insert(trains)
            let settings = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/results.json")))
            #expect(((settings as? [String: Any])?["settings"] as? [String: String])?["matmul_precision"] == ran)
            #expect(((settings as? [String: Any])?["settings"] as? [String: String])?["train_precision"] == trains)
            #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/cache/lfosa/trunks").count == trunkKinds.count)
        }
        #expect(MatmulPrecision.int8Inference.effective == (MatmulPrecision.int8Available ? .int8Inference
                                                             : MatmulPrecision.float16Inference.effective))
        // the other training precisions: under --precision fp32 training stays float32 unless
        // asked; asked for, each is recorded as what ran and shares its trunk with the runs above
        #expect(recorded["train_precision"] == "fp32")
        for (asked, available) in [("fp16", MatmulPrecision.float16Available), ("bf16", TrainingPrecision.bfloat16Available)] {
            let out = root + "/out-t" + asked
            let run = try runLfosa(args.map { $0 == root + "/out" ? out : $0 } + ["--train-precision", asked],
                                   timeout: 120, environment: env)
            #expect(run.status == 0, "stderr: \(run.stderr)")
            let settings = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/results.json")))
            let ranHere = available ? asked : "fp32"
            #expect(((settings as? [String: Any])?["settings"] as? [String: String])?["train_precision"] == ranHere)
            #expect(run.stdout.contains("loaded from the cache") == trunkKinds.contains(ranHere), "asked \(asked)")
            trunkKinds.insert(ranHere)
            #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/cache/lfosa/trunks").count == trunkKinds.count)
        }
        let badTraining = try runLfosa(["simulate", root + "/images", "--train-precision", "fp8"], timeout: 60, environment: env)
        #expect(badTraining.status != 0)
        #expect(badTraining.stderr.split(separator: "\n").first == "Error: unknown training precision 'fp8' (fp32, fp16 or bf16)")

        let badShifts = try runLfosa(["simulate", root + "/images", "--candidate-shifts", "5"], timeout: 60, environment: env)
        #expect(badShifts.status != 0)
        #expect(badShifts.stderr.split(separator: "\n").first == "Error: --candidate-shifts 5 is outside 0...4")
        let badViews = try runLfosa(["simulate", root + "/images", "--classification-shifts", "7"], timeout: 60, environment: env)
        #expect(badViews.status != 0)
        #expect(badViews.stderr.split(separator: "\n").first == "Error: --classification-shifts 7 is outside 0...4")

        let badPrecision = try runLfosa(["simulate", root + "/images", "--precision", "fp8"], timeout: 60, environment: env)
        #expect(badPrecision.status != 0)
        #expect(badPrecision.stderr.split(separator: "\n").first == "Error: unknown precision 'fp8' (fp32, bf16, fp16 or int8)")

        // profile overrides reach the run and are recorded
        let custom = try runLfosa(Array(args.dropLast()) + [root + "/out-custom", "--architecture", "compact-cnn", "--no-warm-start",
                                                           "--epochs-per-round", "3", "--first-round-epochs", "5",
                                                           "--pretrain-steps", "0", "--dump-rankings", root + "/rankings", "--flip-scoring", "all",
                                                           "--no-flip-classification", "--classification-shifts", "3", "--score", "mav",
                                                           "--rotation", "10", "--cutout", "4", "--weight-decay", "0.0002", "--unknown-weight", "3", "--mixup", "0.25", "--final-fit-mixup", "0.75",
                                                           "--mix-style", "cutmix", "--unknowns-by-query", "--pool-unknowns", "--temperature", "0.3",
                                                           "--final-fit-lr", "0.07", "--lr", "0.06", "--warm-lr", "0.04"],
                                  timeout: 300, environment: env)
        #expect(custom.status == 0, "stderr: \(custom.stderr)")
        let customSettings = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/out-custom/results.json")))
        let customRecorded = ((customSettings as? [String: Any])?["settings"] as? [String: String]) ?? [:]
        #expect(customRecorded["architecture"] == "compact-cnn" && customRecorded["warm_start"] == "false")
        #expect(customRecorded["epochs_per_round"] == "3" && customRecorded["first_round_epochs"] == "5")
        #expect(recorded["architecture"] == "reference-cnn" && recorded["warm_start"] == "true")
        #expect(customRecorded["flip_scoring"] == "all" && recorded["flip_scoring"] == "candidates")
        #expect(customRecorded["candidate_shifts"] == "0" && recorded["candidate_shifts"] == "2")
        #expect(customRecorded["flip_classification"] == "false" && recorded["flip_classification"] == "true")
        // the classification shifts ride on flip classification: none in use without it
        #expect(customRecorded["classification_shifts"] == "0" && recorded["classification_shifts"] == "2")
        #expect(customRecorded["score"] == "mav" && recorded["score"] == "margin")
        #expect(customRecorded["rotation_degrees"] == "10.0" && recorded["rotation_degrees"] == "0.0")
        #expect(customRecorded["cutout"] == "4" && recorded["cutout"] == "0")
        #expect(customRecorded["unknown_weight"] == "3" && recorded["unknown_weight"] == "1")
        #expect(customRecorded["mixup"] == "0.25" && recorded["mixup"] == "0.5")
        #expect(customRecorded["final_fit_mixup"] == "0.75" && recorded["final_fit_mixup"] == "0.0")
        #expect(customRecorded["mix_style"] == "cutmix" && recorded["mix_style"] == "blend")
        #expect(customRecorded["unknowns_by_query"] == "true" && recorded["unknowns_by_query"] == "false")
        #expect(customRecorded["pool_unknowns"] == "true" && recorded["pool_unknowns"] == "false")
        #expect(customRecorded["temperature"] == "0.3" && recorded["temperature"] == "\(TrainingProfile.fast.detectorTemperature)")
        #expect(customRecorded["weight_decay"] == "0.0002" && recorded["weight_decay"] == "0.0005")
        #expect(recorded["final_fit_steps"] == "3")
        #expect(recorded["final_fit_schedule"] == "oneCycle(max: 0.1, warmupFraction: 0.25)")
        #expect(customRecorded["final_fit_schedule"] == "oneCycle(max: 0.07, warmupFraction: 0.25)")
        #expect(recorded["schedule"] == "oneCycle(max: 0.05, warmupFraction: 0.25)")
        #expect(customRecorded["schedule"] == "oneCycle(max: 0.06, warmupFraction: 0.25)")
        #expect(recorded["warm_schedule"] == "oneCycle(max: 0.03, warmupFraction: 0.15)")
        #expect(customRecorded["warm_schedule"] == "oneCycle(max: 0.04, warmupFraction: 0.15)")
        // the ranking of the whole pool before the one query: every unlabeled image once, best first
        let ranking = try String(contentsOfFile: root + "/rankings/ranking-lfosa-s1-r0.csv", encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(ranking.first?.joined(separator: ",") == "rank,index,class,known,predicted,score,mav")
        let rankedRows = ranking.dropFirst()
        #expect(rankedRows.count > 4 && rankedRows.count < 48)
        #expect(Set(rankedRows.map { $0[1] }).count == rankedRows.count)
        #expect(rankedRows.enumerated().allSatisfy { Int($1[0]) == $0 && ($1[3] == "1") == (Int($1[2])! < 2) })
        let badArchitecture = try runLfosa(["simulate", root + "/images", "--architecture", "vgg"], timeout: 60, environment: env)
        #expect(badArchitecture.stderr.split(separator: "\n").first?.hasPrefix("Error: unknown architecture 'vgg' (reference-cnn") == true)
        let badScore = try runLfosa(["simulate", root + "/images", "--score", "maximum"], timeout: 60, environment: env)
        #expect(badScore.stderr.split(separator: "\n").first == "Error: unknown score 'maximum' (mav or margin)")
        let badFlip = try runLfosa(["simulate", root + "/images", "--flip-scoring", "both"], timeout: 60, environment: env)
        #expect(badFlip.status != 0)
        #expect(badFlip.stderr.split(separator: "\n").first?.hasPrefix("Error: The value 'both' is invalid for '--flip-scoring") == true)
        let badEpochs = try runLfosa(["simulate", root + "/images", "--epochs-per-round", "0"], timeout: 60, environment: env)
        #expect(badEpochs.stderr.split(separator: "\n").first == "Error: --epochs-per-round must be at least 1, got 0")

        for (option, value, message) in [("--rotation", "200", "--rotation must be between 0 and 180 degrees, got 200.0"),
                                         ("--cutout", "-3", "--cutout must be at least 0, got -3"),
                                         ("--unknown-weight", "0", "--unknown-weight must be at least 1, got 0"),
                                         ("--mixup", "1.5", "--mixup must be between 0 and 1, got 1.5"),
                                         ("--final-fit-mixup", "nan", "--final-fit-mixup must be between 0 and 1, got nan"),
                                         ("--temperature", "0", "--temperature must be positive, got 0.0"),
                                         ("--weight-decay", "nan", "--weight-decay must be a finite number at least 0, got nan"),
                                         ("--final-fit-steps", "-1", "--final-fit-steps must be at least 0, got -1"),
                                         ("--final-fit-lr", "0", "--final-fit-lr must be a finite number above 0, got 0.0"),
                                         ("--lr", "inf", "--lr must be a finite number above 0, got inf"),
                                         ("--warm-lr", "-0.1", "--warm-lr must be a finite number above 0, got -0.1")] {
            let r = try runLfosa(["simulate", root + "/images", option + "=" + value], timeout: 60, environment: env)
            #expect(r.status != 0 && r.stderr.split(separator: "\n").first.map(String.init) == "Error: " + message)
        }
        let bad = try runLfosa(["simulate", root + "/images", "--pretrain-steps=-1"], timeout: 60, environment: env)
        #expect(bad.status != 0)
        // one error line (argument-parser adds its usage hint below it); nothing was loaded or trained
        #expect(bad.stderr.split(separator: "\n").first == "Error: --pretrain-steps must be at least 0, got -1")

        // the demo on the same folder, headless, with flip-averaged and shifted candidates and balanced batches:
        // it runs its batches and says the options reached the session's profile
        let demo = try runLfosa(["demo", root + "/images", "--known", "0,1", "--pool", "0", "--batch", "4", "--init-percent", "30",
                                 "--train-steps", "2", "--train-batch", "8", "--pretrain-steps", "0", "--precision", "fp32",
                                 "--session", root + "/demo-session", "--headless-rounds", "2", "--flip-scoring", "candidates",
                                 "--candidate-shifts", "3",
                                 "--score", "mav", "--balanced", "--unknown-weight", "2", "--mixup", "0.5", "--temperature", "0.3"],
                                timeout: 120, environment: env)
        #expect(demo.status == 0, "stderr: \(demo.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(demo.stdout.utf8)) as? [String: Any]
        #expect(report?["flip_scoring"] as? String == "candidates" && report?["candidate_shifts"] as? Int == 3)
        #expect(report?["score"] as? String == "mav")
        #expect(report?["class_balanced"] as? Bool == true && report?["unknown_weight"] as? Int == 2)
        #expect(report?["mixup"] as? Double == 0.5 && report?["temperature"] as? Double == 0.3)
        #expect(report?["rounds"] as? Int == 2)
        let badDemo = try runLfosa(["demo", root + "/images", "--known", "0,1", "--unknown-weight", "0"], timeout: 60, environment: env)
        #expect(badDemo.status != 0)
        #expect(badDemo.stderr.split(separator: "\n").first?.hasSuffix("--unknown-weight at least 1, --mixup between 0 and 1, --temperature positive") == true, "\(badDemo.stderr)")
    }
}
