// "Same" convolution with bfloat16 products summed in float32 (AVX512-BF16's vdpbf16ps), for
// CPUs that have it but neither AMX nor AVX512-FP16 (AMD Zen 4): training's forward pass and
// input gradient under `TrainingPrecision.bfloat16`.
//
// vdpbf16ps adds to each float32 lane the two products of the bfloat16 pairs in that lane's 32
// bits. The pairs here are input channels: each image is copied once into "pair planes" of 32-bit
// words, word q of pair plane p holding pixel q of channels 2p (low half) and 2p + 1 (high half),
// rounded to bfloat16, with kh/2 zero rows above and below (a missing channel 2p + 1 is zero). The
// weights are paired the same way and broadcast as words. Otherwise the layout of f16_conv.c: output
// pixel q and kernel offset (i, j) read the pair plane at the constant shift q + (i − kh/2)·w +
// (j − kw/2); one copy of the pair planes per kernel column j, shifted and with the lanes outside
// the row zeroed, so the inner loop reads whole unmasked vectors. A block is 8 output channels ×
// 32 pixels (16 zmm float32 accumulators): per pair row and column, two loads and eight broadcasts
// feed 16 vdpbf16ps of 32 products each — twice float32's products per instruction. The sums
// are float32 throughout (no flushes, no scaling: bfloat16 has float32's exponent range), so an
// output is the float32 sum of products of bfloat16-rounded inputs and weights. A non-finite
// output is reported, and the caller redoes the layer in float32.
#include "lfosa_kernels.h"
#include "kernel_buffers.h"
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

#define BF_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,fma")))

enum { BCO = 8, BGUARD = 64 };

static pthread_once_t dpbf16_once = PTHREAD_ONCE_INIT;
static int dpbf16_ok = 0;

static void dpbf16_probe(void) {
    if (!lfosa_avx512_available()) return;   // AVX-512 state enabled by the OS
    unsigned int a, b, c, d;
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return;
    dpbf16_ok = (a >> 5) & 1;                // AVX512-BF16
}

int lfosa_avx512_bf16_available(void) {
    pthread_once(&dpbf16_once, dpbf16_probe);
    return dpbf16_ok;
}

static __thread void *b_planes = NULL, *b_weights = NULL, *b_table = NULL, *b_masks = NULL;
static __thread size_t b_planes_cap = 0, b_weights_cap = 0, b_table_cap = 0, b_masks_cap = 0;

typedef struct {
    int cin, pairs, cout, kh, kw, h, w;
    int hw, blocks;   // pixels, 32-pixel blocks
    int plane;        // words between pair planes ((h + kh − 1)·w, rounded up to 16)
    int image;        // words of one image's pair planes, guards included
} bf_geom;

static bf_geom bf_geometry(int cout, int cin, int kh, int kw, int h, int w) {
    bf_geom g;
    g.cin = cin; g.pairs = (cin + 1) / 2; g.cout = cout; g.kh = kh; g.kw = kw; g.h = h; g.w = w;
    g.hw = h * w;
    g.blocks = (g.hw + 31) / 32;
    g.plane = ((h + kh - 1) * w + 15) / 16 * 16;
    // a block's loads reach 32 words past its start + the largest shift (tail lanes never stored)
    g.image = BGUARD + g.pairs * g.plane + 32 + (kh - 1) * w + kw + BGUARD;
    g.image = (g.image + 15) / 16 * 16;
    return g;
}

int lfosa_dpbf16_conv_same_supported(int h, int w, int kh, int kw) {
    return lfosa_avx512_bf16_available() && (kh & 1) && (kw & 1) && kh <= 31 && kw <= 5 && h > 0 && w > 0;
}

// masks[j·chunks + c]: lanes of the 16-pixel chunk c whose pixel is in the image and whose column
// shifted by j − kw/2 is inside the row.
static uint16_t *bf_masks_table(const bf_geom *g) {
    int chunks = (g->hw + 15) / 16;
    uint16_t *m = reserve_bytes(&b_masks, &b_masks_cap, sizeof(uint16_t) * (size_t)chunks * g->kw);
    if (!m) return NULL;
    for (int j = 0; j < g->kw; j++)
        for (int c = 0; c < chunks; c++) {
            uint16_t bits = 0;
            for (int l = 0; l < 16; l++) {
                int q = 16 * c + l, x = q % g->w + j - g->kw / 2;
                if (q < g->hw && x >= 0 && x < g->w) bits |= (uint16_t)(1u << l);
            }
            m[j * chunks + c] = bits;
        }
    return m;
}

// Image n of x [cin, ntotal, h, w] → the centre copy's pair planes (first pixel of pair plane p at
// p·plane + kh/2·w, after BGUARD words; the padding rows and guards stay zero).
BF_TARGET static void bf_fill(const bf_geom *g, const float *x, int ntotal, int n, uint32_t *dst) {
    size_t hw = (size_t)g->hw;
    for (int p = 0; p < g->pairs; p++) {
        const float *lo = x + ((size_t)(2 * p) * ntotal + n) * hw;
        const float *hi = 2 * p + 1 < g->cin ? x + ((size_t)(2 * p + 1) * ntotal + n) * hw : NULL;
        uint32_t *d = dst + BGUARD + (size_t)p * g->plane + (size_t)(g->kh / 2) * g->w;
        for (size_t i = 0; i < hw; i += 16) {
            __mmask16 m = hw - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (hw - i)) - 1);
            __m512i l = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, lo + i)));
            __m512i word = l;
            if (hi) {
                __m512i u = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, hi + i)));
                word = _mm512_or_si512(l, _mm512_slli_epi32(u, 16));
            }
            _mm512_mask_storeu_epi32(d + i, m, word);
        }
    }
}

// The pair planes shifted by each kernel column: copy j (`cs` words after copy j − 1) holds, at
// pixel i, the word of pixel i + j − kw/2 when that column is inside the row (and i inside the
// image), 0 otherwise; the centre copy is the planes themselves.
BF_TARGET static void bf_shift_copies(const bf_geom *g, uint32_t *copy0, size_t cs, const uint16_t *masks) {
    int chunks = (g->hw + 15) / 16;
    const uint32_t *centre = copy0 + (size_t)(g->kw / 2) * cs;
    for (int j = 0; j < g->kw; j++) {
        if (j == g->kw / 2) continue;
        uint32_t *dst = copy0 + (size_t)j * cs;
        for (int p = 0; p < g->pairs; p++) {
            size_t base = BGUARD + (size_t)p * g->plane + (size_t)(g->kh / 2) * g->w;
            for (int k = 0; k < chunks; k++)
                _mm512_storeu_si512((void *)(dst + base + 16 * k),
                                    _mm512_maskz_loadu_epi32(masks[j * chunks + k], centre + base + 16 * k + j - g->kw / 2));
        }
    }
}

// One block: out[j·ldc + q0 + …] (32 pixels, stored where keep) = Σ over pair rows r (shift
// rows[r]) and columns t of the pair dot products.
BF_TARGET static inline __attribute__((always_inline)) void bf_block_body(const uint32_t *p, const int32_t *rows, int nrows,
                                                                int kw, size_t cs, const uint32_t *w, float *out,
                                                                size_t ldc, int jn, __mmask16 keep0, __mmask16 keep1,
                                                                __mmask16 *bad) {
    __m512 c0[BCO], c1[BCO];
    for (int j = 0; j < BCO; j++) { c0[j] = _mm512_setzero_ps(); c1[j] = _mm512_setzero_ps(); }
    for (int r = 0; r < nrows; r++) {
        const uint32_t *pr = p + rows[r];
        const uint32_t *wr = w + (size_t)r * kw * BCO;
        for (int t = 0; t < kw; t++) {
            __m512bh a0 = (__m512bh)_mm512_loadu_si512((const void *)(pr + t * cs));
            __m512bh a1 = (__m512bh)_mm512_loadu_si512((const void *)(pr + t * cs + 16));
            const uint32_t *wk = wr + t * BCO;
            for (int j = 0; j < BCO; j++) {
                __m512bh b = (__m512bh)_mm512_set1_epi32((int)wk[j]);
                c0[j] = _mm512_dpbf16_ps(c0[j], a0, b);
                c1[j] = _mm512_dpbf16_ps(c1[j], a1, b);
            }
        }
    }
    for (int j = 0; j < jn; j++) {
        __m512 d0 = _mm512_sub_ps(c0[j], c0[j]), d1 = _mm512_sub_ps(c1[j], c1[j]);   // NaN where not finite
        *bad |= _mm512_mask_cmp_ps_mask(keep0, d0, d0, _CMP_UNORD_Q) | _mm512_mask_cmp_ps_mask(keep1, d1, d1, _CMP_UNORD_Q);
        _mm512_mask_storeu_ps(out + (size_t)j * ldc, keep0, c0[j]);
        _mm512_mask_storeu_ps(out + (size_t)j * ldc + 16, keep1, c1[j]);
    }
}

BF_TARGET static void bf_block_3(const uint32_t *p, const int32_t *rows, int nrows, size_t cs, const uint32_t *w,
                                 float *out, size_t ldc, int jn, __mmask16 keep0, __mmask16 keep1, __mmask16 *bad) {
    bf_block_body(p, rows, nrows, 3, cs, w, out, ldc, jn, keep0, keep1, bad);
}

BF_TARGET static void bf_block_any(const uint32_t *p, const int32_t *rows, int nrows, int kw, size_t cs,
                                   const uint32_t *w, float *out, size_t ldc, int jn, __mmask16 keep0, __mmask16 keep1,
                                   __mmask16 *bad) {
    bf_block_body(p, rows, nrows, kw, cs, w, out, ldc, jn, keep0, keep1, bad);
}

static uint32_t bf16_bits(float v) {   // round to nearest even (finite inputs), as vcvtneps2bf16
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    if ((u & 0x7F800000u) == 0x7F800000u) return (u >> 16) | ((u & 0xFFFFu) ? 0x40u : 0u);   // inf / NaN
    u += 0x7FFFu + ((u >> 16) & 1u);
    return u >> 16;
}

BF_TARGET int lfosa_dpbf16_conv_same_forward(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                             const float *x, int n0, int n1, const float *weight, float *out, int ldc) {
    if (n1 <= n0) return 0;
    __mmask16 bad = 0;
    bf_geom g = bf_geometry(cout, cin, kh, kw, h, w);
    int cob = (cout + BCO - 1) / BCO;
    int nrows = g.pairs * kh, k = cin * kh * kw;
    // weight [cout, cin, kh, kw] → words [cob][pair row (p, i)][j][BCO]: channels 2p (low) and 2p + 1
    uint32_t *pw = reserve_bytes(&b_weights, &b_weights_cap, sizeof(uint32_t) * (size_t)cob * nrows * kw * BCO);
    size_t cs = (size_t)g.image;   // one copy of the pair planes per kernel column
    uint32_t *planes = reserve_bytes(&b_planes, &b_planes_cap, sizeof(uint32_t) * cs * kw);
    int32_t *rows = reserve_bytes(&b_table, &b_table_cap, sizeof(int32_t) * (size_t)nrows);
    uint16_t *masks = bf_masks_table(&g);
    if (!pw || !planes || !rows || !masks) abort();
    for (int r = 0; r < nrows; r++) rows[r] = (r / kh) * g.plane + (r % kh - kh / 2) * w;
    for (int cb = 0; cb < cob; cb++)
        for (int r = 0; r < nrows; r++)
            for (int t = 0; t < kw; t++)
                for (int j = 0; j < BCO; j++) {
                    int co = cb * BCO + j, p = r / kh, i = r % kh;
                    uint32_t lo = 0, hi = 0;
                    if (co < cout) {
                        lo = bf16_bits(weight[(size_t)co * k + ((size_t)(2 * p) * kh + i) * kw + t]);
                        if (2 * p + 1 < cin) hi = bf16_bits(weight[(size_t)co * k + ((size_t)(2 * p + 1) * kh + i) * kw + t]);
                    }
                    pw[(((size_t)cb * nrows + r) * kw + t) * BCO + j] = lo | (hi << 16);
                }
    const uint32_t *p0 = planes + BGUARD + (size_t)(kh / 2) * w;   // copy 0
    memset(planes, 0, sizeof(uint32_t) * cs * kw);
    for (int n = n0; n < n1; n++) {
        bf_fill(&g, x, ntotal, n, planes + (size_t)(kw / 2) * cs);
        bf_shift_copies(&g, planes, cs, masks);
        float *on = out + (size_t)n * g.hw;
        for (int cb = 0; cb < cob; cb++) {
            const uint32_t *wb = pw + (size_t)cb * nrows * kw * BCO;
            int jn = cout - cb * BCO < BCO ? cout - cb * BCO : BCO;
            for (int b = 0; b < g.blocks; b++) {
                int rest = g.hw - 32 * b;
                __mmask16 keep0 = rest >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rest) - 1);
                __mmask16 keep1 = rest >= 32 ? (__mmask16)0xFFFF : rest <= 16 ? (__mmask16)0 : (__mmask16)((1u << (rest - 16)) - 1);
                float *ob = on + (size_t)cb * BCO * ldc + 32 * b;
                if (kw == 3) bf_block_3(p0 + 32 * b, rows, nrows, cs, wb, ob, (size_t)ldc, jn, keep0, keep1, &bad);
                else bf_block_any(p0 + 32 * b, rows, nrows, kw, cs, wb, ob, (size_t)ldc, jn, keep0, keep1, &bad);
            }
        }
    }
    return bad != 0;
}

#else
int lfosa_avx512_bf16_available(void) { return 0; }
int lfosa_dpbf16_conv_same_supported(int h, int w, int kh, int kw) { (void)h; (void)w; (void)kh; (void)kw; return 0; }
int lfosa_dpbf16_conv_same_forward(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                   const float *x, int n0, int n1, const float *weight, float *out, int ldc) {
    (void)cout; (void)cin; (void)kh; (void)kw; (void)ntotal; (void)h; (void)w; (void)x; (void)n0; (void)n1;
    (void)weight; (void)out; (void)ldc;
    abort();
}
#endif
