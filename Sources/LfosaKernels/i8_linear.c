// Inference-only dense layer with 8-bit integer products (AVX512-VNNI), for dense layers whose
// input is non-negative (a ReLU before them) — see include/lfosa_kernels.h.
//
// Quantisation as i8_conv.c's: each image's input scaled by its own maximum to unsigned bytes
// (q = round(255·x / max x)), each output's weights by their largest magnitude to signed bytes
// (±127); the products are summed exactly in 32-bit integers (at most 65,536 · 255 · 127 < 2^31)
// and scaled back to float32 with the bias added. An image's result does not depend on which
// images share its batch or worker.
//
// The input can be read straight from a channel-major activation map [C, N, hw] (what a
// convolution trunk leaves before Flatten), so flattening costs no copy: feature f of image i is
// x[(f / glen)·gstride + i·glen + f % glen], which is the row-major [N, in] layout with
// glen = in.
//
// A block is 8 images × 32 outputs (16 zmm accumulators): per group of four inputs, two weight
// vectors (32 outputs × 4 signed bytes) and eight broadcast image words feed 16 vpdpbusd.
#include "lfosa_kernels.h"
#include "kernel_buffers.h"
#include "i8_quant.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// Images and outputs per block.
enum { LMR = 8, LNR = 32 };

size_t lfosa_i8_linear_packed_words(int outputs, int inputs) {
    return (size_t)((outputs + LNR - 1) / LNR) * ((inputs + 3) / 4) * LNR;
}

void lfosa_i8_linear_pack(int outputs, int inputs, const float *weight, uint32_t *packed, float *scales) {
    // weight [outputs, inputs] → scales max|w| / 127 (⌈outputs/32⌉·32 of them, 0 past outputs) and
    // words [output block][input quad][32 outputs] of four signed bytes (inputs 4·quad …)
    int nob = (outputs + LNR - 1) / LNR, quads = (inputs + 3) / 4;
    memset(packed, 0, sizeof(uint32_t) * lfosa_i8_linear_packed_words(outputs, inputs));
    for (int o = 0; o < nob * LNR; o++) {
        float m = o < outputs ? i8_largest_magnitude(weight + (size_t)o * inputs, (size_t)inputs) : 0;
        scales[o] = m > 0 ? m / 127.0f : 0.0f;
        if (o >= outputs || m == 0) continue;
        float inv = 127.0f / m;
        uint32_t *col = packed + (size_t)(o / LNR) * quads * LNR + o % LNR;
        for (int k = 0; k < inputs; k++)
            col[(size_t)(k / 4) * LNR] |= i8_weight_byte(weight[(size_t)o * inputs + k], inv) << (8 * (k % 4));
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

#define L8_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")))

static __thread void *l_rows = NULL;
static __thread size_t l_rows_cap = 0;

// Image i's features → `dst` (`stride` bytes, zero past `inputs`) scaled by 255 / max. Returns
// max / 255 (0 for an all-zero image), or −1 when a value is negative or not finite.
L8_TARGET static float l8_fill(const float *x, int inputs, int glen, size_t gstride, int i, uint8_t *dst, int stride) {
    int groups = (inputs + glen - 1) / glen;
    __m512 mx = _mm512_setzero_ps();
    __mmask16 bad = 0;
    for (int g = 0; g < groups; g++) {
        const float *src = x + (size_t)g * gstride + (size_t)i * glen;
        int len = inputs - g * glen < glen ? inputs - g * glen : glen;
        for (int k = 0; k < len; k += 16) {
            __mmask16 m = len - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (len - k)) - 1);
            i8_scan(_mm512_maskz_loadu_ps(m, src + k), m, &mx, &bad);
        }
    }
    float m = i8_scan_max(mx, bad);
    if (m < 0) return -1.0f;
    __m512 inv = _mm512_set1_ps(m > 0 ? 255.0f / m : 0.0f);
    const __m512i top = _mm512_set1_epi32(255);
    memset(dst + inputs, 0, (size_t)(stride - inputs));
    for (int g = 0; g < groups; g++) {
        const float *src = x + (size_t)g * gstride + (size_t)i * glen;
        uint8_t *d = dst + (size_t)g * glen;
        int len = inputs - g * glen < glen ? inputs - g * glen : glen;
        for (int k = 0; k < len; k += 16) {
            __mmask16 mk = len - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (len - k)) - 1);
            __m512i q = _mm512_min_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(mk, src + k), inv)), top);
            _mm512_mask_cvtepi32_storeu_epi8(d + k, mk, q);
        }
    }
    return m / 255.0f;
}

// Rows r of `rows` (stride words apart) times output block `wb`: 8 × 32 sums, then
// y[r·ldy + o] = bias[o] + sa[r]·ws[o]·sum for the first `rn` rows and `on` outputs.
L8_TARGET static void l8_block(const uint32_t *rows, int stride, int quads, const uint32_t *wb, int rn, int on,
                               const float *sa, const float *ws, const float *bias, float *y, int ldy) {
    __m512i c0[LMR], c1[LMR];
    for (int r = 0; r < LMR; r++) { c0[r] = _mm512_setzero_si512(); c1[r] = _mm512_setzero_si512(); }
    for (int q = 0; q < quads; q++) {
        __m512i w0 = _mm512_loadu_si512((const void *)(wb + (size_t)q * LNR));
        __m512i w1 = _mm512_loadu_si512((const void *)(wb + (size_t)q * LNR + 16));
        for (int r = 0; r < LMR; r++) {
            __m512i a = _mm512_set1_epi32((int)rows[(size_t)r * stride + q]);
            c0[r] = _mm512_dpbusd_epi32(c0[r], a, w0);
            c1[r] = _mm512_dpbusd_epi32(c1[r], a, w1);
        }
    }
    __mmask16 m0 = on >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << on) - 1);
    __mmask16 m1 = on >= 32 ? (__mmask16)0xFFFF : on > 16 ? (__mmask16)((1u << (on - 16)) - 1) : 0;
    __m512 s0 = _mm512_loadu_ps(ws), s1 = _mm512_loadu_ps(ws + 16);
    __m512 b0 = _mm512_maskz_loadu_ps(m0, bias), b1 = _mm512_maskz_loadu_ps(m1, bias + 16);
    for (int r = 0; r < rn; r++) {
        __m512 a = _mm512_set1_ps(sa[r]);
        _mm512_mask_storeu_ps(y + (size_t)r * ldy, m0, _mm512_fmadd_ps(_mm512_cvtepi32_ps(c0[r]), _mm512_mul_ps(a, s0), b0));
        _mm512_mask_storeu_ps(y + (size_t)r * ldy + 16, m1, _mm512_fmadd_ps(_mm512_cvtepi32_ps(c1[r]), _mm512_mul_ps(a, s1), b1));
    }
}

L8_TARGET int lfosa_i8_linear_forward(int n0, int n1, int inputs, int outputs, const float *x, int glen, size_t gstride,
                                      const uint32_t *packed, const float *wscale, const float *bias, float *y) {
    if (n1 <= n0) return 0;
    int quads = (inputs + 3) / 4, nob = (outputs + LNR - 1) / LNR, stride = quads * 4;
    uint8_t *rows = reserve_bytes(&l_rows, &l_rows_cap, (size_t)LMR * stride);
    if (!rows) abort();
    float sa[LMR];
    for (int i0 = n0; i0 < n1; i0 += LMR) {
        int rn = n1 - i0 < LMR ? n1 - i0 : LMR;
        for (int r = 0; r < LMR; r++) {
            if (r >= rn) { memset(rows + (size_t)r * stride, 0, (size_t)stride); sa[r] = 0; continue; }
            sa[r] = l8_fill(x, inputs, glen, gstride, i0 + r, rows + (size_t)r * stride, stride);
            if (sa[r] < 0) return 1;
        }
        for (int ob = 0; ob < nob; ob++) {
            int on = outputs - ob * LNR < LNR ? outputs - ob * LNR : LNR;
            l8_block((const uint32_t *)rows, quads, quads, packed + (size_t)ob * quads * LNR, rn, on, sa,
                     wscale + (size_t)ob * LNR, bias + (size_t)ob * LNR, y + (size_t)i0 * outputs + ob * LNR, outputs);
        }
    }
    return 0;
}

#else
int lfosa_i8_linear_forward(int n0, int n1, int inputs, int outputs, const float *x, int glen, size_t gstride,
                            const uint32_t *packed, const float *wscale, const float *bias, float *y) {
    (void)n0; (void)n1; (void)inputs; (void)outputs; (void)x; (void)glen; (void)gstride;
    (void)packed; (void)wscale; (void)bias; (void)y;
    abort();
}
#endif
