// "Same" convolution with float16 products (AVX512-FP16), for CPUs that have it but no AMX (see
// include/lfosa_kernels.h): inference, and training's forward pass and input gradient under
// `TrainingPrecision.float16` (each image scaled by a power of two first, so that gradients far
// below float16's normal range keep their digits).
//
// The layout of f32_conv.c's forward kernel in half precision: each image is copied once into
// float16 planes of its own width with kh/2 zero rows above and below; output pixel q and kernel
// offset (i, j) read the plane at the constant shift q + (i − kh/2)·w + (j − kw/2), so 32
// consecutive pixels are one zmm of halves. The horizontal padding is done once per image: one
// copy of the planes per kernel column j, shifted by j − kw/2 with the lanes outside the row
// zeroed, so the inner loop reads whole unmasked vectors. A block is 8 output channels × 64
// pixels (16 zmm accumulators of 32 halves): per k two loads and eight broadcasts feed 16 fused multiply-adds of 32 lanes — twice float32's lanes per
// instruction. Half-precision sums lose digits as they grow, so every FLUSH kernel rows (FLUSH·kw
// products) the accumulators are widened to float32 and added into a float32 block in L1, which
// is stored at the end: each output is a float32 sum of float16 partial sums of at most FLUSH·kw
// products of float16-rounded inputs and weights. Values beyond float16's range (65504) would
// come out infinite: the kernel reports any non-finite output, and the caller redoes the layer in
// float32.
#include "lfosa_kernels.h"
#include "kernel_buffers.h"
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

#define F16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512fp16,fma,f16c")))

enum { HCO = 8, HGUARD = 128, FLUSH = 16 };

static pthread_once_t fp16_once = PTHREAD_ONCE_INIT;
static int fp16_ok = 0;

static void fp16_probe(void) {
    if (!lfosa_avx512_available()) return;   // AVX-512 state enabled by the OS
    unsigned int a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return;
    fp16_ok = (d >> 23) & 1;                 // AVX512-FP16
}

int lfosa_avx512_fp16_available(void) {
    pthread_once(&fp16_once, fp16_probe);
    return fp16_ok;
}

static __thread void *h_planes = NULL, *h_weights = NULL, *h_table = NULL, *h_masks = NULL, *h_acc = NULL;
static __thread size_t h_planes_cap = 0, h_weights_cap = 0, h_table_cap = 0, h_masks_cap = 0, h_acc_cap = 0;

typedef struct {
    int cin, cout, kh, kw, h, w;
    int k;            // cin·kh·kw
    int hw, blocks;   // pixels, 64-pixel blocks
    int plane;        // halves between planes ((h + kh − 1)·w, rounded up to 32)
    int image;        // halves of one image's planes, guards included
} f16_geom;

static f16_geom f16_geometry(int cout, int cin, int kh, int kw, int h, int w) {
    f16_geom g;
    g.cin = cin; g.cout = cout; g.kh = kh; g.kw = kw; g.h = h; g.w = w;
    g.k = cin * kh * kw;
    g.hw = h * w;
    g.blocks = (g.hw + 63) / 64;
    g.plane = ((h + kh - 1) * w + 31) / 32 * 32;
    // a block's loads reach 64 halves past its start + the largest shift (tail lanes never stored)
    g.image = HGUARD + cin * g.plane + 64 + (kh - 1) * w + kw + HGUARD;
    g.image = (g.image + 31) / 32 * 32;
    return g;
}

int lfosa_f16_conv_same_supported(int h, int w, int kh, int kw) {
    return lfosa_avx512_fp16_available() && (kh & 1) && (kw & 1) && kh <= 31 && kw <= 5 && h > 0 && w > 0;
}

// masks[j·chunks + c]: lanes of the 32-pixel chunk c whose pixel is in the image and whose column
// shifted by j − kw/2 is inside the row.
static uint32_t *f16_masks_table(const f16_geom *g) {
    int chunks = (g->hw + 31) / 32;
    uint32_t *m = reserve_bytes(&h_masks, &h_masks_cap, sizeof(uint32_t) * (size_t)chunks * g->kw);
    if (!m) return NULL;
    for (int j = 0; j < g->kw; j++)
        for (int c = 0; c < chunks; c++) {
            uint32_t bits = 0;
            for (int l = 0; l < 32; l++) {
                int q = 32 * c + l, x = q % g->w + j - g->kw / 2;
                if (q < g->hw && x >= 0 && x < g->w) bits |= 1u << l;
            }
            m[j * chunks + c] = bits;
        }
    return m;
}

// The planes shifted by each kernel column: copy j (`cs` halves after copy j − 1) holds, at pixel i,
// the half of pixel i + j − kw/2 when that column is inside the row (and i inside the image), 0
// otherwise; the centre copy is the planes themselves (f16_fill's). The blocks then read whole
// unmasked vectors — the same halves the masked loads of the unshifted planes would read.
F16_TARGET static void f16_shift_copies(const f16_geom *g, _Float16 *copy0, size_t cs, const uint32_t *masks) {
    int chunks = (g->hw + 31) / 32;
    const _Float16 *centre = copy0 + (size_t)(g->kw / 2) * cs;
    for (int j = 0; j < g->kw; j++) {
        if (j == g->kw / 2) continue;
        _Float16 *dst = copy0 + (size_t)j * cs;
        for (int c = 0; c < g->cin; c++) {
            size_t base = HGUARD + (size_t)c * g->plane + (size_t)(g->kh / 2) * g->w;
            for (int k = 0; k < chunks; k++)
                _mm512_storeu_si512((void *)(dst + base + 32 * k),
                                    _mm512_maskz_loadu_epi16(masks[j * chunks + k], centre + base + 32 * k + j - g->kw / 2));
        }
    }
}

// Image n of x [cin, ntotal, h, w] → float16 planes (first pixel of plane c at c·plane + kh/2·w,
// after HGUARD halves; the padding rows and guards stay as they are: zeroed once per call).
F16_TARGET static void f16_fill(const f16_geom *g, const float *x, int ntotal, int n, _Float16 *dst, float scale) {
    size_t hw = (size_t)g->hw;
    __m512 s = _mm512_set1_ps(scale);
    for (int c = 0; c < g->cin; c++) {
        const float *src = x + ((size_t)c * ntotal + n) * hw;
        _Float16 *d = dst + HGUARD + (size_t)c * g->plane + (g->kh / 2) * g->w;
        size_t i = 0;
        for (; i + 16 <= hw; i += 16)
            _mm256_storeu_si256((__m256i *)(d + i),
                                _mm512_cvtps_ph(_mm512_mul_ps(_mm512_loadu_ps(src + i), s), _MM_FROUND_TO_NEAREST_INT));
        for (; i < hw; i++) d[i] = (_Float16)(src[i] * scale);
    }
}

// The power of two that brings image n's largest magnitude into [2^9, 2^10) (1 when it is 0 or
// not finite): float16 keeps 11 significant bits from there down to 2^-14 (normal range).
F16_TARGET static float f16_autoscale(const f16_geom *g, const float *x, int ntotal, int n) {
    size_t hw = (size_t)g->hw;
    __m512 m = _mm512_setzero_ps();
    float tail = 0;
    for (int c = 0; c < g->cin; c++) {
        const float *src = x + ((size_t)c * ntotal + n) * hw;
        size_t i = 0;
        for (; i + 16 <= hw; i += 16) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(src + i)));
        for (; i < hw; i++) { float a = src[i] < 0 ? -src[i] : src[i]; tail = a > tail ? a : tail; }
    }
    float mx = _mm512_reduce_max_ps(m);
    if (tail > mx) mx = tail;
    if (!(mx > 0) || mx > 3.0e38f) return 1.0f;
    int e;
    frexpf(mx, &e);                 // mx = f·2^e, f in [0.5, 1): mx in [2^(e−1), 2^e)
    if (e < -110) e = -110;         // at most 2^120, so that 1/scale stays a normal float
    return ldexpf(1.0f, 10 - e);    // mx·scale in [2^9, 2^10)
}

// Widens the 16 half accumulators (8 channels × 2 vectors of 32 lanes) into acc [8][64] floats:
// stored by the first flush of a block, added by the later ones.
#define F16_WIDEN(OFF, H)                                                                                    \
    {                                                                                                        \
        __m512 f = _mm512_cvtph_ps(H);                                                                       \
        _mm512_store_ps(aj + (OFF), first ? f : _mm512_add_ps(_mm512_load_ps(aj + (OFF)), f));              \
    }
#define F16_FLUSH()                                                                                          \
    for (int j = 0; j < HCO; j++) {                                                                          \
        float *aj = acc + j * 64;                                                                            \
        __m512i h0 = _mm512_castph_si512(c0[j]), h1 = _mm512_castph_si512(c1[j]);                              \
        F16_WIDEN(0, _mm512_castsi512_si256(h0)) F16_WIDEN(16, _mm512_extracti64x4_epi64(h0, 1))            \
        F16_WIDEN(32, _mm512_castsi512_si256(h1)) F16_WIDEN(48, _mm512_extracti64x4_epi64(h1, 1))           \
        c0[j] = _mm512_setzero_ph(); c1[j] = _mm512_setzero_ph();                                            \
    }                                                                                                        \
    first = 0;

// The pooled epilogue: the block's 64 float32 sums per channel are whole row pairs of a plane
// w ∈ {8, 16, 32} wide; scale·v + shift, 2×2 max, then max(·, 0) with relu — 16 outputs per
// channel, contiguous in the pooled plane.
F16_TARGET static inline __attribute__((always_inline)) __m512 f16_pool_block(const float *a, int w, __m512 sc, __m512 sh, int relu) {
    __m512 v0 = _mm512_fmadd_ps(_mm512_load_ps(a), sc, sh), v1 = _mm512_fmadd_ps(_mm512_load_ps(a + 16), sc, sh);
    __m512 v2 = _mm512_fmadd_ps(_mm512_load_ps(a + 32), sc, sh), v3 = _mm512_fmadd_ps(_mm512_load_ps(a + 48), sc, sh);
    __m512 ma, mb;   // vertical maxima; lane pairs (2i, 2i+1) are horizontal neighbours, in output order
    if (w == 32) { ma = _mm512_max_ps(v0, v2); mb = _mm512_max_ps(v1, v3); }
    else if (w == 16) { ma = _mm512_max_ps(v0, v1); mb = _mm512_max_ps(v2, v3); }
    else {           // w == 8: each vector holds two rows
        ma = _mm512_max_ps(_mm512_shuffle_f32x4(v0, v1, 0x44), _mm512_shuffle_f32x4(v0, v1, 0xEE));
        mb = _mm512_max_ps(_mm512_shuffle_f32x4(v2, v3, 0x44), _mm512_shuffle_f32x4(v2, v3, 0xEE));
    }
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    __m512 m = _mm512_max_ps(_mm512_permutex2var_ps(ma, even, mb), _mm512_permutex2var_ps(ma, odd, mb));
    return relu ? _mm512_max_ps(m, _mm512_setzero_ps()) : m;
}

// One block: out[j·ldc + q0 + …] (64 pixels, stored where keep) = Σ_k w[k][j] · masked plane[q0 +
// shift_k], walked by kernel rows r = (ci, i) (shift rows[r]) and their kw columns.
F16_TARGET static inline __attribute__((always_inline)) void f16_block_body(const _Float16 *p, const int32_t *rows, int nrows, int kw,
                                                                 size_t cs, const uint32_t *w, float *acc,
                                                                 float *out, size_t ldc, int jn, const uint32_t keep[4], __mmask16 *bad,
                                                                 const float *pscale, const float *pshift, int pw, int relu,
                                                                 float unscale) {
    __m512h c0[HCO], c1[HCO];
    for (int j = 0; j < HCO; j++) { c0[j] = _mm512_setzero_ph(); c1[j] = _mm512_setzero_ph(); }
    int first = 1;
    for (int r0 = 0; r0 < nrows; r0 += FLUSH) {
        int r1 = r0 + FLUSH < nrows ? r0 + FLUSH : nrows;
        for (int r = r0; r < r1; r++) {
            const _Float16 *pr = p + rows[r];
            const uint32_t *wr = w + (size_t)r * kw * HCO;
            for (int t = 0; t < kw; t++) {
                __m512h a0 = _mm512_castsi512_ph(_mm512_loadu_si512((const void *)(pr + t * cs)));
                __m512h a1 = _mm512_castsi512_ph(_mm512_loadu_si512((const void *)(pr + t * cs + 32)));
                const uint32_t *wk = wr + t * HCO;
                for (int j = 0; j < HCO; j++) {
                    __m512h b = _mm512_castsi512_ph(_mm512_set1_epi32((int)wk[j]));   // a load-port broadcast
                    c0[j] = _mm512_fmadd_ph(a0, b, c0[j]);
                    c1[j] = _mm512_fmadd_ph(a1, b, c1[j]);
                }
            }
        }
        F16_FLUSH()
    }
    if (pscale) {   // pooled: out[j·ldc + 0..16)
        for (int j = 0; j < jn; j++) {
            __m512 y = f16_pool_block(acc + j * 64, pw, _mm512_set1_ps(pscale[j]), _mm512_set1_ps(pshift[j]), relu);
            __m512 d = _mm512_sub_ps(y, y);   // NaN where y is not finite
            *bad |= _mm512_cmp_ps_mask(d, d, _CMP_UNORD_Q);
            _mm512_storeu_ps(out + (size_t)j * ldc, y);
        }
        return;
    }
    for (int j = 0; j < jn; j++)
        for (int v = 0; v < 4; v++) {
            __m512 y = _mm512_mul_ps(_mm512_load_ps(acc + j * 64 + 16 * v), _mm512_set1_ps(unscale));
            __m512 d = _mm512_sub_ps(y, y);   // NaN where y is not finite
            *bad |= _mm512_mask_cmp_ps_mask((__mmask16)keep[v], d, d, _CMP_UNORD_Q);
            _mm512_mask_storeu_ps(out + (size_t)j * ldc + 16 * v, (__mmask16)keep[v], y);
        }
}

F16_TARGET static void f16_block_3(const _Float16 *p, const int32_t *rows, int nrows, size_t cs, const uint32_t *w,
                                   float *acc, float *out, size_t ldc, int jn, const uint32_t keep[4], __mmask16 *bad,
                                   const float *pscale, const float *pshift, int pw, int relu, float unscale) {
    f16_block_body(p, rows, nrows, 3, cs, w, acc, out, ldc, jn, keep, bad, pscale, pshift, pw, relu, unscale);
}

F16_TARGET static void f16_block_any(const _Float16 *p, const int32_t *rows, int nrows, int kw, size_t cs,
                                     const uint32_t *w, float *acc, float *out, size_t ldc, int jn, const uint32_t keep[4],
                                     __mmask16 *bad, const float *pscale, const float *pshift, int pw, int relu,
                                     float unscale) {
    f16_block_body(p, rows, nrows, kw, cs, w, acc, out, ldc, jn, keep, bad, pscale, pshift, pw, relu, unscale);
}

// Both entry points: plain (scale == NULL: out [cout, ldc] full-resolution) or pooled (out
// [cout, ntotal, h/2, w/2]).
F16_TARGET static int f16_conv(int cout, int cin, int kh, int kw, int ntotal, int h, int w, const float *x, int n0, int n1,
                               const float *weight, float *out, int ldc, const float *scale, const float *shift, int relu,
                               float in_scale) {
    if (n1 <= n0) return 0;
    __mmask16 bad = 0;
    f16_geom g = f16_geometry(cout, cin, kh, kw, h, w);
    int cob = (cout + HCO - 1) / HCO;
    // each float16 weight twice in a 32-bit word: vpbroadcastd from memory needs only a load port
    // (vpbroadcastw would also take the shuffle port that half the multiply-adds run on)
    uint32_t *pw = reserve_bytes(&h_weights, &h_weights_cap, sizeof(uint32_t) * (size_t)cob * g.k * HCO);
    size_t cs = (size_t)g.image;   // one copy of the planes per kernel column
    _Float16 *planes = reserve_bytes(&h_planes, &h_planes_cap, sizeof(_Float16) * cs * kw);
    int32_t *rows = reserve_bytes(&h_table, &h_table_cap, sizeof(int32_t) * (size_t)cin * kh);
    uint32_t *masks = f16_masks_table(&g);
    float *acc = reserve_bytes(&h_acc, &h_acc_cap, sizeof(float) * HCO * 64);
    if (!pw || !planes || !rows || !masks || !acc) abort();
    for (int r = 0; r < cin * kh; r++) rows[r] = (r / kh) * g.plane + (r % kh - kh / 2) * w;
    // weight [cout, k] → float16 [cob][k][HCO], zero rows past cout
    for (int cb = 0; cb < cob; cb++)
        for (int k = 0; k < g.k; k++)
            for (int j = 0; j < HCO; j++) {
                int co = cb * HCO + j;
                _Float16 v = co < cout ? (_Float16)weight[(size_t)co * g.k + k] : (_Float16)0.0f;
                uint16_t bits;
                memcpy(&bits, &v, sizeof bits);
                pw[((size_t)cb * g.k + k) * HCO + j] = (uint32_t)bits * 0x10001u;
            }
    const _Float16 *p0 = planes + HGUARD + (kh / 2) * w;   // copy 0
    memset(planes, 0, sizeof(_Float16) * cs * kw);
    for (int n = n0; n < n1; n++) {
        float image_scale = in_scale > 0 ? in_scale : f16_autoscale(&g, x, ntotal, n);   // powers of two: exact
        float unscale = 1.0f / image_scale;
        f16_fill(&g, x, ntotal, n, planes + (size_t)(kw / 2) * cs, image_scale);
        f16_shift_copies(&g, planes, cs, masks);
        float *on = out + (size_t)n * (scale ? g.hw / 4 : g.hw);
        size_t ld = scale ? (size_t)ntotal * (g.hw / 4) : (size_t)ldc;
        for (int cb = 0; cb < cob; cb++) {
            const uint32_t *wb = pw + (size_t)cb * g.k * HCO;
            int jn = cout - cb * HCO < HCO ? cout - cb * HCO : HCO;
            for (int b = 0; b < g.blocks; b++) {
                int rest = g.hw - 64 * b;
                uint32_t keep[4];
                for (int v = 0; v < 4; v++) {
                    int lanes = rest - 16 * v;
                    keep[v] = lanes >= 16 ? 0xFFFFu : lanes <= 0 ? 0u : (1u << lanes) - 1;
                }
                float *ob = on + (size_t)cb * HCO * ld + (scale ? 16 : 64) * b;
                const float *sc = scale ? scale + cb * HCO : NULL, *sh = scale ? shift + cb * HCO : NULL;
                if (kw == 3) f16_block_3(p0 + 64 * b, rows, cin * kh, cs, wb, acc, ob, ld, jn, keep, &bad, sc, sh, w, relu, unscale);
                else f16_block_any(p0 + 64 * b, rows, cin * kh, kw, cs, wb, acc, ob, ld, jn, keep, &bad, sc, sh, w, relu, unscale);
            }
        }
    }
    return bad != 0;
}

int lfosa_f16_conv_same_forward(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                const float *x, int n0, int n1, const float *weight, float *out, int ldc) {
    return f16_conv(cout, cin, kh, kw, ntotal, h, w, x, n0, n1, weight, out, ldc, NULL, NULL, 0, 1.0f);
}

int lfosa_f16_conv_same_forward_scaled(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                       const float *x, int n0, int n1, const float *weight, float *out, int ldc,
                                       float scale) {
    return f16_conv(cout, cin, kh, kw, ntotal, h, w, x, n0, n1, weight, out, ldc, NULL, NULL, 0, scale);
}

int lfosa_f16_conv_same_pool_supported(int h, int w, int kh, int kw) {
    return lfosa_f16_conv_same_supported(h, w, kh, kw) && (w == 8 || w == 16 || w == 32) && h % 2 == 0 && (h * w) % 64 == 0;
}

int lfosa_f16_conv_same_pool_forward(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                     const float *x, int n0, int n1, const float *weight,
                                     const float *scale, const float *shift, int relu, float *out) {
    return f16_conv(cout, cin, kh, kw, ntotal, h, w, x, n0, n1, weight, out, 0, scale, shift, relu, 1.0f);
}

#else
int lfosa_avx512_fp16_available(void) { return 0; }
int lfosa_f16_conv_same_supported(int h, int w, int kh, int kw) { (void)h; (void)w; (void)kh; (void)kw; return 0; }
int lfosa_f16_conv_same_forward(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                const float *x, int n0, int n1, const float *weight, float *out, int ldc) {
    (void)cout; (void)cin; (void)kh; (void)kw; (void)ntotal; (void)h; (void)w; (void)x; (void)n0; (void)n1;
    (void)weight; (void)out; (void)ldc;
    abort();
}
int lfosa_f16_conv_same_forward_scaled(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                       const float *x, int n0, int n1, const float *weight, float *out, int ldc,
                                       float scale) {
    (void)cout; (void)cin; (void)kh; (void)kw; (void)ntotal; (void)h; (void)w; (void)x; (void)n0; (void)n1;
    (void)weight; (void)out; (void)ldc; (void)scale;
    abort();
}
int lfosa_f16_conv_same_pool_supported(int h, int w, int kh, int kw) { (void)h; (void)w; (void)kh; (void)kw; return 0; }
int lfosa_f16_conv_same_pool_forward(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                     const float *x, int n0, int n1, const float *weight,
                                     const float *scale, const float *shift, int relu, float *out) {
    (void)cout; (void)cin; (void)kh; (void)kw; (void)ntotal; (void)h; (void)w; (void)x; (void)n0; (void)n1;
    (void)weight; (void)scale; (void)shift; (void)relu; (void)out;
    abort();
}
#endif
