// AVX-512 kernels for the training-time batch norm + 2×2 max-pool layer (see
// include/lfosa_kernels.h). The numeric core's Swift code is compiled for baseline x86-64
// (SSE), so its 16-lane SIMD loops run four instructions per step; these run one. Same
// operations in the same order as the Swift kernels (no contraction into FMA: intrinsics only).
#include "lfosa_kernels.h"
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>


static pthread_once_t avx512_once = PTHREAD_ONCE_INIT;
static int avx512_ok = 0;

static void avx512_probe(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !((c >> 27) & 1)) return;   // OSXSAVE
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return;
    int avx512f = (b >> 16) & 1, avx512bw = (b >> 30) & 1, avx512vl = (b >> 31) & 1;
    if (!(avx512f && avx512bw && avx512vl)) return;
    unsigned int xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    if ((xlo & 0xE6) != 0xE6) return;                                   // SSE, AVX, AVX-512 state
    avx512_ok = 1;
}

int lfosa_avx512_available(void) {
    pthread_once(&avx512_once, avx512_probe);
    return avx512_ok;
}

#define AVX512F_TARGET __attribute__((target("avx512f,avx512bw,avx512vl")))

// One plane: see the header. Lanes: 16 outputs from 32 columns of two rows.
AVX512F_TARGET void lfosa_pool2x2_plane(const float *x, int h, int w, float scale, float shift, int affine, int relu,
                                        float *out, int32_t *argmax, int32_t base, float *max_input) {
    int ho = h / 2, wo = w / 2;
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    const __m512i lane2 = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512 vs = _mm512_set1_ps(scale), vt = _mm512_set1_ps(shift), zero = _mm512_setzero_ps();
    const __m512i one = _mm512_set1_epi32(1), wm1 = _mm512_set1_epi32(w - 1);
    for (int oy = 0; oy < ho; oy++) {
        const float *r0 = x + (size_t)2 * oy * w, *r1 = r0 + w;
        for (int ox = 0; ox < wo; ox += 16) {
            int cnt = wo - ox < 16 ? wo - ox : 16;                       // outputs this step
            __mmask16 lo = (__mmask16)(cnt >= 8 ? 0xFFFF : (1u << (2 * cnt)) - 1);
            __mmask16 hi = (__mmask16)(cnt <= 8 ? 0 : (cnt >= 16 ? 0xFFFF : (1u << (2 * cnt - 16)) - 1));
            __mmask16 om = (__mmask16)(cnt >= 16 ? 0xFFFF : (1u << cnt) - 1);
            __m512 t0 = _mm512_maskz_loadu_ps(lo, r0 + 2 * ox), t1 = _mm512_maskz_loadu_ps(hi, r0 + 2 * ox + 16);
            __m512 b0 = _mm512_maskz_loadu_ps(lo, r1 + 2 * ox), b1 = _mm512_maskz_loadu_ps(hi, r1 + 2 * ox + 16);
            __m512 ra = _mm512_permutex2var_ps(t0, even, t1), rb = _mm512_permutex2var_ps(t0, odd, t1);
            __m512 rc = _mm512_permutex2var_ps(b0, even, b1), rd = _mm512_permutex2var_ps(b0, odd, b1);
            __m512 a = ra, b = rb, c = rc, d = rd;
            if (affine) {
                a = _mm512_add_ps(_mm512_mul_ps(ra, vs), vt);
                b = _mm512_add_ps(_mm512_mul_ps(rb, vs), vt);
                c = _mm512_add_ps(_mm512_mul_ps(rc, vs), vt);
                d = _mm512_add_ps(_mm512_mul_ps(rd, vs), vt);
            }
            // max(p, q) as "q > p ? q : p" (the Swift kernel's compare-and-blend)
            __m512 ab = _mm512_max_ps(b, a), cd = _mm512_max_ps(d, c), m = _mm512_max_ps(cd, ab);
            if (argmax) {
                __mmask16 ea = _mm512_cmp_ps_mask(a, m, _CMP_EQ_OQ), eb = _mm512_cmp_ps_mask(b, m, _CMP_EQ_OQ);
                __mmask16 ec = _mm512_cmp_ps_mask(c, m, _CMP_EQ_OQ);
                __m512i na = _mm512_mask_mov_epi32(one, ea, _mm512_setzero_si512());
                __m512i nb = _mm512_mask_mov_epi32(one, eb, _mm512_setzero_si512());
                __m512i nc = _mm512_mask_mov_epi32(one, ec, _mm512_setzero_si512());
                __m512i start = _mm512_add_epi32(_mm512_set1_epi32(base + 2 * oy * w + 2 * ox), lane2);
                __m512i idx = _mm512_add_epi32(start, _mm512_mullo_epi32(na, _mm512_add_epi32(one,
                                  _mm512_mullo_epi32(nb, _mm512_add_epi32(wm1, nc)))));
                _mm512_mask_storeu_epi32(argmax + (size_t)oy * wo + ox, om, idx);
                if (max_input) {
                    __m512 v = rd;
                    v = _mm512_mask_mov_ps(v, ec, rc);
                    v = _mm512_mask_mov_ps(v, eb, rb);
                    v = _mm512_mask_mov_ps(v, ea, ra);
                    _mm512_mask_storeu_ps(max_input + (size_t)oy * wo + ox, om, v);
                }
            }
            if (relu) m = _mm512_max_ps(zero, m);
            _mm512_mask_storeu_ps(out + (size_t)oy * wo + ox, om, m);
        }
    }
}

// One channel of the pooled batch norm backward: see the header.
AVX512F_TARGET void lfosa_bn_pool_backward_channel(const float *g, const float *max_input, const float *output,
                                                   const int32_t *argmax, int per, const float *x, int plane,
                                                   float *dx, int32_t channel_base, float mean, float inv_std,
                                                   float gamma, int relu, float *d_gamma, float *d_beta) {
    const __m512 zero = _mm512_setzero_ps(), vm = _mm512_set1_ps(mean);
    __m512 vg = zero, vgx = zero;
    for (int k = 0; k < per; k += 16) {
        __mmask16 mk = (__mmask16)(per - k >= 16 ? 0xFFFF : (1u << (per - k)) - 1);
        __m512 gv = _mm512_maskz_loadu_ps(mk, g + k);
        if (relu) gv = _mm512_mask_mov_ps(gv, _mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(mk, output + k), zero, _CMP_LE_OQ), zero);
        vg = _mm512_add_ps(vg, gv);
        vgx = _mm512_add_ps(vgx, _mm512_mul_ps(gv, _mm512_sub_ps(_mm512_maskz_loadu_ps(mk, max_input + k), vm)));
    }
    float sg = _mm512_reduce_add_ps(vg), sgx = _mm512_reduce_add_ps(vgx) * inv_std;
    *d_gamma = sgx;
    *d_beta = sg;
    if (!dx) return;
    float scale = gamma * inv_std / (float)plane;
    float a = -scale * sg, b = -scale * sgx * inv_std;
    const __m512 va = _mm512_set1_ps(a), vb = _mm512_set1_ps(b);
    // dx = scale·(−Σdy − x̂·Σdy·x̂) everywhere, + scale·M·dy at the maxima
    for (int i = 0; i < plane; i += 16) {
        __mmask16 mk = (__mmask16)(plane - i >= 16 ? 0xFFFF : (1u << (plane - i)) - 1);
        __m512 xv = _mm512_maskz_loadu_ps(mk, x + i);
        _mm512_mask_storeu_ps(dx + i, mk, _mm512_add_ps(va, _mm512_mul_ps(vb, _mm512_sub_ps(xv, vm))));
    }
    const __m512 peak = _mm512_set1_ps(scale * (float)plane);
    const __m512i cb = _mm512_set1_epi32(channel_base);
    for (int k = 0; k < per; k += 16) {
        __mmask16 mk = (__mmask16)(per - k >= 16 ? 0xFFFF : (1u << (per - k)) - 1);
        __m512 gv = _mm512_maskz_loadu_ps(mk, g + k);
        if (relu) gv = _mm512_mask_mov_ps(gv, _mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(mk, output + k), zero, _CMP_LE_OQ), zero);
        // the 16 maxima lie in 16 different windows: no two lanes share an index
        __m512i idx = _mm512_sub_epi32(_mm512_maskz_loadu_epi32(mk, argmax + k), cb);
        __m512 cur = _mm512_mask_i32gather_ps(zero, mk, idx, dx, 4);
        _mm512_mask_i32scatter_ps(dx, mk, idx, _mm512_add_ps(cur, _mm512_mul_ps(peak, gv)), 4);
    }
}

#else
int lfosa_avx512_available(void) { return 0; }
void lfosa_pool2x2_plane(const float *x, int h, int w, float scale, float shift, int affine, int relu,
                         float *out, int32_t *argmax, int32_t base, float *max_input) {
    (void)x; (void)h; (void)w; (void)scale; (void)shift; (void)affine; (void)relu; (void)out; (void)argmax;
    (void)base; (void)max_input;
    abort();
}
void lfosa_bn_pool_backward_channel(const float *g, const float *max_input, const float *output,
                                    const int32_t *argmax, int per, const float *x, int plane,
                                    float *dx, int32_t channel_base, float mean, float inv_std,
                                    float gamma, int relu, float *d_gamma, float *d_beta) {
    (void)g; (void)max_input; (void)output; (void)argmax; (void)per; (void)x; (void)plane; (void)dx;
    (void)channel_base; (void)mean; (void)inv_std; (void)gamma; (void)relu; (void)d_gamma; (void)d_beta;
    abort();
}
#endif
