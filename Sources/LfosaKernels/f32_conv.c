// float32 "same" convolutions as implicit GEMMs on AVX-512 FMA (see include/lfosa_kernels.h).
//
// Each image is copied once into planes of its own width w with kh/2 zero rows above and below,
// so that output pixel q = y·w + x and kernel offset (i, j) read the plane at the constant shift
// q + (i − kh/2)·w + (j − kw/2): 16 consecutive q are 16 consecutive floats of a plane for every
// offset. The horizontal zero padding is a lane mask instead of memory: lanes whose column
// x + j − kw/2 falls outside [0, w) are masked off in the load (zero). The masks depend only on
// the block's position in the image and j, so one table per call serves every image. Nothing is
// unfolded, no padding pixel is computed, and results are stored straight into the output map.
//
// Forward (and input gradient): 8 output channels × 32 pixels per block (16 zmm accumulators);
// per k = (channel, offset) two masked loads and eight weight broadcasts feed 16 FMAs.
// Weight gradient: dw[co][k] = Σ g[co][q] · shifted plane[k][q] — a dot product along q, so
// blocks of 4 output channels × (2 kernel rows × 3 columns for 3-wide kernels, else 1 row × kw)
// keep vector partial sums over all pixels of a chunk of the call's images (planes ≤ 512 KiB)
// and reduce them once per chunk.
// Sums run in another order than the unfolded product (FMA-fused, per-lane partial sums for the
// weight gradient), so results agree with unfolding + sgemm to float32 rounding, not bit for bit.
#include "lfosa_kernels.h"
#include "kernel_buffers.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define F32_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,fma")))

enum { NCO = 8, GUARD = 64 };

static __thread void *f32_planes = NULL, *f32_weights = NULL, *f32_table = NULL, *f32_masks = NULL;
static __thread size_t f32_planes_cap = 0, f32_weights_cap = 0, f32_table_cap = 0, f32_masks_cap = 0;

typedef struct {
    int cin, cout, kh, kw, h, w;
    int k, offsets;   // cin·kh·kw, kh·kw
    int hw, blocks;   // pixels, 32-pixel blocks
    int plane;        // floats between planes ((h + kh − 1)·w, rounded up to 16)
    int image;        // floats of one image's planes, guards included
} f32_geom;

static f32_geom f32_geometry(int cout, int cin, int kh, int kw, int h, int w) {
    f32_geom g;
    g.cin = cin; g.cout = cout; g.kh = kh; g.kw = kw; g.h = h; g.w = w;
    g.offsets = kh * kw;
    g.k = cin * g.offsets;
    g.hw = h * w;
    g.blocks = (g.hw + 31) / 32;
    g.plane = ((h + kh - 1) * w + 15) / 16 * 16;
    // a block's loads reach 32 floats past its start + the largest shift; the tail block reads
    // past the last row (into the next plane or the trailing guard; those lanes are never stored)
    g.image = GUARD + cin * g.plane + 32 + (kh - 1) * w + kw + GUARD;
    g.image = (g.image + 15) / 16 * 16;
    return g;
}

int lfosa_f32_conv_same_supported(int h, int w, int kh, int kw) {
    return lfosa_avx512_available() && (kh & 1) && (kw & 1) && kh <= 31 && kw <= 5 && h > 0 && w > 0;
}

// Shift of kernel row r = (ci, i) (its centre column) from a pixel's position in its plane.
static int32_t *f32_rows(const f32_geom *g) {
    int nrows = g->cin * g->kh;
    int32_t *t = reserve_bytes(&f32_table, &f32_table_cap, sizeof(int32_t) * (size_t)nrows);
    if (!t) return NULL;
    for (int r = 0; r < nrows; r++) t[r] = (r / g->kh) * g->plane + (r % g->kh - g->kh / 2) * g->w;
    return t;
}

// masks[(b·kw + j)·2 + v]: lanes of vector v of block b whose pixel is in the image and whose
// column shifted by j − kw/2 is inside the row.
static uint16_t *f32_masks_table(const f32_geom *g) {
    uint16_t *m = reserve_bytes(&f32_masks, &f32_masks_cap, sizeof(uint16_t) * (size_t)g->blocks * g->kw * 2);
    if (!m) return NULL;
    for (int b = 0; b < g->blocks; b++)
        for (int j = 0; j < g->kw; j++)
            for (int v = 0; v < 2; v++) {
                unsigned bits = 0;
                for (int l = 0; l < 16; l++) {
                    int q = 32 * b + 16 * v + l, x = q % g->w + j - g->kw / 2;
                    if (q < g->hw && x >= 0 && x < g->w) bits |= 1u << l;
                }
                m[(b * g->kw + j) * 2 + v] = (uint16_t)bits;
            }
    return m;
}

// Image n of x [cin, ntotal, h, w] → planes (first pixel of plane c at c·plane + kh/2·w, after
// GUARD floats); `clear` zeroes the padding rows and guards (later images of a call write only
// the pixels).
F32_TARGET static void f32_fill(const f32_geom *g, const float *x, int ntotal, int n, float *dst, int clear) {
    size_t hw = (size_t)g->hw;
    if (clear) memset(dst, 0, sizeof(float) * (size_t)g->image);
    for (int c = 0; c < g->cin; c++)
        memcpy(dst + GUARD + (size_t)c * g->plane + (g->kh / 2) * g->w, x + ((size_t)c * ntotal + n) * hw,
               sizeof(float) * hw);
}

// out[j·ldc + q0 + …] (32 pixels, stored where `keep`) = Σ_k w[k][j] · masked plane[q0 + shift_k],
// walked by rows r = (ci, i) of the kernel (shift rows[r]) and their kw columns. `mb`: the block's
// masks [kw][2]. Inlined into a kw = 3 version (masks held in mask registers) and a general one.
F32_TARGET static inline __attribute__((always_inline)) void f32_block_body(const float *p, const int32_t *rows, int nrows, int kw,
                                                                 const uint16_t *mb, const float *w, float *out, size_t ldc,
                                                                 int jn, __mmask16 keep0, __mmask16 keep1) {
    __m512 c0[NCO], c1[NCO];
    for (int j = 0; j < NCO; j++) { c0[j] = _mm512_setzero_ps(); c1[j] = _mm512_setzero_ps(); }
    for (int r = 0; r < nrows; r++) {
        const float *pr = p + rows[r] - kw / 2;
        const float *wr = w + (size_t)r * kw * NCO;
        for (int t = 0; t < kw; t++) {
            __m512 a0 = _mm512_maskz_loadu_ps(mb[2 * t], pr + t), a1 = _mm512_maskz_loadu_ps(mb[2 * t + 1], pr + t + 16);
            const float *wk = wr + t * NCO;
            for (int j = 0; j < NCO; j++) {
                __m512 b = _mm512_set1_ps(wk[j]);
                c0[j] = _mm512_fmadd_ps(a0, b, c0[j]);
                c1[j] = _mm512_fmadd_ps(a1, b, c1[j]);
            }
        }
    }
    for (int j = 0; j < jn; j++) {
        _mm512_mask_storeu_ps(out + (size_t)j * ldc, keep0, c0[j]);
        _mm512_mask_storeu_ps(out + (size_t)j * ldc + 16, keep1, c1[j]);
    }
}

F32_TARGET static void f32_block_3(const float *p, const int32_t *rows, int nrows, const uint16_t *mb, const float *w,
                                   float *out, size_t ldc, int jn, __mmask16 keep0, __mmask16 keep1) {
    f32_block_body(p, rows, nrows, 3, mb, w, out, ldc, jn, keep0, keep1);
}

F32_TARGET static void f32_block_any(const float *p, const int32_t *rows, int nrows, int kw, const uint16_t *mb,
                                     const float *w, float *out, size_t ldc, int jn, __mmask16 keep0, __mmask16 keep1) {
    f32_block_body(p, rows, nrows, kw, mb, w, out, ldc, jn, keep0, keep1);
}

void lfosa_f32_conv_same_forward(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                 const float *x, int n0, int n1, const float *weight, float *out, int ldc) {
    if (n1 <= n0) return;
    f32_geom g = f32_geometry(cout, cin, kh, kw, h, w);
    int cob = (cout + NCO - 1) / NCO;
    float *pw = reserve_bytes(&f32_weights, &f32_weights_cap, sizeof(float) * (size_t)cob * g.k * NCO);
    float *planes = reserve_bytes(&f32_planes, &f32_planes_cap, sizeof(float) * (size_t)g.image);
    int32_t *rows = f32_rows(&g);
    uint16_t *masks = f32_masks_table(&g);
    if (!pw || !planes || !rows || !masks) abort();
    // weight [cout, k] → [cob][k][NCO], zero rows past cout
    for (int cb = 0; cb < cob; cb++)
        for (int k = 0; k < g.k; k++)
            for (int j = 0; j < NCO; j++) {
                int co = cb * NCO + j;
                pw[((size_t)cb * g.k + k) * NCO + j] = co < cout ? weight[(size_t)co * g.k + k] : 0.0f;
            }
    const float *p0 = planes + GUARD + (g.kh / 2) * w;
    for (int n = n0; n < n1; n++) {
        f32_fill(&g, x, ntotal, n, planes, n == n0);
        float *on = out + (size_t)n * g.hw;
        for (int cb = 0; cb < cob; cb++) {
            const float *wb = pw + (size_t)cb * g.k * NCO;
            int jn = cout - cb * NCO < NCO ? cout - cb * NCO : NCO;
            for (int b = 0; b < g.blocks; b++) {
                int rest = g.hw - 32 * b;
                __mmask16 keep0 = rest >= 16 ? 0xFFFF : (__mmask16)((1u << rest) - 1);
                __mmask16 keep1 = rest >= 32 ? 0xFFFF : rest <= 16 ? 0 : (__mmask16)((1u << (rest - 16)) - 1);
                const uint16_t *mb = masks + (size_t)b * kw * 2;
                float *ob = on + (size_t)cb * NCO * ldc + 32 * b;
                if (kw == 3) f32_block_3(p0 + 32 * b, rows, cin * kh, mb, wb, ob, (size_t)ldc, jn, keep0, keep1);
                else f32_block_any(p0 + 32 * b, rows, cin * kh, kw, mb, wb, ob, (size_t)ldc, jn, keep0, keep1);
            }
        }
    }
}

enum { WCO = 4, WK = 6 };

// acc[i][r·kw + t] += Σ over 16 pixels of g_i[q] · masked plane[q + rows r shift + t − kw/2].
#define F32_WGRAD_VECTOR(V, KEEP)                                                                            \
    {                                                                                                        \
        __m512 gv[WCO];                                                                                      \
        for (int i = 0; i < WCO; i++) gv[i] = _mm512_maskz_loadu_ps(KEEP, gr[i] + q + 16 * (V));      \
        for (int r = 0; r < nr; r++)                                                                  \
            for (int t = 0; t < kw; t++) {                                                            \
                __m512 a = _mm512_maskz_loadu_ps(mb[2 * t + (V)], pr[r] + t + q + 16 * (V));                 \
                for (int i = 0; i < WCO; i++)                                                         \
                    acc[i][r * kw + t] = _mm512_fmadd_ps(gv[i], a, acc[i][r * kw + t]);                      \
            }                                                                                                \
    }

// Partial sums over one chunk of images for output channels co[0..WCO) × kernel rows
// shift[0..nr) × their kw columns (nr·kw ≤ WK): planes of image c at planes + c·g->image, g rows
// at grows[i] + c·hw. The general kernel (1 row, kw ≤ WK); kw = 3 has its own (below).
F32_TARGET static inline __attribute__((always_inline)) void f32_wgrad_body(const f32_geom *g, const float *planes, int images,
                                                                 const float *const *grows, const int32_t *shift, int nr,
                                                                 int kw, const uint16_t *masks, float sums[WCO][WK]) {
    __m512 acc[WCO][WK];
    for (int i = 0; i < WCO; i++)
        for (int t = 0; t < WK; t++) acc[i][t] = _mm512_setzero_ps();
    for (int c = 0; c < images; c++) {
        const float *p = planes + (size_t)c * g->image + GUARD + (g->kh / 2) * g->w - kw / 2;
        const float *gr[WCO], *pr[WK];
        for (int i = 0; i < WCO; i++) gr[i] = grows[i] + (size_t)c * g->hw;
        for (int r = 0; r < nr; r++) pr[r] = p + shift[r];
        int full = g->hw / 32;                       // whole blocks; then a partial one, if any
        for (int b = 0; b < full; b++) {
            int q = 32 * b;
            const uint16_t *mb = masks + (size_t)b * kw * 2;
            F32_WGRAD_VECTOR(0, 0xFFFF)
            F32_WGRAD_VECTOR(1, 0xFFFF)
        }
        if (full < g->blocks) {
            int q = 32 * full, rest = g->hw - q;     // 1 ≤ rest < 32; lanes past it load 0
            __mmask16 keep0 = rest >= 16 ? 0xFFFF : (__mmask16)((1u << rest) - 1);
            __mmask16 keep1 = rest <= 16 ? 0 : (__mmask16)((1u << (rest - 16)) - 1);
            const uint16_t *mb = masks + (size_t)full * kw * 2;
            F32_WGRAD_VECTOR(0, keep0)
            F32_WGRAD_VECTOR(1, keep1)
        }
    }
    for (int i = 0; i < WCO; i++)
        for (int t = 0; t < nr * kw; t++) sums[i][t] = _mm512_reduce_add_ps(acc[i][t]);
}

// The kw = 3 case (2 kernel rows × 3 columns per block) written out: with the loops above,
// clang keeps the 24 accumulators in memory.
#define W3_FMA(X, A)                                                                                         \
    a0##X = _mm512_fmadd_ps(g0, A, a0##X); a1##X = _mm512_fmadd_ps(g1, A, a1##X);                            \
    a2##X = _mm512_fmadd_ps(g2, A, a2##X); a3##X = _mm512_fmadd_ps(g3, A, a3##X);
#define W3_VECTOR(OFF, KEEP, M0, M1, M2)                                                                     \
    {                                                                                                        \
        __m512 g0 = _mm512_maskz_loadu_ps(KEEP, g0p + (OFF)), g1 = _mm512_maskz_loadu_ps(KEEP, g1p + (OFF));  \
        __m512 g2 = _mm512_maskz_loadu_ps(KEEP, g2p + (OFF)), g3 = _mm512_maskz_loadu_ps(KEEP, g3p + (OFF));  \
        W3_FMA(0, _mm512_maskz_loadu_ps(M0, p0 + (OFF)))                                                     \
        W3_FMA(1, _mm512_maskz_loadu_ps(M1, p0 + (OFF) + 1))                                                 \
        W3_FMA(2, _mm512_maskz_loadu_ps(M2, p0 + (OFF) + 2))                                                 \
        W3_FMA(3, _mm512_maskz_loadu_ps(M0, p1 + (OFF)))                                                     \
        W3_FMA(4, _mm512_maskz_loadu_ps(M1, p1 + (OFF) + 1))                                                 \
        W3_FMA(5, _mm512_maskz_loadu_ps(M2, p1 + (OFF) + 2))                                                 \
    }
#define W3_ACC(i) __m512 a##i##0 = _mm512_setzero_ps(), a##i##1 = a##i##0, a##i##2 = a##i##0, a##i##3 = a##i##0, \
                         a##i##4 = a##i##0, a##i##5 = a##i##0;
#define W3_SUM(i) sums[i][0] = _mm512_reduce_add_ps(a##i##0); sums[i][1] = _mm512_reduce_add_ps(a##i##1);       \
                  sums[i][2] = _mm512_reduce_add_ps(a##i##2); sums[i][3] = _mm512_reduce_add_ps(a##i##3);       \
                  sums[i][4] = _mm512_reduce_add_ps(a##i##4); sums[i][5] = _mm512_reduce_add_ps(a##i##5);

F32_TARGET static void f32_wgrad_3(const f32_geom *g, const float *planes, int images, const float *const *grows,
                                   const int32_t *shift, const uint16_t *masks, float sums[WCO][WK]) {
    W3_ACC(0) W3_ACC(1) W3_ACC(2) W3_ACC(3)
    int full = g->hw / 32, hw = g->hw;
    for (int c = 0; c < images; c++) {
        const float *p = planes + (size_t)c * g->image + GUARD + (g->kh / 2) * g->w - 1;
        const float *p0 = p + shift[0], *p1 = p + shift[1];
        const float *g0p = grows[0] + (size_t)c * hw, *g1p = grows[1] + (size_t)c * hw;
        const float *g2p = grows[2] + (size_t)c * hw, *g3p = grows[3] + (size_t)c * hw;
        for (int b = 0; b < full; b++) {
            const uint16_t *mb = masks + (size_t)b * 6;
            int q = 32 * b;
            W3_VECTOR(q, 0xFFFF, mb[0], mb[2], mb[4])
            W3_VECTOR(q + 16, 0xFFFF, mb[1], mb[3], mb[5])
        }
        if (full < g->blocks) {
            const uint16_t *mb = masks + (size_t)full * 6;
            int q = 32 * full, rest = hw - q;     // 1 ≤ rest < 32; lanes past it load 0
            __mmask16 keep0 = rest >= 16 ? 0xFFFF : (__mmask16)((1u << rest) - 1);
            __mmask16 keep1 = rest <= 16 ? 0 : (__mmask16)((1u << (rest - 16)) - 1);
            W3_VECTOR(q, keep0, mb[0], mb[2], mb[4])
            W3_VECTOR(q + 16, keep1, mb[1], mb[3], mb[5])
        }
    }
    W3_SUM(0) W3_SUM(1) W3_SUM(2) W3_SUM(3)
}

F32_TARGET static void f32_wgrad_any(const f32_geom *g, const float *planes, int images, const float *const *grows,
                                     const int32_t *shift, int kw, const uint16_t *masks, float sums[WCO][WK]) {
    f32_wgrad_body(g, planes, images, grows, shift, 1, kw, masks, sums);
}

void lfosa_f32_conv_same_weight_gradient(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                         const float *x, int n0, int n1, const float *g, int ldg,
                                         float beta, float *dw) {
    f32_geom geo = f32_geometry(cout, cin, kh, kw, h, w);
    size_t count = (size_t)cout * geo.k;
    if (beta == 0) memset(dw, 0, sizeof(float) * count);
    else if (beta != 1) for (size_t i = 0; i < count; i++) dw[i] *= beta;
    if (n1 <= n0) return;
    // images per chunk: their planes stay within about 512 KiB (L2)
    int chunk = (int)((size_t)(512 << 10) / (sizeof(float) * (size_t)geo.image));
    if (chunk < 1) chunk = 1;
    if (chunk > n1 - n0) chunk = n1 - n0;
    float *planes = reserve_bytes(&f32_planes, &f32_planes_cap, sizeof(float) * (size_t)geo.image * chunk);
    int32_t *rows = f32_rows(&geo);
    uint16_t *masks = f32_masks_table(&geo);
    if (!planes || !rows || !masks) abort();
    int nrows = cin * kh, per = kw == 3 ? 2 : 1;                             // kernel rows per block
    for (int c0 = n0; c0 < n1; c0 += chunk) {
        int images = n1 - c0 < chunk ? n1 - c0 : chunk;
        for (int c = 0; c < images; c++)
            f32_fill(&geo, x, ntotal, c0 + c, planes + (size_t)c * geo.image, c0 == n0);
        for (int cb = 0; cb < cout; cb += WCO) {
            const float *grows[WCO];
            for (int i = 0; i < WCO; i++) {
                int co = cb + i < cout ? cb + i : cout - 1;                  // past cout: computed, dropped
                grows[i] = g + (size_t)co * ldg + (size_t)c0 * geo.hw;
            }
            for (int r0 = 0; r0 < nrows; r0 += per) {
                int32_t shift[2];
                for (int r = 0; r < per; r++) shift[r] = rows[r0 + r < nrows ? r0 + r : nrows - 1];
                float sums[WCO][WK];
                if (kw == 3) f32_wgrad_3(&geo, planes, images, grows, shift, masks, sums);
                else f32_wgrad_any(&geo, planes, images, grows, shift, kw, masks, sums);
                for (int i = 0; i < WCO && cb + i < cout; i++)
                    for (int r = 0; r < per && r0 + r < nrows; r++)
                        for (int t = 0; t < kw; t++) dw[(size_t)(cb + i) * geo.k + (size_t)(r0 + r) * kw + t] += sums[i][r * kw + t];
            }
        }
    }
}

#else
int lfosa_f32_conv_same_supported(int h, int w, int kh, int kw) { (void)h; (void)w; (void)kh; (void)kw; return 0; }
void lfosa_f32_conv_same_forward(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                 const float *x, int n0, int n1, const float *weight, float *out, int ldc) {
    (void)cout; (void)cin; (void)kh; (void)kw; (void)ntotal; (void)h; (void)w; (void)x; (void)n0; (void)n1;
    (void)weight; (void)out; (void)ldc;
    abort();
}
void lfosa_f32_conv_same_weight_gradient(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                         const float *x, int n0, int n1, const float *g, int ldg,
                                         float beta, float *dw) {
    (void)cout; (void)cin; (void)kh; (void)kw; (void)ntotal; (void)h; (void)w; (void)x; (void)n0; (void)n1;
    (void)g; (void)ldg; (void)beta; (void)dw;
    abort();
}
#endif
