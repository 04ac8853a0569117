// Inference-only "same" convolution with 8-bit integer products (AVX512-VNNI), fused with the
// pooled epilogue of f16_conv.c (per-channel affine, 2×2 max-pool, ReLU), for the convolutions
// whose input is non-negative (a ReLU before them) — see include/lfosa_kernels.h.
//
// Quantisation: each image's input is scaled by its own maximum to unsigned 8 bits
// (q = round(255·x / max x)), each output channel's weights by their largest magnitude to signed
// 8 bits (±127), so the result does not depend on which images share a batch or a worker. The
// products are summed exactly in 32-bit integers (at most cin·kh·kw ≤ 65,536 products of
// |255·127|), and the sum is scaled back to float32 before the affine.
//
// Layout: f16_conv.c's, with four input channels per 32-bit word — each image is copied once into
// planes of words (channels 4g … 4g+3 of a pixel, one byte each) with kh/2 zero rows above and
// below, so output pixel q and kernel offset (i, j) read the plane at the constant shift
// q + (i − kh/2)·w + (j − kw/2); the horizontal padding is done once per image, in one copy of
// the planes per kernel column j, shifted by j − kw/2 with the lanes outside the row zeroed. A
// block is 8 output channels × 32 pixels (16 zmm accumulators of 16 lanes): per kernel tap and
// channel quad, two unmasked loads and eight broadcast weight words feed 16 vpdpbusd, each 16 lanes × 4 products —
// twice float16's products per instruction, four times float32's. 32 pixels are whole row pairs of
// a plane 8 or 16 wide, which the epilogue pools to 8 outputs per channel.
#include "lfosa_kernels.h"
#include "kernel_buffers.h"
#include "i8_quant.h"
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// Output channels per block (and per packed weight group).
enum { ICO = 8 };

size_t lfosa_i8_packed_weight_words(int cout, int cin, int kh, int kw) {
    return (size_t)((cout + ICO - 1) / ICO) * ((cin + 3) / 4) * kh * kw * ICO;
}

void lfosa_i8_pack_weights(int cout, int cin, int kh, int kw, const float *weight, uint32_t *packed, float *scales) {
    // weights [cout, cin, kh, kw] → per-channel scale max|w| / 127 and words [cob][quad·kh + i][j][8]
    // of four signed bytes (channels 4·quad …), zero past cin and cout
    int cob = (cout + ICO - 1) / ICO, nrows = (cin + 3) / 4 * kh, kk = cin * kh * kw;
    memset(packed, 0, sizeof(uint32_t) * lfosa_i8_packed_weight_words(cout, cin, kh, kw));
    for (int co = 0; co < cob * ICO; co++) {
        float m = co < cout ? i8_largest_magnitude(weight + (size_t)co * kk, (size_t)kk) : 0;
        scales[co] = m > 0 ? m / 127.0f : 0.0f;
        if (co >= cout || m == 0) continue;
        float inv = 127.0f / m;
        int cb = co / ICO, j = co % ICO;
        for (int ci = 0; ci < cin; ci++)
            for (int i = 0; i < kh; i++)
                for (int t = 0; t < kw; t++) {
                    uint32_t q = i8_weight_byte(weight[(size_t)co * kk + ((size_t)ci * kh + i) * kw + t], inv);
                    size_t r = (size_t)(ci / 4) * kh + i;
                    packed[(((size_t)cb * nrows + r) * kw + t) * ICO + j] |= q << (8 * (ci % 4));
                }
    }
}

// ---- First layer on the image's own pixels -------------------------------------------------
//
// The network's input is x = s_c·p + o_c for 8-bit pixels p (the normalisation makeBatch applies),
// so the pixels themselves are the unsigned bytes: no quantisation of the input at all. The
// convolution is Σ w·(s_c·p + o_c) over the taps inside the image (outside, x is zero padding), =
// Σ (w·s_c)·p + B(pos), where B sums w·o_c over the in-image taps: constant inside, different
// near the border. The weights w·s_c are packed by lfosa_i8_pack_weights (per output channel
// scale); B is lfosa_i8_pixel_bias_map's.

void lfosa_i8_pixel_bias_map(int cout, int cin, int kh, int kw, int h, int w, const float *weight, const float *offset,
                             float *map) {
    for (int co = 0; co < cout; co++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                double b = 0;
                for (int ci = 0; ci < cin; ci++) {
                    double s = 0;
                    for (int i = 0; i < kh; i++) {
                        int yy = y + i - kh / 2;
                        if (yy < 0 || yy >= h) continue;
                        for (int j = 0; j < kw; j++) {
                            int xx = x + j - kw / 2;
                            if (xx < 0 || xx >= w) continue;
                            s += weight[(((size_t)co * cin + ci) * kh + i) * kw + j];
                        }
                    }
                    b += s * offset[ci];
                }
                map[((size_t)co * h + y) * w + x] = (float)b;
            }
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

#define I8_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")))

enum { IGUARD = 64 };

static pthread_once_t vnni_once = PTHREAD_ONCE_INIT;
static int vnni_ok = 0;

static void vnni_probe(void) {
    if (!lfosa_avx512_available()) return;   // AVX-512 state enabled by the OS
    unsigned int a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return;
    vnni_ok = ((c >> 11) & 1) && ((b >> 30) & 1);   // AVX512-VNNI, AVX512-BW
}

int lfosa_avx512_vnni_available(void) {
    pthread_once(&vnni_once, vnni_probe);
    return vnni_ok;
}

static __thread void *i_planes = NULL, *i_table = NULL, *i_wscale = NULL;
static __thread size_t i_planes_cap = 0, i_table_cap = 0, i_wscale_cap = 0;

typedef struct {
    int cin, cout, kh, kw, h, w;
    int groups;       // channel quads, ⌈cin/4⌉
    int nrows;        // groups·kh kernel rows
    int hw, blocks;   // pixels, 32-pixel blocks
    int plane;        // words between quad planes ((h + kh − 1)·w, rounded up to 16)
    int image;        // words of one image's planes, guards included
} i8_geom;

static i8_geom i8_geometry(int cout, int cin, int kh, int kw, int h, int w) {
    i8_geom g;
    g.cin = cin; g.cout = cout; g.kh = kh; g.kw = kw; g.h = h; g.w = w;
    g.groups = (cin + 3) / 4;
    g.nrows = g.groups * kh;
    g.hw = h * w;
    g.blocks = g.hw / 32;
    g.plane = ((h + kh - 1) * w + 15) / 16 * 16;
    // a block's loads reach 32 words past its start + the largest shift (tail lanes are masked)
    g.image = IGUARD + g.groups * g.plane + 32 + (kh - 1) * w + kw + IGUARD;
    g.image = (g.image + 15) / 16 * 16;
    return g;
}

int lfosa_i8_conv_same_pool_supported(int cin, int h, int w, int kh, int kw) {
    return lfosa_avx512_vnni_available() && (kh & 1) && (kw & 1) && kh <= 15 && kw <= 5 && cin > 0
        && (long)cin * kh * kw <= 65536 && (w == 8 || w == 16) && h > 0 && (h * w) % 32 == 0;
}

// Image n of x [cin, ntotal, h, w] → quad planes of unsigned bytes scaled by 255 / max (the
// padding rows and guards stay as they are: zeroed once per call). Returns the scale back
// (max / 255; 0 for an all-zero image), or −1 when a value is negative, NaN or infinite (the
// image cannot be quantised so).
I8_TARGET static float i8_fill(const i8_geom *g, const float *x, int ntotal, int n, uint32_t *dst) {
    size_t hw = (size_t)g->hw;   // a multiple of 32
    __m512 mx = _mm512_setzero_ps();
    __mmask16 bad = 0;
    for (int c = 0; c < g->cin; c++) {
        const float *src = x + ((size_t)c * ntotal + n) * hw;
        for (size_t i = 0; i < hw; i += 16) i8_scan(_mm512_loadu_ps(src + i), 0xFFFF, &mx, &bad);
    }
    float m = i8_scan_max(mx, bad);
    if (m < 0) return -1.0f;
    __m512 inv = _mm512_set1_ps(m > 0 ? 255.0f / m : 0.0f);
    const __m512i top = _mm512_set1_epi32(255);
    for (int q = 0; q < g->groups; q++) {
        uint32_t *d = dst + IGUARD + (size_t)q * g->plane + (g->kh / 2) * g->w;
        const float *s[4];
        for (int k = 0; k < 4; k++) {
            int c = 4 * q + k;
            s[k] = c < g->cin ? x + ((size_t)c * ntotal + n) * hw : NULL;
        }
        for (size_t i = 0; i < hw; i += 16) {
            __m512i word = _mm512_setzero_si512();
            for (int k = 0; k < 4; k++) {
                if (!s[k]) continue;
                __m512i b = _mm512_min_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(s[k] + i), inv)), top);
                word = _mm512_or_si512(word, _mm512_slli_epi32(b, 8 * k));
            }
            _mm512_storeu_si512((void *)(d + i), word);
        }
    }
    return m / 255.0f;
}

// The quad planes shifted by each kernel column: copy t (`cs` words after copy t − 1) holds, at
// pixel i of an image row, the word of pixel i + t − kw/2 when that column is inside the row and 0
// otherwise (`mk`: lane masks per column shift and vector, `nv` vectors to a block); the centre
// copy is the planes themselves (i8_fill's). The blocks then read whole unmasked vectors: the same
// words the masked loads of the unshifted planes would read, without the masking in the inner loop.
I8_TARGET static void i8_shift_copies(const i8_geom *g, uint32_t *copy0, size_t cs, const __mmask16 *mk, int nv) {
    const uint32_t *centre = copy0 + (size_t)(g->kw / 2) * cs;
    for (int t = 0; t < g->kw; t++) {
        if (t == g->kw / 2) continue;
        uint32_t *dst = copy0 + (size_t)t * cs;
        for (int q = 0; q < g->groups; q++) {
            size_t base = IGUARD + (size_t)q * g->plane + (size_t)(g->kh / 2) * g->w;
            for (int i = 0; i < g->hw; i += 16) {
                __mmask16 m = mk[nv * t + (i / 16) % nv];
                _mm512_storeu_si512((void *)(dst + base + i), _mm512_maskz_loadu_epi32(m, centre + base + i + t - g->kw / 2));
            }
        }
    }
}

// The pooled epilogue of one channel: 32 sums (two vectors) = row pairs of a plane 8 or 16 wide,
// alpha·v + beta, 2×2 max, then max(·, 0) with relu: 8 outputs, contiguous in the pooled plane.
I8_TARGET static inline __attribute__((always_inline)) __m256 i8_pool(__m512i s0, __m512i s1, int w, __m512 alpha,
                                                                    __m512 beta, int relu) {
    __m512 v0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s0), alpha, beta);
    __m512 v1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s1), alpha, beta);
    __m512 m;   // vertical maxima; lane pairs (2i, 2i+1) are horizontal neighbours, in output order
    if (w == 16) m = _mm512_max_ps(v0, v1);
    else m = _mm512_max_ps(_mm512_shuffle_f32x4(v0, v1, 0x44), _mm512_shuffle_f32x4(v0, v1, 0xEE));   // w == 8
    const __m512i even = _mm512_set_epi32(15, 13, 11, 9, 7, 5, 3, 1, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi32(14, 12, 10, 8, 6, 4, 2, 0, 15, 13, 11, 9, 7, 5, 3, 1);
    __m512 r = _mm512_max_ps(_mm512_permutexvar_ps(even, m), _mm512_permutexvar_ps(odd, m));
    if (relu) r = _mm512_max_ps(r, _mm512_setzero_ps());
    return _mm512_castps512_ps256(r);
}

// One block: 8 channels × 32 pixels of Σ_r Σ_t weight words · masked quad plane at the row's shift,
// then the pooled epilogue into out[j·ld + 0..8).
I8_TARGET static inline __attribute__((always_inline)) void i8_block_body(const uint32_t *p, const int32_t *rows, int nrows, int kw,
                                                               size_t cs, const uint32_t *wt, float *out, size_t ld,
                                                               int jn, const float *alpha, const float *beta, int w, int relu) {
    __m512i c0[ICO], c1[ICO];
    for (int j = 0; j < ICO; j++) { c0[j] = _mm512_setzero_si512(); c1[j] = _mm512_setzero_si512(); }
    for (int r = 0; r < nrows; r++) {
        const uint32_t *pr = p + rows[r];
        const uint32_t *wr = wt + (size_t)r * kw * ICO;
        for (int t = 0; t < kw; t++) {
            __m512i a0 = _mm512_loadu_si512((const void *)(pr + t * cs));
            __m512i a1 = _mm512_loadu_si512((const void *)(pr + t * cs + 16));
            const uint32_t *wk = wr + t * ICO;
            for (int j = 0; j < ICO; j++) {
                __m512i b = _mm512_set1_epi32((int)wk[j]);
                c0[j] = _mm512_dpbusd_epi32(c0[j], a0, b);
                c1[j] = _mm512_dpbusd_epi32(c1[j], a1, b);
            }
        }
    }
    for (int j = 0; j < jn; j++)
        _mm256_storeu_ps(out + (size_t)j * ld, i8_pool(c0[j], c1[j], w, _mm512_set1_ps(alpha[j]), _mm512_set1_ps(beta[j]), relu));
}

I8_TARGET static void i8_block_3(const uint32_t *p, const int32_t *rows, int nrows, size_t cs, const uint32_t *wt,
                                 float *out, size_t ld, int jn, const float *alpha, const float *beta, int w, int relu) {
    i8_block_body(p, rows, nrows, 3, cs, wt, out, ld, jn, alpha, beta, w, relu);
}

I8_TARGET static void i8_block_any(const uint32_t *p, const int32_t *rows, int nrows, int kw, size_t cs,
                                   const uint32_t *wt, float *out, size_t ld, int jn, const float *alpha, const float *beta,
                                   int w, int relu) {
    i8_block_body(p, rows, nrows, kw, cs, wt, out, ld, jn, alpha, beta, w, relu);
}

I8_TARGET int lfosa_i8_conv_same_pool_forward(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                              const float *x, int n0, int n1, const uint32_t *wt, const float *ws,
                                              const float *scale, const float *shift, int relu, float *out) {
    if (n1 <= n0) return 0;
    i8_geom g = i8_geometry(cout, cin, kh, kw, h, w);
    int cob = (cout + ICO - 1) / ICO;
    size_t cs = (size_t)g.image;   // one copy of the planes per kernel column
    uint32_t *planes = reserve_bytes(&i_planes, &i_planes_cap, sizeof(uint32_t) * cs * kw);
    int32_t *rows = reserve_bytes(&i_table, &i_table_cap, sizeof(int32_t) * (size_t)g.nrows);
    float *alpha = reserve_bytes(&i_wscale, &i_wscale_cap, sizeof(float) * 2 * (size_t)cob * ICO);
    if (!planes || !rows || !alpha) abort();
    float *beta = alpha + (size_t)cob * ICO;
    for (int r = 0; r < g.nrows; r++) rows[r] = (r / kh) * g.plane + (r % kh - kh / 2) * w;
    // lanes of vector v whose column shifted by t − kw/2 is inside the row: the same for every
    // block, as blocks are whole rows
    __mmask16 mk[2 * 5];
    for (int t = 0; t < kw; t++)
        for (int v = 0; v < 2; v++) {
            unsigned bits = 0;
            for (int l = 0; l < 16; l++) {
                int x = (16 * v + l) % w + t - kw / 2;
                if (x >= 0 && x < w) bits |= 1u << l;
            }
            mk[2 * t + v] = (__mmask16)bits;
        }
    const uint32_t *p0 = planes + IGUARD + (kh / 2) * w;   // copy 0
    size_t opl = (size_t)g.hw / 4, ld = (size_t)ntotal * opl;
    memset(planes, 0, sizeof(uint32_t) * cs * kw);   // padding rows and guards of every copy
    for (int n = n0; n < n1; n++) {
        float sa = i8_fill(&g, x, ntotal, n, planes + (size_t)(kw / 2) * cs);
        if (sa < 0) return 1;
        i8_shift_copies(&g, planes, cs, mk, 2);
        for (int co = 0; co < cout; co++) {
            alpha[co] = scale[co] * sa * ws[co];
            beta[co] = shift[co];
        }
        float *on = out + (size_t)n * opl;
        for (int cb = 0; cb < cob; cb++) {
            const uint32_t *wb = wt + (size_t)cb * g.nrows * kw * ICO;
            int jn = cout - cb * ICO < ICO ? cout - cb * ICO : ICO;
            const float *al = alpha + cb * ICO, *be = beta + cb * ICO;
            float *ob = on + (size_t)cb * ICO * ld;
            for (int b = 0; b < g.blocks; b++) {
                if (kw == 3) i8_block_3(p0 + 32 * b, rows, g.nrows, cs, wb, ob + 8 * b, ld, jn, al, be, w, relu);
                else i8_block_any(p0 + 32 * b, rows, g.nrows, kw, cs, wb, ob + 8 * b, ld, jn, al, be, w, relu);
            }
        }
    }
    return 0;
}


int lfosa_i8_conv_pixels_pool_supported(int cin, int h, int w, int kh, int kw) {
    return lfosa_avx512_vnni_available() && (kh & 1) && kh <= 15 && kw == 3 && cin > 0 && cin <= 16
        && w == 32 && h > 0 && h % 2 == 0;
}

// Image n's pixels back from x = s_c·p + o_c into quad planes (as i8_fill's). 0, or −1 when a value is not within 0.25 of such a pixel value
// (the input is not the encoded image).
I8_TARGET static int i8_fill_pixels(const i8_geom *g, const float *x, int ntotal, int n, const float *scale,
                                    const float *offset, uint32_t *dst) {
    size_t hw = (size_t)g->hw;   // a multiple of 32
    __mmask16 bad = 0;
    const __m512 lo = _mm512_set1_ps(-0.25f), hi = _mm512_set1_ps(255.25f), tol = _mm512_set1_ps(0.25f);
    for (int q = 0; q < g->groups; q++) {
        uint32_t *d = dst + IGUARD + (size_t)q * g->plane + (g->kh / 2) * g->w;
        const float *s[4];
        __m512 inv[4], off[4];
        for (int k = 0; k < 4; k++) {
            int c = 4 * q + k;
            s[k] = c < g->cin ? x + ((size_t)c * ntotal + n) * hw : NULL;
            inv[k] = _mm512_set1_ps(c < g->cin ? 1.0f / scale[c] : 0.0f);
            off[k] = _mm512_set1_ps(c < g->cin ? offset[c] : 0.0f);
        }
        for (size_t i = 0; i < hw; i += 16) {
            __m512i word = _mm512_setzero_si512();
            for (int k = 0; k < 4; k++) {
                if (!s[k]) continue;
                __m512 f = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(s[k] + i), off[k]), inv[k]);
                __m512 r = _mm512_roundscale_ps(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
                bad |= _mm512_cmp_ps_mask(f, lo, _CMP_NGE_UQ) | _mm512_cmp_ps_mask(f, hi, _CMP_NLE_UQ)
                     | _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(f, r)), tol, _CMP_NLE_UQ);
                __m512i b = _mm512_max_epi32(_mm512_min_epi32(_mm512_cvtps_epi32(r), _mm512_set1_epi32(255)),
                                             _mm512_setzero_si512());
                word = _mm512_or_si512(word, _mm512_slli_epi32(b, 8 * k));
            }
            _mm512_storeu_si512((void *)(d + i), word);
        }
    }
    return bad ? -1 : 0;
}

// A quarter block of a plane 32 wide and a 3-wide kernel: 4 output channels × 64 pixels (two rows,
// four vectors, 16 accumulators), pre-pool values alpha·sum + beta (the per-pixel map), then the
// 2×2 max (and ReLU) into the 16 outputs of the pooled row, out[j·ld + 0..16). Only column 0
// (shift −1) and column 31 (shift +1) leave the row, so two constant masks do the padding.
I8_TARGET static inline __attribute__((always_inline)) void i8_w32_quarter(
    const uint32_t *p, const int32_t *rows, int nrows, size_t cs, const uint32_t *wt, float *out, size_t ld, int jn,
    const float *alpha, const float *beta, size_t bstride, int relu) {
    __m512i c[4][4];
#pragma clang loop unroll(full)
    for (int j = 0; j < 4; j++)
#pragma clang loop unroll(full)
        for (int v = 0; v < 4; v++) c[j][v] = _mm512_setzero_si512();
    for (int r = 0; r < nrows; r++) {
        const uint32_t *pr = p + rows[r];
        const uint32_t *wr = wt + (size_t)r * 3 * ICO;
#pragma clang loop unroll(full)
        for (int t = 0; t < 3; t++) {
            __m512i a[4];
#pragma clang loop unroll(full)
            for (int v = 0; v < 4; v++) a[v] = _mm512_loadu_si512((const void *)(pr + t * cs + 16 * v));
#pragma clang loop unroll(full)
            for (int j = 0; j < 4; j++) {
                __m512i b = _mm512_set1_epi32((int)wr[t * ICO + j]);
#pragma clang loop unroll(full)
                for (int v = 0; v < 4; v++) c[j][v] = _mm512_dpbusd_epi32(c[j][v], a[v], b);
            }
        }
    }
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
#pragma clang loop unroll(full)
    for (int j = 0; j < 4; j++) {
        if (j >= jn) continue;
        __m512 al = _mm512_set1_ps(alpha[j]);
        const float *bj = beta + (size_t)j * bstride;
        __m512 v0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(c[j][0]), al, _mm512_loadu_ps(bj));
        __m512 v1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(c[j][1]), al, _mm512_loadu_ps(bj + 16));
        __m512 v2 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(c[j][2]), al, _mm512_loadu_ps(bj + 32));
        __m512 v3 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(c[j][3]), al, _mm512_loadu_ps(bj + 48));
        __m512 m0 = _mm512_max_ps(v0, v2), m1 = _mm512_max_ps(v1, v3);   // rows y, y + 1: columns 0–15, 16–31
        __m512 m = _mm512_max_ps(_mm512_permutex2var_ps(m0, even, m1), _mm512_permutex2var_ps(m0, odd, m1));
        if (relu) m = _mm512_max_ps(m, _mm512_setzero_ps());
        _mm512_storeu_ps(out + (size_t)j * ld, m);
    }
}

I8_TARGET static void i8_w32_quarter_relu(const uint32_t *p, const int32_t *rows, int nrows, size_t cs, const uint32_t *wt,
                                          float *out, size_t ld, int jn, const float *alpha, const float *beta, size_t bstride) {
    i8_w32_quarter(p, rows, nrows, cs, wt, out, ld, jn, alpha, beta, bstride, 1);
}

I8_TARGET static void i8_w32_quarter_plain(const uint32_t *p, const int32_t *rows, int nrows, size_t cs, const uint32_t *wt,
                                           float *out, size_t ld, int jn, const float *alpha, const float *beta, size_t bstride) {
    i8_w32_quarter(p, rows, nrows, cs, wt, out, ld, jn, alpha, beta, bstride, 0);
}

static __thread void *i_beta = NULL;
static __thread size_t i_beta_cap = 0;

I8_TARGET int lfosa_i8_conv_pixels_pool_forward(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                                const float *x, int n0, int n1, const uint32_t *wt, const float *ws,
                                                const float *bias_map, const float *in_scale, const float *in_offset,
                                                const float *scale, const float *shift, int relu, float *out) {
    if (n1 <= n0) return 0;
    if (w != 32 || kw != 3 || h % 2) return 1;
    i8_geom g = i8_geometry(cout, cin, kh, kw, h, w);
    int cob = (cout + ICO - 1) / ICO, blocks = g.hw / 64;
    size_t cs = (size_t)g.image;   // one copy of the planes per kernel column
    uint32_t *planes = reserve_bytes(&i_planes, &i_planes_cap, sizeof(uint32_t) * cs * 3);
    int32_t *rows = reserve_bytes(&i_table, &i_table_cap, sizeof(int32_t) * (size_t)g.nrows);
    float *alpha = reserve_bytes(&i_wscale, &i_wscale_cap, sizeof(float) * (size_t)cob * ICO);
    float *beta = reserve_bytes(&i_beta, &i_beta_cap, sizeof(float) * (size_t)cout * g.hw);
    if (!planes || !rows || !alpha || !beta) abort();
    for (int r = 0; r < g.nrows; r++) rows[r] = (r / kh) * g.plane + (r % kh - kh / 2) * w;
    for (int co = 0; co < cout; co++) {
        alpha[co] = scale[co] * ws[co];
        for (int k = 0; k < g.hw; k++) beta[(size_t)co * g.hw + k] = scale[co] * bias_map[(size_t)co * g.hw + k] + shift[co];
    }
    // lanes of vector v (pixels 16v …) whose column shifted by t − 1 is inside the row
    __mmask16 mk[4 * 3];
    for (int t = 0; t < 3; t++)
        for (int v = 0; v < 4; v++) {
            unsigned bits = 0;
            for (int l = 0; l < 16; l++) {
                int xx = (16 * v + l) % w + t - 1;
                if (xx >= 0 && xx < w) bits |= 1u << l;
            }
            mk[4 * t + v] = (__mmask16)bits;
        }
    const uint32_t *p0 = planes + IGUARD + (kh / 2) * w;   // copy 0
    size_t opl = (size_t)g.hw / 4, ld = (size_t)ntotal * opl;
    memset(planes, 0, sizeof(uint32_t) * cs * 3);
    for (int n = n0; n < n1; n++) {
        if (i8_fill_pixels(&g, x, ntotal, n, in_scale, in_offset, planes + cs) < 0) return 1;
        i8_shift_copies(&g, planes, cs, mk, 4);
        float *on = out + (size_t)n * opl;
        for (int cb = 0; cb < cob; cb++)
            for (int half = 0; half < 2; half++) {
                int c0 = cb * ICO + 4 * half, jn = cout - c0 < 4 ? cout - c0 : 4;
                if (jn <= 0) break;
                const uint32_t *wb = wt + (size_t)cb * g.nrows * kw * ICO + 4 * half;
                for (int b = 0; b < blocks; b++) {
                    float *ob = on + (size_t)c0 * ld + 16 * b;
                    const float *bb = beta + (size_t)c0 * g.hw + 64 * b;
                    if (relu) i8_w32_quarter_relu(p0 + 64 * b, rows, g.nrows, cs, wb, ob, ld, jn, alpha + c0, bb, (size_t)g.hw);
                    else i8_w32_quarter_plain(p0 + 64 * b, rows, g.nrows, cs, wb, ob, ld, jn, alpha + c0, bb, (size_t)g.hw);
                }
            }
    }
    return 0;
}

#else
int lfosa_avx512_vnni_available(void) { return 0; }
int lfosa_i8_conv_same_pool_supported(int cin, int h, int w, int kh, int kw) {
    (void)cin; (void)h; (void)w; (void)kh; (void)kw;
    return 0;
}
int lfosa_i8_conv_same_pool_forward(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                    const float *x, int n0, int n1, const uint32_t *packed, const float *wscale,
                                    const float *scale, const float *shift, int relu, float *out) {
    (void)cout; (void)cin; (void)kh; (void)kw; (void)ntotal; (void)h; (void)w; (void)x; (void)n0; (void)n1;
    (void)packed; (void)wscale; (void)scale; (void)shift; (void)relu; (void)out;
    abort();
}
int lfosa_i8_conv_pixels_pool_supported(int cin, int h, int w, int kh, int kw) {
    (void)cin; (void)h; (void)w; (void)kh; (void)kw;
    return 0;
}
int lfosa_i8_conv_pixels_pool_forward(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                      const float *x, int n0, int n1, const uint32_t *wt, const float *ws,
                                      const float *bias_map, const float *in_scale, const float *in_offset,
                                      const float *scale, const float *shift, int relu, float *out) {
    (void)cout; (void)cin; (void)kh; (void)kw; (void)ntotal; (void)h; (void)w; (void)x; (void)n0; (void)n1; (void)wt;
    (void)ws; (void)bias_map; (void)in_scale; (void)in_offset; (void)scale; (void)shift; (void)relu; (void)out;
    abort();
}
#endif
