#ifndef LFOSA_KERNELS_H
#define LFOSA_KERNELS_H
// Hand-written CPU kernels the numeric core calls where OpenBLAS has none: a bfloat16 matrix
// product on Intel AMX tiles (Sapphire Rapids and later). Everything else goes through cblas.

// 1 when this CPU and kernel can run AMX-BF16 tiles (asks the kernel for the tile-data
// permission on first call); 0 otherwise. Thread-safe; the answer never changes.
int lfosa_amx_bf16_available(void);

// C = alpha·op(A)·op(B) + beta·C, row-major, C is m × n, op(A) m × k, op(B) k × n, with
// op(A), op(B) rounded to bfloat16 (round to nearest even) and products summed in float32.
// transA / transB: 0 = as stored, 1 = transposed. Only call when lfosa_amx_bf16_available().
// Single-threaded; concurrent calls from different threads are safe.
void lfosa_bf16_gemm(int transA, int transB, int m, int n, int k, float alpha,
                     const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

// Whether lfosa_bf16_conv_same_forward handles this plane and kernel: odd kernel sizes, any
// plane.
int lfosa_bf16_conv_same_supported(int h, int w, int kh, int kw);

// "Same" convolution (stride 1, zero padding kh/2, kw/2) of images [n0, n1) of x [cin, ntotal,
// h, w] with weight [cout, cin·kh·kw] in bfloat16 products (as lfosa_bf16_gemm), writing
// out[co · ldc + (image·h + y)·w + x] for those images (out = the whole [cout, ntotal, h, w]
// map, ldc = ntotal·h·w). An implicit GEMM: each image is copied once into zero-padded
// bfloat16 planes that the tile loads read in place (see amx_gemm.c); its float32 sums run in
// another order than unfolding + lfosa_bf16_gemm, so the two agree to rounding, not bit for bit.
// The input gradient of the convolution is this with g as x and the kernel rotated by 180°
// with its channel axes swapped.
void lfosa_bf16_conv_same_forward(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                  const float *x, int n0, int n1, const float *weight, float *out, int ldc);

// Weight gradient of that convolution over images [n0, n1): dw [cout, cin·kh·kw] =
// g[:, those images' pixels] · colsᵀ + beta · dw, g = [cout, ntotal·h·w] with row stride ldg.
// cin % 16 == 0: an implicit GEMM on the same padded layout (sums in another order than
// unfolding); other channel counts: tiles built from a bfloat16 copy of the input (bit for bit
// the unfolded product).
void lfosa_bf16_conv_same_weight_gradient(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                          const float *x, int n0, int n1, const float *g, int ldg,
                                          float beta, float *dw);

// Whether lfosa_bf16_conv_same_pool_forward handles this plane: odd kernel, h and w even.
int lfosa_bf16_conv_same_pool_supported(int h, int w, int kh, int kw);

// Inference: that convolution over images [n0, n1), then per output channel scale·v + shift
// (batch norm's inference affine), 2×2 stride-2 max-pool and, with relu, max(·, 0) — written
// to out [cout, ntotal, h / 2, w / 2] without the full-resolution map. An implicit GEMM over
// zero-padded bfloat16 copies of each image: its float32 sums run in another order than
// lfosa_bf16_conv_same_forward's, so the two agree to float32 rounding, not bit for bit.
void lfosa_bf16_conv_same_pool_forward(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                       const float *x, int n0, int n1, const float *weight,
                                       const float *scale, const float *shift, int relu, float *out);
#endif
