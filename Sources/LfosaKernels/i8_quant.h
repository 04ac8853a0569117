#ifndef LFOSA_I8_QUANT_H
#define LFOSA_I8_QUANT_H
// Private to the 8-bit integer kernels (i8_conv.c, i8_linear.c): how a weight row becomes signed
// bytes — scaled by its largest magnitude to ±127, rounded to nearest — and how an image's
// activation is checked and measured before it becomes unsigned bytes.
#include <stddef.h>
#include <stdint.h>

// The largest magnitude of w[0 ..< n] (0 for an all-zero row).
static inline float i8_largest_magnitude(const float *w, size_t n) {
    float m = 0;
    for (size_t k = 0; k < n; k++) {
        float a = w[k];
        m = a > m ? a : -a > m ? -a : m;
    }
    return m;
}

// v·inv rounded to nearest and clamped to ±127, as the byte it is packed as.
static inline uint32_t i8_weight_byte(float v, float inv) {
    float r = __builtin_rintf(v * inv);
    int q = r > 127 ? 127 : r < -127 ? -127 : (int)r;
    return (uint32_t)(uint8_t)(int8_t)q;
}

#if defined(__x86_64__)
#include <immintrin.h>

// One vector `v` (lanes `m`) of an activation that must be non-negative: into the running maximum
// `mx`; lanes below 0 or NaN into `bad`.
__attribute__((target("avx512f"))) static inline void i8_scan(__m512 v, __mmask16 m, __m512 *mx, __mmask16 *bad) {
    *bad |= _mm512_mask_cmp_ps_mask(m, v, _mm512_setzero_ps(), _CMP_NGE_UQ);
    *mx = _mm512_max_ps(*mx, v);
}

// The scanned activation's largest value, or −1 when a value was negative, NaN or infinite (the
// image cannot be quantised to unsigned bytes).
__attribute__((target("avx512f"))) static inline float i8_scan_max(__m512 mx, __mmask16 bad) {
    if (bad) return -1.0f;
    float m = _mm512_reduce_max_ps(mx);
    return m <= 3.0e38f ? m : -1.0f;
}
#endif
#endif
