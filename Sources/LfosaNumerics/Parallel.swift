import Dispatch

/// Splits `0..<count` into contiguous chunks and runs `body(lo, hi)` on them in parallel.
///
/// Runs inline when the work is small (`count < minimumPerWorker * 2`) or one core is online.
/// `body` must only write memory that belongs to its own range.
@inline(__always)
func parallelChunks(_ count: Int, minimumPerWorker: Int = 1, _ body: (Int, Int) -> Void) {
    let workers = min(ParallelConfiguration.workers, count / max(1, minimumPerWorker))
    if workers <= 1 {
        if count > 0 { body(0, count) }
        return
    }
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let lo = count * w / workers
            let hi = count * (w + 1) / workers
            if lo < hi { body(lo, hi) }
        }
    }
}

/// How many threads the numeric core splits per-sample work across (BLAS has its own pool).
/// `parallelChunks` whose chunks each report whether something happened (a kernel's overflow):
/// true when any chunk did.
func parallelChunksReportingAny(_ count: Int, _ body: (Int, Int) -> Bool) -> Bool {
    let flags = UnsafeMutableBufferPointer<Bool>.allocate(capacity: max(1, count))
    defer { flags.deallocate() }
    flags.initialize(repeating: false)
    let fp = flags.baseAddress!
    parallelChunks(count) { lo, hi in fp[lo] = body(lo, hi) }   // chunks start at distinct lo
    return flags.contains(true)
}

public enum ParallelConfiguration {
    nonisolated(unsafe) public static var workers: Int = onlineProcessorCount()
}

import CBLAS
import LfosaKernels

/// The arithmetic of a layer's matrix products.
///
/// `bfloat16` rounds both operands of every product to bfloat16 (8-bit mantissa) and sums in
/// float32 on Intel AMX tiles — the mixed precision GPUs train with, 2–3× the float32 sgemm
/// rate on this network's shapes. Weights, gradients, optimiser state and everything outside
/// the products stay float32. Where the CPU has no AMX-BF16 it falls back to float32.
public enum MatmulPrecision: String, Sendable, CaseIterable, Codable {
    case float32 = "fp32"
    case bfloat16 = "bf16"
    /// Training in float32; inference-mode "same" convolutions with float16 products
    /// (AVX512-FP16, twice float32's lanes per instruction; `lfosa_f16_conv_same_forward`),
    /// everything else in float32. For CPUs with AVX512-FP16 but no AMX.
    case float16Inference = "fp16"
    /// Training in float32; at inference, the "same" convolutions fused with batch norm + 2×2
    /// max-pool whose input is non-negative run 8-bit integer products (AVX512-VNNI, four times
    /// float32's products per instruction; each image quantised by its own maximum,
    /// `lfosa_i8_conv_same_pool_forward`), and so do the first convolution when the network
    /// knows how its input encodes 8-bit pixels (`Network.pixelEncoding`: the pixels themselves
    /// are the bytes, `lfosa_i8_conv_pixels_pool_forward`) and the dense layers of at least 32
    /// outputs whose input is non-negative (`lfosa_i8_linear_forward`); the other convolutions
    /// run as `.float16Inference`, the other dense layers in float32. For CPUs with
    /// AVX512-VNNI but no AMX.
    case int8Inference = "int8"

    /// Whether this machine runs `bfloat16` products natively (Intel AMX-BF16).
    public static var bfloat16Available: Bool { lfosa_amx_bf16_available() != 0 }

    /// Whether this machine runs float16 arithmetic (AVX512-FP16).
    public static var float16Available: Bool { lfosa_avx512_fp16_available() != 0 }

    /// Whether this machine runs 8-bit integer dot products (AVX512-VNNI).
    public static var int8Available: Bool { lfosa_avx512_vnni_available() != 0 }

    /// The precision of training products under `self` (float32 under the inference-only ones).
    public var training: MatmulPrecision { self == .float16Inference || self == .int8Inference ? .float32 : self }

    /// The precision a selection re-scores its few top candidates at: float16 under
    /// `.int8Inference` where the CPU runs float16 (AVX512-FP16), whose 8-bit scores only have
    /// to find them; itself otherwise. Without AVX512-FP16 the float16 products would run in
    /// float32 at a quarter of int8's images per second (AMD Zen 4: 6,500 against 26,000), about
    /// 0.9 s of a selection of b = 1500 — v8 measured unrefined int8 candidates at the refined
    /// precision (0.847 / 0.851 against 0.850 / 0.850), so they stay int8 there.
    public var refinement: MatmulPrecision {
        self == .int8Inference && Self.float16Available ? .float16Inference : self
    }

    /// Whether inference convolutions (those `.int8Inference` leaves) run in float16 here.
    public var float16Convolutions: Bool {
        (self == .float16Inference || self == .int8Inference) && Self.float16Available
    }

    /// The precision products actually run at on this machine when `self` is asked for.
    public var effective: MatmulPrecision {
        switch self {
        case .bfloat16: return Self.bfloat16Available ? self : .float32
        case .float16Inference: return Self.float16Available ? self : .float32
        case .int8Inference: return Self.int8Available ? self : MatmulPrecision.float16Inference.effective
        case .float32: return self
        }
    }
}

/// Layers whose work is matrix products and that can run them at another precision.
public protocol MatmulPrecisionSettable: AnyObject {
    var matmulPrecision: MatmulPrecision { get set }
}

/// Precision of training's convolution products where they would otherwise run in float32
/// (`MatmulPrecision.training == .float32`; under bfloat16 the bfloat16 kernels train).
public enum TrainingPrecision: String, Sendable, CaseIterable, Codable {
    case float32 = "fp32"
    /// The "same" convolutions' forward pass and input gradient with float16 products
    /// (AVX512-FP16, `lfosa_f16_conv_same_forward_scaled`): inputs and weights rounded to
    /// float16, each image's gradient scaled by a power of two first so its largest value sits
    /// near 2^10, products summed in float16 over at most 48 terms and those sums in float32. The
    /// weight gradients, batch norm, dense layers and the optimiser stay float32 (the weights
    /// themselves are float32 and rounded for each product pass). A layer whose float16 result
    /// is not finite is redone in float32.
    case float16 = "fp16"
    /// The same convolutions with bfloat16 products summed in float32 (AVX512-BF16's
    /// vdpbf16ps, `lfosa_dpbf16_conv_same_forward`): inputs and weights rounded to bfloat16
    /// (8 significant bits, float32's exponent range, so no scaling), sums in float32. The
    /// rest as under `.float16`. For CPUs with AVX512-BF16 but neither AMX nor AVX512-FP16
    /// (AMD Zen 4).
    case bfloat16 = "bf16"

    /// Whether this machine runs `.bfloat16` training products (AVX512-BF16).
    public static var bfloat16Available: Bool { lfosa_avx512_bf16_available() != 0 }

    /// float16 where the CPU has AVX512-FP16 and no AMX (where it has AMX, bfloat16 trains on
    /// its tiles); else bfloat16 where it has AVX512-BF16; else float32.
    public static var preferred: TrainingPrecision {
        if MatmulPrecision.bfloat16Available { return .float32 }
        if MatmulPrecision.float16Available { return .float16 }
        return bfloat16Available ? .bfloat16 : .float32
    }

    /// What training actually runs at here: float32 when the CPU lacks the instructions.
    public var effective: TrainingPrecision {
        switch self {
        case .float16: return MatmulPrecision.float16Available ? self : .float32
        case .bfloat16: return Self.bfloat16Available ? self : .float32
        case .float32: return self
        }
    }
}

/// Layers with convolutions that can train at `TrainingPrecision.float16` or `.bfloat16`.
public protocol TrainingPrecisionSettable: AnyObject {
    var trainingPrecision: TrainingPrecision { get set }
}

/// Every matrix product of the numeric core, through OpenBLAS kept single-threaded.
///
/// OpenBLAS's results depend on its thread count (it splits the products differently), and
/// its thread count is process-wide state: toggling it around parallel regions made results
/// depend on whatever else ran at the same time (two trainings in one process, parallel
/// tests) and could leave it stuck at one thread. So OpenBLAS runs one thread, always, and
/// large products are split here by rows of C over `ParallelConfiguration.workers` — the
/// same split for the same worker count, whatever runs beside it.
enum GEMM {
    private static let singleThreaded: Void = { lfosa_blas_set_threads(1) }()

    /// C = alpha·op(A)·op(B) + beta·C, row-major, C is `m × n`. With `parallel`, large
    /// products are split by rows of C across the workers.
    @inline(__always)
    static func sgemm(_ transA: CBLAS_TRANSPOSE, _ transB: CBLAS_TRANSPOSE, m: Int, n: Int, k: Int, alpha: Float = 1,
                      a: UnsafePointer<Float>?, lda: Int, b: UnsafePointer<Float>?, ldb: Int,
                      beta: Float, c: UnsafeMutablePointer<Float>?, ldc: Int, parallel: Bool = true,
                      precision: MatmulPrecision = .float32) {
        _ = singleThreaded
        guard let a, let b, let c else { return }   // empty operands: nothing to multiply
        let aRowStride = transA == CblasNoTrans ? lda : 1
        if precision.effective == .bfloat16 {
            // AMX: row blocks of whole 16-row tiles, so the split adds no ragged tiles.
            let ta: Int32 = transA == CblasNoTrans ? 0 : 1, tb: Int32 = transB == CblasNoTrans ? 0 : 1
            splitRows(m: m, n: n, k: k, parallel: parallel, minimumRows: 32, rowAlignment: 16, a: a, aRowStride: aRowStride,
                      c: c, ldc: ldc) { rows, aw, cw in
                lfosa_bf16_gemm(ta, tb, Int32(rows), Int32(n), Int32(k), alpha, aw, Int32(lda), b, Int32(ldb), beta, cw,
                                Int32(ldc))
            }
            return
        }
        splitRows(m: m, n: n, k: k, parallel: parallel, minimumRows: 8, rowAlignment: 1, a: a, aRowStride: aRowStride,
                  c: c, ldc: ldc) { rows, aw, cw in
            cblas_sgemm(CblasRowMajor, transA, transB, Int32(rows), Int32(n), Int32(k), alpha, aw, Int32(lda), b, Int32(ldb),
                        beta, cw, Int32(ldc))
        }
    }

    /// `sgemm` at bfloat16 on AMX with op(B) packed beforehand (`lfosa_bf16_pack_b`): the same
    /// result, the same row split, without packing B again in every call and worker.
    static func bf16PackedB(_ transA: CBLAS_TRANSPOSE, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                            packedB: UnsafePointer<UInt16>, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let ta: Int32 = transA == CblasNoTrans ? 0 : 1
        splitRows(m: m, n: n, k: k, parallel: true, minimumRows: 32, rowAlignment: 16, a: a,
                  aRowStride: transA == CblasNoTrans ? lda : 1, c: c, ldc: ldc) { rows, aw, cw in
            lfosa_bf16_gemm_packed_b(ta, Int32(rows), Int32(n), Int32(k), 1, aw, Int32(lda), packedB, beta, cw, Int32(ldc))
        }
    }

    /// Runs `product(rows, a, c)` on the whole product, or — when `parallel` and the product is
    /// large — on row blocks of C (multiples of `rowAlignment` rows, at least `minimumRows` per
    /// worker) across the workers: the same split for the same worker count.
    @inline(__always)
    private static func splitRows(m: Int, n: Int, k: Int, parallel: Bool, minimumRows: Int, rowAlignment: Int,
                                  a: UnsafePointer<Float>, aRowStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                                  _ product: (Int, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        let workers = parallel && m * n * k >= 1 << 21 ? min(ParallelConfiguration.workers, m / minimumRows) : 1
        if workers <= 1 {
            product(m, a, c)
            return
        }
        let box = (a: UnsafeRawPointer(a), c: UnsafeMutableRawPointer(c))
        let blocks = (m + rowAlignment - 1) / rowAlignment
        withoutActuallyEscaping(product) { product in
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let lo = min(m, blocks * w / workers * rowAlignment), hi = min(m, blocks * (w + 1) / workers * rowAlignment)
                guard lo < hi else { return }
                product(hi - lo, box.a.assumingMemoryBound(to: Float.self) + lo * aRowStride,
                        box.c.assumingMemoryBound(to: Float.self) + lo * ldc)
            }
        }
    }
}

/// Process-wide allocator tuning for training loops (call once at start-up, from the executable).
public enum AllocatorTuning {
    /// Keeps freed buffers in the heap so per-step allocations do not page-fault.
    public static func keepFreedMemory() { lfosa_malloc_keep_freed_memory() }
}
