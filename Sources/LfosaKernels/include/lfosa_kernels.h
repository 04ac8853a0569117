#ifndef LFOSA_KERNELS_H
#define LFOSA_KERNELS_H
#include <stdint.h>
#include <stddef.h>
// Hand-written CPU kernels the numeric core calls where OpenBLAS has none: bfloat16 matrix
// products and implicit-GEMM convolutions on Intel AMX tiles (Sapphire Rapids and later), and
// AVX-512 versions of the training-time pooling / pooled batch-norm loops. Each family has a
// runtime probe; everything else goes through cblas or Swift.

// 1 when this CPU and kernel can run AMX-BF16 tiles (asks the kernel for the tile-data
// permission on first call); 0 otherwise. Thread-safe; the answer never changes.
int lfosa_amx_bf16_available(void);

// C = alpha·op(A)·op(B) + beta·C, row-major, C is m × n, op(A) m × k, op(B) k × n, with
// op(A), op(B) rounded to bfloat16 (round to nearest even) and products summed in float32.
// transA / transB: 0 = as stored, 1 = transposed. Only call when lfosa_amx_bf16_available().
// Single-threaded; concurrent calls from different threads are safe.
void lfosa_bf16_gemm(int transA, int transB, int m, int n, int k, float alpha,
                     const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

// The same product with op(B) packed once beforehand (for a B reused across many calls, such
// as a dense layer's weights at inference): lfosa_bf16_pack_b writes op(B) (k × n) into `dst`,
// which holds lfosa_bf16_packed_b_elements(k, n) values; lfosa_bf16_gemm_packed_b then gives
// exactly lfosa_bf16_gemm's result. Only call when lfosa_amx_bf16_available().
size_t lfosa_bf16_packed_b_elements(int k, int n);
void lfosa_bf16_pack_b(int transB, int k, int n, const float *b, int ldb, uint16_t *dst);
void lfosa_bf16_gemm_packed_b(int transA, int m, int n, int k, float alpha, const float *a, int lda,
                              const uint16_t *packed_b, float beta, float *c, int ldc);

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

// 1 when this CPU and kernel can run AVX-512 (F, BW, VL); 0 otherwise. Thread-safe.
int lfosa_avx512_available(void);

// 2×2 stride-2 max-pool of one h × w plane (floor output size) into out [h/2, w/2]: with
// `affine` the inputs are scale·x + shift (multiply, then add), with `relu` the output is
// clamped at 0 (after the maximum). With `argmax`, each output's window maximum (the first in
// row-major order) as base + its index in the plane; with `max_input` too, x at that index.
// Only call when lfosa_avx512_available().
void lfosa_pool2x2_plane(const float *x, int h, int w, float scale, float shift, int affine, int relu,
                         float *out, int32_t *argmax, int32_t base, float *max_input);

// Backward of batch norm (batch statistics) + that pooling (+ ReLU) for one channel: g, output,
// argmax, max_input hold the channel's `per` pooled values (argmax indexing the whole input, the
// channel's first element being channel_base), x its `plane` inputs. Writes Σ dy·x̂ and Σ dy
// (dy = g, 0 where the ReLU clamped) to d_gamma, d_beta and, unless dx is NULL, the input
// gradient dx [plane]. Only call when lfosa_avx512_available().
void lfosa_bn_pool_backward_channel(const float *g, const float *max_input, const float *output,
                                    const int32_t *argmax, int per, const float *x, int plane,
                                    float *dx, int32_t channel_base, float mean, float inv_std,
                                    float gamma, int relu, float *d_gamma, float *d_beta);
// Whether the float32 implicit-GEMM "same" convolution (AVX-512 FMA) runs here for this plane
// and kernel: odd kernels up to 31 tall and 5 wide, any plane, and a CPU with AVX-512.
int lfosa_f32_conv_same_supported(int h, int w, int kh, int kw);

// float32 "same" convolution (stride 1, zero padding kh/2, kw/2) of images [n0, n1) of x [cin,
// ntotal, h, w] with weight [cout, cin·kh·kw], writing out[co · ldc + (image·h + y)·w + x] — the
// arguments of lfosa_bf16_conv_same_forward. An implicit GEMM over float32 copies of each image
// with zero rows above and below, the horizontal padding as lane masks (f32_conv.c); fused multiply-adds in the unfolded product's k order, so it agrees
// with unfolding + sgemm to float32 rounding. With g as x and the kernel rotated by 180° and its
// channel axes swapped, it is the input gradient. Single-threaded; thread-safe.
void lfosa_f32_conv_same_forward(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                 const float *x, int n0, int n1, const float *weight, float *out, int ldc);
// Weight gradient of that convolution over images [n0, n1): dw [cout, cin·kh·kw] = g[:, those
// images' pixels] · colsᵀ + beta · dw (g = [cout, ntotal·h·w], row stride ldg) — the arguments of
// lfosa_bf16_conv_same_weight_gradient. Dot products along the pixels with per-lane partial sums
// (another summation order than unfolding + sgemm: agrees to float32 rounding).
void lfosa_f32_conv_same_weight_gradient(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                         const float *x, int n0, int n1, const float *g, int ldg,
                                         float beta, float *dw);

// 1 when this CPU and kernel can run AVX512-FP16 (half-precision arithmetic); 0 otherwise.
int lfosa_avx512_fp16_available(void);
// Whether lfosa_f16_conv_same_forward runs here for this plane and kernel: odd kernels up to 31
// tall and 5 wide, any plane, and a CPU with AVX512-FP16.
int lfosa_f16_conv_same_supported(int h, int w, int kh, int kw);
// Inference: lfosa_f32_conv_same_forward's convolution (same arguments) with float16 products:
// inputs and weights rounded to float16, products summed in float16 over at most 16 kernel rows
// (48 products for 3-wide kernels), those partial sums added in float32 (f16_conv.c). Returns 1
// when an output is not finite (a sum beyond float16's range): the caller redoes it in float32.
int lfosa_f16_conv_same_forward(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                const float *x, int n0, int n1, const float *weight, float *out, int ldc);
// The same with each image's input multiplied by a scale before it is rounded to float16 and its
// outputs divided by it: `scale` when > 0, else (0) the power of two that brings the image's
// largest magnitude into [2^9, 2^10) — training's gradients, whose values would otherwise lose
// digits or vanish below float16's normal range (2^-14). Returns 1 as above.
int lfosa_f16_conv_same_forward_scaled(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                       const float *x, int n0, int n1, const float *weight, float *out, int ldc,
                                       float scale);
// Whether lfosa_f16_conv_same_pool_forward handles this plane: as above, w 8, 16 or 32, h even.
int lfosa_f16_conv_same_pool_supported(int h, int w, int kh, int kw);
// Inference: that float16 convolution, then lfosa_bf16_conv_same_pool_forward's epilogue (per
// channel scale·v + shift on the float32 sums, 2×2 max-pool, max(·, 0) with relu) into out
// [cout, ntotal, h/2, w/2]. Returns 1 when an output is not finite (redo it in float32).
int lfosa_f16_conv_same_pool_forward(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                     const float *x, int n0, int n1, const float *weight,
                                     const float *scale, const float *shift, int relu, float *out);

// 1 when this CPU and kernel can run AVX512-BF16 (vdpbf16ps: bfloat16 pair products summed in
// float32); 0 otherwise.
int lfosa_avx512_bf16_available(void);
// Whether lfosa_dpbf16_conv_same_forward runs here for this plane and kernel: odd kernels up to
// 31 tall and 5 wide, any plane, and a CPU with AVX512-BF16.
int lfosa_dpbf16_conv_same_supported(int h, int w, int kh, int kw);
// Training: lfosa_f32_conv_same_forward's convolution (same arguments) with inputs and weights
// rounded to bfloat16 and their products summed in float32 (dpbf16_conv.c). Returns 1 when an
// output is not finite: the caller redoes the layer in float32.
int lfosa_dpbf16_conv_same_forward(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                   const float *x, int n0, int n1, const float *weight, float *out, int ldc);

// 1 when this CPU and kernel can run AVX512-VNNI (8-bit integer dot products); 0 otherwise.
int lfosa_avx512_vnni_available(void);
// Whether lfosa_i8_conv_same_pool_forward handles this layer: odd kernels up to 15 tall and 5
// wide, cin·kh·kw ≤ 65,536, planes 8 or 16 wide with h·w a multiple of 32, a CPU with AVX512-VNNI.
int lfosa_i8_conv_same_pool_supported(int cin, int h, int w, int kh, int kw);
// Weights [cout, cin, kh, kw] for lfosa_i8_conv_same_pool_forward: each output channel scaled by
// its largest magnitude to signed bytes (±127), four input channels per word —
// lfosa_i8_packed_weight_words(…) words into `packed` and ⌈cout/8⌉·8 scales (max|w| / 127) into
// `scales`. Portable C (no CPU requirement): pack once per weight change.
size_t lfosa_i8_packed_weight_words(int cout, int cin, int kh, int kw);
void lfosa_i8_pack_weights(int cout, int cin, int kh, int kw, const float *weight, uint32_t *packed, float *scales);
// Inference: lfosa_f16_conv_same_pool_forward's convolution + epilogue (same arguments and output,
// the weights packed by lfosa_i8_pack_weights) with 8-bit integer products (i8_conv.c): each
// image's input scaled by its own maximum to unsigned bytes, exact 32-bit integer sums scaled back
// to float32 before the affine. Returns 1, leaving the output unfinished, when an input value is
// negative or not finite (the caller runs another kernel).
int lfosa_i8_conv_same_pool_forward(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                    const float *x, int n0, int n1, const uint32_t *packed, const float *wscale,
                                    const float *scale, const float *shift, int relu, float *out);

// The first layer's convolution on the image's own pixels (i8_conv.c): for an input x = s_c·p + o_c
// with 8-bit pixels p (the batch's normalisation), the pixels are the unsigned bytes — no input
// quantisation — and the weights w·s_c packed by lfosa_i8_pack_weights (pass them scaled). The
// padding's missing offsets are the bias map [cout, h, w] that lfosa_i8_pixel_bias_map computes
// from the float weights and o_c (portable C; once per weight change). Supported: kernels 3 wide and
// odd up to 15 tall, at most 16 channels, planes 32 wide and an even number of rows, AVX512-VNNI.
void lfosa_i8_pixel_bias_map(int cout, int cin, int kh, int kw, int h, int w, const float *weight, const float *offset,
                             float *map);
int lfosa_i8_conv_pixels_pool_supported(int cin, int h, int w, int kh, int kw);
// Inference: conv + per-channel affine (scale·v + shift) + 2×2 max-pool (+ ReLU) into out
// [cout, ntotal, h/2, w/2], as lfosa_i8_conv_same_pool_forward. Returns 1, leaving the output
// unfinished, when an input value is not within 0.25 of s_c·p + o_c for an integer p in 0…255.
int lfosa_i8_conv_pixels_pool_forward(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                      const float *x, int n0, int n1, const uint32_t *wt, const float *ws,
                                      const float *bias_map, const float *in_scale, const float *in_offset,
                                      const float *scale, const float *shift, int relu, float *out);

// Dense layer y = x·Wᵀ + b at inference with 8-bit integer products (i8_linear.c, AVX512-VNNI),
// for a non-negative input (a ReLU before it). Weights [outputs, inputs]: each output's scaled by
// its largest magnitude to signed bytes — lfosa_i8_linear_packed_words(…) words into `packed` and
// ⌈outputs/32⌉·32 scales (max|w| / 127) into `scales` (portable C; pack once per weight change).
size_t lfosa_i8_linear_packed_words(int outputs, int inputs);
void lfosa_i8_linear_pack(int outputs, int inputs, const float *weight, uint32_t *packed, float *scales);
// Images n0 ..< n1 into y [·, outputs] (row-major): each image's input scaled by its own maximum to
// unsigned bytes, exact 32-bit sums scaled back to float32 plus bias. Feature f of image i is
// x[(f / glen)·gstride + i·glen + f % glen]: glen = inputs for a row-major [N, inputs] input,
// glen = h·w and gstride = N·h·w for a channel-major map [C, N, h, w] flattened per image.
// Returns 1, leaving y unfinished, when an input value is negative or not finite.
int lfosa_i8_linear_forward(int n0, int n1, int inputs, int outputs, const float *x, int glen, size_t gstride,
                            const uint32_t *packed, const float *wscale, const float *bias, float *y);
#endif
