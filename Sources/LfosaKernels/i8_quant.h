#ifndef LFOSA_I8_QUANT_H
#define LFOSA_I8_QUANT_H
// Private to the 8-bit integer kernels (i8_conv.c, i8_linear.c): how a weight row becomes signed
// bytes — scaled by its largest magnitude to ±127, rounded to nearest.
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
#endif
