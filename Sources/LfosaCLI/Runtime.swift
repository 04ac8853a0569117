import ArgumentParser
import Foundation
import LfosaEngine
import LfosaNumerics

/// Process-level set-up the numeric core must not do itself (it takes no environment).
enum Runtime {
    /// Keeps freed training buffers in the heap (no mmap/munmap and page faults per step) and
    /// sets how many threads the numeric core splits work across (OpenBLAS itself runs one).
    static func prepareForNumerics(threads: Int?) {
        AllocatorTuning.keepFreedMemory()
        upgradeBLASKernels()
        if let threads, threads > 0 {
            ParallelConfiguration.workers = threads
        }
    }

    /// OpenBLAS falls back to its generic SSE3 kernels on CPUs it does not recognise; switch to
    /// the AVX2/AVX-512 ones the CPU supports unless `OPENBLAS_CORETYPE` says otherwise. Once.
    private static let blasKernelUpgrade: Void = {
        let chosen = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]
        BLASKernels.upgradeFallbackKernels(environmentCoreType: chosen) { setenv("OPENBLAS_CORETYPE", $0, 1) }
    }()

    static func upgradeBLASKernels() { _ = blasKernelUpgrade }
}

extension LfOSAStrategy.Score {
    /// `--score` values of simulate, label and demo: mav or margin.
    static func parse(_ text: String) throws -> LfOSAStrategy.Score {
        guard let s = LfOSAStrategy.Score(rawValue: text) else {
            throw ValidationError("unknown score '\(text)' (\(allCases.map(\.rawValue).joined(separator: " or ")))")
        }
        return s
    }
}

/// `--flip-scoring` values: off, known, candidates or all.
extension FlipScoring: ExpressibleByArgument {}
extension MixStyle: ExpressibleByArgument {}

/// How the pool is scored: the options `label`, `demo` and `simulate` share (validated by
/// `MatmulPrecision.parse` and `LfOSAStrategy.Score.parse` before anything is read).
struct ScoringOptions: ParsableArguments {
    @Option(help: "Precision of the networks' matrix products: bf16 (bfloat16 operands, float32 sums; the default where the CPU has Intel AMX), fp16 (float32 training, float16 convolutions when scoring; AVX512-FP16), int8 (as fp16, with 8-bit integer products in the convolutions after a ReLU, the first convolution on the pixels and the dense layer; the default where the CPU has AVX512-VNNI but no AMX) or fp32.")
    var precision: String = MatmulPrecision.preferred.rawValue

    @Option(help: "Precision of training's convolution products where --precision trains in float32: fp16 (the forward pass and input gradients with float16 products, each image's gradient scaled by a power of two first; weight gradients, batch norm, dense layers and the optimiser in float32; AVX512-FP16), bf16 (the same convolutions with bfloat16 products summed in float32; AVX512-BF16) or fp32. Default where --precision int8 or fp16 runs as asked (not falling back to fp32): fp16 where the CPU has AVX512-FP16, else bf16 where it has AVX512-BF16, else fp32.")
    var trainPrecision: String?

    /// `--train-precision`, or its default for `matmul` (validated before anything is read).
    func trainingPrecision(for matmul: MatmulPrecision) throws -> TrainingPrecision {
        if let trainPrecision { return try TrainingPrecision.parse(trainPrecision) }
        return TrainingPrecision.defaultFor(matmul)
    }

    @Option(help: "What LfOSA ranks the pool by: margin (each sample's largest known logit minus its unknown logit — the MAV measured from the unknown output; default) or mav (the paper's raw MAV).")
    var score: String = LfOSAStrategy.Score.margin.rawValue

    @Option(help: "Which pool images are also scored mirrored, the two views' outputs averaged: off, known (those the detector predicts as a known class; 1.5–1.8× the scoring time measured), candidates (LfOSA: the top 2b of the plain ranking, both views re-scored — in float16 under int8 scoring where the CPU has AVX512-FP16 — then ranked again; about 4b more images) or all (twice the scoring time). Default: simulate, the profile's (fast: candidates, paper: off); label and demo: off.")
    var flipScoring: FlipScoring?

    @Option(help: "Under --flip-scoring candidates, how many one-pixel diagonal shifts (0-4) also score the candidates, each on the plain and the mirrored image, all views averaged; at the scoring precision, 2 adds about 0.3 s per selection of b = 1500 on two cores. Default: 2 (simulate's paper profile: 0).")
    var candidateShifts: Int?

    /// `--candidate-shifts`, validated: nil when not given.
    func validatedCandidateShifts() throws -> Int? {
        try Self.validatedShiftCount(candidateShifts, option: "--candidate-shifts")
    }

    /// A count of `FlipScoring.candidateShiftViews` given as `option`, validated: nil when not given.
    static func validatedShiftCount(_ count: Int?, option: String) throws -> Int? {
        guard let count else { return nil }
        guard (0...FlipScoring.candidateShiftViews.count).contains(count) else {
            throw ValidationError("\(option) \(count) is outside 0...\(FlipScoring.candidateShiftViews.count)")
        }
        return count
    }
}

extension TrainingPrecision {
    /// What label, demo and simulate train with unless told: under float16 or int8 scoring
    /// (`--precision fp16|int8`, their defaults where the CPU has AVX512-FP16 or VNNI but no AMX)
    /// `TrainingPrecision.preferred` (float16 with AVX512-FP16, else bfloat16 with AVX512-BF16),
    /// float32 otherwise — `--precision fp32` means float32 throughout.
    static func defaultFor(_ matmul: MatmulPrecision) -> TrainingPrecision {
        let scoresInHalf = matmul.effective == .float16Inference || matmul.effective == .int8Inference
        return scoresInHalf ? TrainingPrecision.preferred : .float32
    }

    /// `--train-precision` values: fp32, fp16 or bf16.
    static func parse(_ text: String) throws -> TrainingPrecision {
        guard let p = TrainingPrecision(rawValue: text) else {
            throw ValidationError("unknown training precision '\(text)' (fp32, fp16 or bf16)")
        }
        return p
    }
}

extension MatmulPrecision {
    /// `--precision` values: fp32, bf16, fp16 or int8.
    static func parse(_ text: String) throws -> MatmulPrecision {
        guard let p = MatmulPrecision(rawValue: text) else {
            throw ValidationError("unknown precision '\(text)' (fp32, bf16, fp16 or int8)")
        }
        return p
    }

    /// What label, demo and simulate train and score with unless told: bfloat16 where the CPU
    /// runs it natively (Intel AMX) — the same selection quality measured, in less time —
    /// else float32 training with 8-bit integer scoring convolutions where the CPU has
    /// AVX512-VNNI (1.5–1.7× float16's inference, the same selection quality measured), else
    /// float16 scoring where it has AVX512-FP16 (1.5× float32's inference), else float32.
    /// (`bench engine` defaults to fp32, PyTorch's default, for the comparison.)
    static var preferred: MatmulPrecision {
        bfloat16Available ? .bfloat16 : int8Available ? .int8Inference : float16Available ? .float16Inference : .float32
    }
}
