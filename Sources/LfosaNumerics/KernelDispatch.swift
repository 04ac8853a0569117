import LfosaKernels

/// Which hand-written C kernels this CPU can run (probed once).
enum KernelDispatch {
    /// AVX-512 (F, BW, VL): the training-time pooling and pooled batch-norm backward kernels
    /// (`lfosa_pool2x2_plane`, `lfosa_bn_pool_backward_channel`) replace the Swift loops, which
    /// are compiled for baseline x86-64 and run their 16-lane SIMD as four SSE operations.
    static let hasAVX512 = lfosa_avx512_available() != 0
}
