// bfloat16 products on Intel AMX tiles: a GEMM, and "same" convolutions as implicit GEMMs
// (forward, forward + BN/pool/ReLU for inference, input and weight gradients; sections below).
// See include/lfosa_kernels.h.
//
// GEMM: both operands are packed (and rounded to bfloat16) into 1 KiB tiles laid out exactly as the
// tile loads want them, zero-padded to multiples of 16 rows/columns and 32 along k:
//   A: [m/16][k/32] tiles of 16 rows × 32 k            (row-major, 64-byte rows)
//   B: [n/16][k/32] tiles of 16 k-pairs × 16 columns × 2 ("VNNI": row p holds k = 2p, 2p+1)
// The micro-kernel keeps a 32 × 32 block of C in four accumulator tiles, walks k, then writes
// the block out with alpha/beta (masked, so ragged edges need no special case).
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
#include <sys/syscall.h>
#include <unistd.h>

#define LFOSA_ARCH_GET_XCOMP_PERM 0x1022
#define LFOSA_ARCH_REQ_XCOMP_PERM 0x1023
#define LFOSA_XFEATURE_XTILEDATA 18

static pthread_once_t amx_once = PTHREAD_ONCE_INIT;
static int amx_ok = 0;

static void amx_probe(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return;
    int avx512f = (b >> 16) & 1, avx512bw = (b >> 30) & 1, avx512vl = (b >> 31) & 1;
    int amx_bf16 = (d >> 22) & 1, amx_tile = (d >> 24) & 1;
    if (!(avx512f && avx512bw && avx512vl && amx_bf16 && amx_tile)) return;
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return;
    if (!((a >> 5) & 1)) return;                               // AVX512_BF16 (conversions)
    if (!__get_cpuid(1, &a, &b, &c, &d) || !((c >> 27) & 1)) return;   // OSXSAVE
    unsigned int xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    if ((xlo & 0xE6) != 0xE6) return;                          // SSE, AVX, AVX-512 state
    if (syscall(SYS_arch_prctl, LFOSA_ARCH_REQ_XCOMP_PERM, LFOSA_XFEATURE_XTILEDATA) != 0) return;
    unsigned long bitmask = 0;
    if (syscall(SYS_arch_prctl, LFOSA_ARCH_GET_XCOMP_PERM, &bitmask) != 0) return;
    if (!(bitmask & (1UL << LFOSA_XFEATURE_XTILEDATA))) return;
    amx_ok = 1;
}

int lfosa_amx_bf16_available(void) {
    pthread_once(&amx_once, amx_probe);
    return amx_ok;
}

#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#define AMX_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,amx-tile,amx-bf16")))

// Per-thread packing buffers (Dispatch worker threads live for the process).
static __thread uint16_t *pack_a = NULL, *pack_b = NULL;
static __thread size_t pack_a_cap = 0, pack_b_cap = 0;

static uint16_t *reserve(uint16_t **buf, size_t *cap, size_t elements) {
    size_t bytes = *cap * sizeof(uint16_t);
    uint16_t *p = reserve_bytes((void **)buf, &bytes, elements * sizeof(uint16_t));
    *cap = bytes / sizeof(uint16_t);
    return p;
}

static float *reserve_floats(float **buf, size_t *cap, size_t elements) {
    size_t bytes = *cap * sizeof(float);
    float *p = reserve_bytes((void **)buf, &bytes, elements * sizeof(float));
    *cap = bytes / sizeof(float);
    return p;
}

// 16 floats → 16 bfloat16 (round to nearest even), as raw 16-bit lanes.
AVX512_TARGET static inline __m256i bf16x16(__m512 v) { return (__m256i)_mm512_cvtneps_pbh(v); }

AVX512_TARGET static inline __m512 load_masked(const float *p, int count) {
    if (count >= 16) return _mm512_loadu_ps(p);
    if (count <= 0) return _mm512_setzero_ps();
    return _mm512_maskz_loadu_ps((__mmask16)((1u << count) - 1), p);
}

// 32 floats from `src` (the first `ks` of them; none unless `valid`) → 32 bfloat16 at `dst`.
AVX512_TARGET static inline void row32_bf16(const float *src, int valid, int ks, uint16_t *dst) {
    __m512 lo = _mm512_setzero_ps(), hi = _mm512_setzero_ps();
    if (valid) {
        lo = load_masked(src, ks);
        hi = load_masked(src + 16, ks - 16);
    }
    _mm256_store_si256((__m256i *)dst, bf16x16(lo));
    _mm256_store_si256((__m256i *)(dst + 16), bf16x16(hi));
}

// The 16 × 16 (32-bit) transpose of `rows` into a VNNI tile: row j of `rows` holds 16 k-pairs
// of column j; tile row p holds k-pair p of the 16 columns.
static inline void transpose_pairs(const uint32_t rows[16][16], uint16_t *tile) {
    uint32_t *out = (uint32_t *)tile;
    for (int p = 0; p < 16; p++)
        for (int j = 0; j < 16; j++) out[p * 16 + j] = rows[j][p];
}

// A rows [i0, i0+16) × k [k0, k0+32) of op(A) → one 16×32 tile (zero outside m × k).
AVX512_TARGET static void pack_a_tile(int transA, int m, int k, const float *a, int lda, int i0, int k0,
                                      uint16_t *tile) {
    int rows = m - i0 < 16 ? m - i0 : 16;
    int ks = k - k0 < 32 ? k - k0 : 32;
    if (!transA) {
        for (int r = 0; r < 16; r++)
            row32_bf16(a + (size_t)(i0 + r) * lda + k0, r < rows, ks, tile + r * 32);
    } else {
        // op(A)[i][kk] = a[kk * lda + i]: read k-rows of 16 contiguous i, scatter to tile rows.
        uint16_t tmp[32][16] __attribute__((aligned(64)));
        for (int kk = 0; kk < 32; kk++) {
            __m512 v = kk < ks ? load_masked(a + (size_t)(k0 + kk) * lda + i0, rows) : _mm512_setzero_ps();
            _mm256_store_si256((__m256i *)tmp[kk], bf16x16(v));
        }
        for (int r = 0; r < 16; r++)
            for (int kk = 0; kk < 32; kk++) tile[r * 32 + kk] = tmp[kk][r];
    }
}

// op(B) k [k0, k0+32) × columns [j0, j0+16) → one VNNI tile: row p = 16 × (k0+2p, k0+2p+1).
AVX512_TARGET static void pack_b_tile(int transB, int k, int n, const float *b, int ldb, int k0, int j0,
                                      uint16_t *tile) {
    int cols = n - j0 < 16 ? n - j0 : 16;
    int ks = k - k0 < 32 ? k - k0 : 32;
    if (!transB) {
        for (int p = 0; p < 16; p++) {
            int kk = 2 * p;
            __m512 r0 = kk < ks ? load_masked(b + (size_t)(k0 + kk) * ldb + j0, cols) : _mm512_setzero_ps();
            __m512 r1 = kk + 1 < ks ? load_masked(b + (size_t)(k0 + kk + 1) * ldb + j0, cols) : _mm512_setzero_ps();
            __m512i lo = _mm512_cvtepu16_epi32(bf16x16(r0));
            __m512i hi = _mm512_slli_epi32(_mm512_cvtepu16_epi32(bf16x16(r1)), 16);
            _mm512_store_si512((__m512i *)(tile + p * 32), _mm512_or_si512(lo, hi));
        }
    } else {
        // op(B)[kk][j] = b[j * ldb + kk]: each column j holds its 32 k contiguous — one
        // 64-byte row of 16 k-pairs; the tile is its 16 × 16 (32-bit) transpose.
        uint32_t tmp[16][16] __attribute__((aligned(64)));
        for (int j = 0; j < 16; j++)
            row32_bf16(b + (size_t)(j0 + j) * ldb + k0, j < cols, ks, (uint16_t *)tmp[j]);
        transpose_pairs((const uint32_t (*)[16])tmp, tile);
    }
}

typedef struct {
    uint8_t palette_id;
    uint8_t start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} __attribute__((packed)) tile_config;

// Every kernel here uses 8 tiles of 16 rows × 64 bytes: accumulators 0–3, A tiles 4–5, B 6–7.
AMX_TARGET static void configure_tiles(void) {
    tile_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette_id = 1;
    for (int t = 0; t < 8; t++) { cfg.rows[t] = 16; cfg.colsb[t] = 64; }
    _tile_loadconfig(&cfg);
}

// The 32 × 32 micro-kernel: accumulators 0–3 = (A rows a0, a1) × (B columns 0, 1) summed over
// kt blocks. A block kb is the packed tile a0/a1 + kb·512 (64-byte rows); B block kb's two
// column tiles start base[kb] + off0 / + off1 bytes, rows `stride` bytes apart. Accumulators
// 1, 3 only with two_n; 2, 3 only with two_m.
AMX_TARGET static inline __attribute__((always_inline)) void tiles_2x2(const uint16_t *a0, const uint16_t *a1, int two_m,
                                                                      int two_n, const char *const *base, long off0,
                                                                      long off1, long stride, int kt) {
    _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
    if (two_m && two_n) {
        for (int kb = 0; kb < kt; kb++) {
            _tile_loadd(4, a0 + kb * 512, 64);
            _tile_loadd(6, base[kb] + off0, stride);
            _tile_loadd(7, base[kb] + off1, stride);
            _tile_loadd(5, a1 + kb * 512, 64);
            _tile_dpbf16ps(0, 4, 6);
            _tile_dpbf16ps(1, 4, 7);
            _tile_dpbf16ps(2, 5, 6);
            _tile_dpbf16ps(3, 5, 7);
        }
    } else {
        for (int kb = 0; kb < kt; kb++) {
            _tile_loadd(4, a0 + kb * 512, 64);
            _tile_loadd(6, base[kb] + off0, stride);
            _tile_dpbf16ps(0, 4, 6);
            if (two_n) { _tile_loadd(7, base[kb] + off1, stride); _tile_dpbf16ps(1, 4, 7); }
            if (two_m) { _tile_loadd(5, a1 + kb * 512, 64); _tile_dpbf16ps(2, 5, 6); }
        }
    }
}

// C[i0.., j0..] (rows × cols ≤ 16 × 16) = alpha · acc + beta · C.
AVX512_TARGET static void write_block(const float *acc, int rows, int cols, float alpha, float beta,
                                      float *c, int ldc) {
    __mmask16 mask = cols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cols) - 1);
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int r = 0; r < rows; r++) {
        __m512 v = _mm512_mul_ps(_mm512_load_ps(acc + r * 16), va);
        float *dst = c + (size_t)r * ldc;
        if (beta != 0) v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, dst), vb, v);
        _mm512_mask_storeu_ps(dst, mask, v);
    }
}

// Packs the B tiles of column tiles jt, jt+1 (`count` of them: 1 or 2) for every k block into
// `dst` (tile (q, kb) at (q·kt + kb)·512).
typedef void (*pack_panel_fn)(const void *ctx, int jt, int count, int kt, uint16_t *dst);

// C = alpha·A·B + beta·C from packed A (mt × kt tiles) and B packed panel by panel — by `pack`
// into a scratch panel, or read from `prepacked` (every panel, as lfosa_bf16_pack_b lays them).
AMX_TARGET static void amx_run(int m, int n, int kt, float alpha, float beta, const uint16_t *pa,
                               float *c, int ldc, pack_panel_fn pack, const void *ctx, const uint16_t *prepacked) {
    int mt = (m + 15) / 16, nt = (n + 15) / 16;
    uint16_t *pb = prepacked ? NULL : reserve(&pack_b, &pack_b_cap, (size_t)2 * kt * 512);
    const char **base = malloc(sizeof(char *) * (size_t)kt);
    if ((!prepacked && !pb) || !base) abort();
    if (pb) for (int kb = 0; kb < kt; kb++) base[kb] = (const char *)(pb + (size_t)kb * 512);
    long second = (long)kt * 512 * 2;                 // bytes from panel tile (0, kb) to (1, kb)
    configure_tiles();
    float acc[4][256] __attribute__((aligned(64)));

    for (int jt = 0; jt < nt; jt += 2) {
        int two_n = jt + 1 < nt;
        if (prepacked) {                        // this 32-column panel, reused by every row block
            for (int kb = 0; kb < kt; kb++) base[kb] = (const char *)(prepacked + ((size_t)jt * kt + kb) * 512);
        } else {
            pack(ctx, jt, 1 + two_n, kt, pb);
        }
        for (int it = 0; it < mt; it += 2) {
            int two_m = it + 1 < mt;
            const uint16_t *a0 = pa + (size_t)it * kt * 512;
            tiles_2x2(a0, a0 + (size_t)kt * 512, two_m, two_n, base, 0, second, 64, kt);
            _tile_stored(0, acc[0], 64);
            _tile_stored(1, acc[1], 64);
            _tile_stored(2, acc[2], 64);
            _tile_stored(3, acc[3], 64);
            for (int q = 0; q < 4; q++) {
                int i0 = (it + (q >> 1)) * 16, j0 = (jt + (q & 1)) * 16;
                if (i0 >= m || j0 >= n) continue;
                if ((q >> 1) && !two_m) continue;
                if ((q & 1) && !two_n) continue;
                int rows = m - i0 < 16 ? m - i0 : 16, cols = n - j0 < 16 ? n - j0 : 16;
                write_block(acc[q], rows, cols, alpha, beta, c + (size_t)i0 * ldc + j0, ldc);
            }
        }
    }
    _tile_release();
    free(base);
}

static uint16_t *pack_a_all(int transA, int m, int k, const float *a, int lda) {
    int mt = (m + 15) / 16, kt = (k + 31) / 32;
    uint16_t *pa = reserve(&pack_a, &pack_a_cap, (size_t)mt * kt * 512);
    if (!pa) abort();
    for (int it = 0; it < mt; it++)
        for (int kb = 0; kb < kt; kb++)
            pack_a_tile(transA, m, k, a, lda, it * 16, kb * 32, pa + ((size_t)it * kt + kb) * 512);
    return pa;
}

typedef struct { int transB, k, n; const float *b; int ldb; } matrix_b;

static void pack_matrix_panel(const void *ctx, int jt, int count, int kt, uint16_t *dst) {
    const matrix_b *mb = ctx;
    for (int q = 0; q < count; q++)
        for (int kb = 0; kb < kt; kb++)
            pack_b_tile(mb->transB, mb->k, mb->n, mb->b, mb->ldb, kb * 32, (jt + q) * 16, dst + ((size_t)q * kt + kb) * 512);
}

// C = beta·C (the product when k or alpha is 0; beta 0 clears C whatever it held).
static void scale_c(int m, int n, float beta, float *c, int ldc) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) c[(size_t)i * ldc + j] = beta == 0 ? 0 : beta * c[(size_t)i * ldc + j];
}

void lfosa_bf16_gemm(int transA, int transB, int m, int n, int k, float alpha,
                     const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0) { scale_c(m, n, beta, c, ldc); return; }
    uint16_t *pa = pack_a_all(transA, m, k, a, lda);
    matrix_b mb = { transB, k, n, b, ldb };
    amx_run(m, n, (k + 31) / 32, alpha, beta, pa, c, ldc, pack_matrix_panel, &mb, NULL);
}

// Panels of two 16-column tiles: panel jt (even) at jt·kt·512, its tiles (q, kb) at
// (q·kt + kb)·512 — the layout amx_run packs one panel at a time.
size_t lfosa_bf16_packed_b_elements(int k, int n) {
    size_t kt = (size_t)(k + 31) / 32, nt = (size_t)(n + 15) / 16;
    return (nt + 1) / 2 * 2 * kt * 512;
}

// Packs through the aligned scratch panel (the tile writers use aligned stores), so `dst`
// needs no particular alignment (tile loads need none).
void lfosa_bf16_pack_b(int transB, int k, int n, const float *b, int ldb, uint16_t *dst) {
    int kt = (k + 31) / 32, nt = (n + 15) / 16;
    matrix_b mb = { transB, k, n, b, ldb };
    uint16_t *panel = reserve(&pack_b, &pack_b_cap, (size_t)2 * kt * 512);
    if (!panel) abort();
    for (int jt = 0; jt < nt; jt += 2) {
        int count = jt + 1 < nt ? 2 : 1;
        pack_matrix_panel(&mb, jt, count, kt, panel);
        memcpy(dst + (size_t)jt * kt * 512, panel, sizeof(uint16_t) * (size_t)count * kt * 512);
    }
}

void lfosa_bf16_gemm_packed_b(int transA, int m, int n, int k, float alpha, const float *a, int lda,
                              const uint16_t *packed_b, float beta, float *c, int ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0) { scale_c(m, n, beta, c, ldc); return; }
    uint16_t *pa = pack_a_all(transA, m, k, a, lda);
    amx_run(m, n, (k + 31) / 32, alpha, beta, pa, c, ldc, NULL, NULL, packed_b);
}

// ---- weight gradient of a "same" convolution for cin % 16 != 0: tiles built from the input ----
//
// (Other channel counts take the implicit GEMM below.) The product is g [cout × pixels] ·
// colsᵀ, cols [K × pixels], K = cin·kh·kw. Row r = (ci, i, j) of cols at pixel (image, y, x)
// is x[ci, image, y + i − kh/2, x + j − kw/2] (0 outside the plane), so 16 consecutive pixels
// of one image row are 16 consecutive values of the input. The images' input is rounded to
// bfloat16 once; each tile row is then masked 16-value loads of it, transposed into the tile
// — no unfolded buffer, no repeated rounding.

typedef struct {
    int k, h, w, pixels;
    int general;              // 1: 16-pixel runs may span rows and images (any plane size)
    const uint16_t *x;        // bfloat16 input of the chunk's images: [cin, images, h, w]
    const int *row_offset;    // per r: ci · images · h · w
    const int *row_dy;        // per r: i − kh/2
    const int *row_dx;        // per r: j − kw/2
} conv_b;

// Where 16 consecutive chunk pixels starting at `pix` lie (never crossing an image, as
// h·w % 16 == 0): image offset, row and first column. Past the chunk's pixels the row is set
// far outside the plane, so every load is masked off.
typedef struct { int y, x0; size_t image_offset; } pixel_run;

static inline pixel_run locate(const conv_b *cb, int pix) {
    pixel_run at = { 1 << 28, 0, 0 };
    if (pix >= cb->pixels) return at;
    int plane = cb->h * cb->w;
    int p = pix % plane;
    at.image_offset = (size_t)(pix / plane) * plane;
    at.y = p / cb->w;
    at.x0 = p % cb->w;
    return at;
}

// Lanes lo..<hi set (empty when lo >= hi), branch-free.
static inline unsigned lane_range(int lo, int hi) {
    lo = lo < 0 ? 0 : (lo > 16 ? 16 : lo);
    hi = hi > 16 ? 16 : hi;
    unsigned below_hi = hi <= 0 ? 0u : (hi >= 16 ? 0xFFFFu : (1u << hi) - 1);
    unsigned below_lo = (1u << lo) - 1;
    return below_hi & ~below_lo;
}

// The geometry conv_row16 needs, copied into locals (registers) by each packer: vector stores
// may alias anything, so fields read through a pointer would be reloaded after every store.
typedef struct {
    int h, w;
    const uint16_t *x;
    const int *row_offset, *row_dy, *row_dx;
} conv_view;

static inline conv_view view_of(const conv_b *cb) {
    conv_view v = { cb->h, cb->w, cb->x, cb->row_offset, cb->row_dy, cb->row_dx };
    return v;
}

// Unfolded row r (rows ≥ k, the padding to whole k blocks, have dy far out of range) at those
// 16 pixels, as 16 bfloat16 values (0 outside the plane).
AVX512_TARGET static inline __attribute__((always_inline)) __m256i conv_row16(conv_view cv, int r, pixel_run at) {
    int dy = cv.row_dy[r], dx = cv.row_dx[r];
    const uint16_t *base = cv.x + cv.row_offset[r] + at.image_offset;
    int w = cv.w;
    if (w >= 16) {
        int iy = at.y + dy;
        if ((unsigned)iy >= (unsigned)cv.h) return _mm256_setzero_si256();
        int sx = at.x0 + dx;                               // source column of lane 0
        const uint16_t *src = base + (size_t)iy * w + sx;
        if (sx >= 0 && sx + 16 <= w) return _mm256_loadu_si256((const __m256i *)src);
        return _mm256_maskz_loadu_epi16((__mmask16)lane_range(-sx, w - sx), src);
    }
    // 16 / w image rows per 16 lanes
    __m256i v = _mm256_setzero_si256();
    unsigned seg = lane_range(-dx, dx > 0 ? w - dx : w);
    for (int s = 0; s < 16 / w; s++) {
        int iy = at.y + s + dy;
        if ((unsigned)iy >= (unsigned)cv.h) continue;
        v = _mm256_mask_loadu_epi16(v, (__mmask16)(seg << (s * w)), base + (size_t)iy * w + dx - s * w);
    }
    return v;
}

// Any plane size: a 16-pixel run as up to 16 pieces, each inside one image row.
typedef struct {
    int count;
    int lane[16], len[16], y[16], x0[16];
    size_t image_offset[16];
} pixel_pieces;

static inline void locate_pieces(const conv_b *cb, int pix, pixel_pieces *pp) {
    int plane = cb->h * cb->w, w = cb->w, lane = 0;
    pp->count = 0;
    while (lane < 16 && pix < cb->pixels) {
        int image = pix / plane, rem = pix % plane, y = rem / w, x0 = rem % w;
        int len = 16 - lane;
        if (w - x0 < len) len = w - x0;
        if (cb->pixels - pix < len) len = cb->pixels - pix;
        int s = pp->count++;
        pp->lane[s] = lane; pp->len[s] = len; pp->y[s] = y; pp->x0[s] = x0;
        pp->image_offset[s] = (size_t)image * plane;
        lane += len;
        pix += len;
    }
}

AVX512_TARGET static inline __attribute__((always_inline)) __m256i conv_row16_pieces(conv_view cv, int r, const pixel_pieces *pp) {
    int dy = cv.row_dy[r], dx = cv.row_dx[r], w = cv.w;
    const uint16_t *base = cv.x + cv.row_offset[r];
    __m256i v = _mm256_setzero_si256();
    for (int s = 0; s < pp->count; s++) {
        int iy = pp->y[s] + dy;
        if ((unsigned)iy >= (unsigned)cv.h) continue;
        int sx = pp->x0[s] + dx;                           // source column of the piece's first lane
        int t0 = sx < 0 ? -sx : 0, t1 = w - sx < pp->len[s] ? w - sx : pp->len[s];
        if (t0 >= t1) continue;
        __mmask16 mask = (__mmask16)(lane_range(t0, t1) << pp->lane[s]);
        v = _mm256_mask_loadu_epi16(v, mask, base + pp->image_offset[s] + (ptrdiff_t)iy * w + sx - pp->lane[s]);
    }
    return v;
}

// 16 pixels of the chunk, located for whichever row loader the plane needs.
typedef struct {
    pixel_run at;             // regular planes
    pixel_pieces pieces;      // any plane (cb->general)
} pixel_source;

static inline __attribute__((always_inline)) void locate_source(const conv_b *cb, int general, int pix, pixel_source *src) {
    if (general) locate_pieces(cb, pix, &src->pieces);
    else src->at = locate(cb, pix);
}

// Unfolded row r at those 16 pixels (callers pass `general` as a constant, so each packer is
// compiled once per row loader).
AVX512_TARGET static inline __attribute__((always_inline)) __m256i conv_row(conv_view cv, int general, int r,
                                                                            const pixel_source *src) {
    return general ? conv_row16_pieces(cv, r, &src->pieces) : conv_row16(cv, r, src->at);
}

// The transposed panel for the weight gradient g · colsᵀ: B = colsᵀ (k = pixels, n = rows r).
// Tile (kb, jt): VNNI row p holds pixels 2p, 2p+1 of rows r = 16·jt … — the 16 × 16 (32-bit)
// transpose of 16 rows × 32 pixels.
AVX512_TARGET static inline __attribute__((always_inline)) void pack_conv_t_panel_with(const conv_b *cb, int general,
                                                                                       int jt, int count, int kt,
                                                                                       uint16_t *dst) {
    const conv_view cv = view_of(cb);
    uint32_t tmp[16][16] __attribute__((aligned(64)));
    pixel_source src0, src1;
    for (int q = 0; q < count; q++) {
        int r0 = (jt + q) * 16;
        for (int kb = 0; kb < kt; kb++) {
            locate_source(cb, general, kb * 32, &src0);
            locate_source(cb, general, kb * 32 + 16, &src1);
            for (int j = 0; j < 16; j++) {
                _mm256_store_si256((__m256i *)&tmp[j][0], conv_row(cv, general, r0 + j, &src0));
                _mm256_store_si256((__m256i *)&tmp[j][8], conv_row(cv, general, r0 + j, &src1));
            }
            transpose_pairs((const uint32_t (*)[16])tmp, dst + ((size_t)q * kt + kb) * 512);
        }
    }
}

AVX512_TARGET static void pack_conv_t_panel(const void *ctx, int jt, int count, int kt, uint16_t *dst) {
    const conv_b *cb = ctx;
    if (cb->general) pack_conv_t_panel_with(cb, 1, jt, count, kt, dst);
    else pack_conv_t_panel_with(cb, 0, jt, count, kt, dst);
}

static __thread int *conv_rows = NULL;
static __thread size_t conv_rows_cap = 0;
static __thread uint16_t *conv_input = NULL;
static __thread size_t conv_input_cap = 0;

// Row table and bfloat16 copy of images [n0, n1) of x [cin, ntotal, h, w].
AVX512_TARGET static conv_b conv_setup(int cin, int kh, int kw, int ntotal, int h, int w, const float *x, int n0, int n1) {
    int k = cin * kh * kw, images = n1 - n0, plane = h * w;
    int kp = (k + 31) / 32 * 32;                          // rows padded to whole k blocks
    if (conv_rows_cap < (size_t)kp * 3) {
        free(conv_rows);
        conv_rows = malloc(sizeof(int) * (size_t)kp * 3);
        conv_rows_cap = conv_rows ? (size_t)kp * 3 : 0;
        if (!conv_rows) abort();
    }
    for (int r = 0; r < kp; r++) {
        int ci = r / (kh * kw), i = (r / kw) % kh, j = r % kw;
        conv_rows[r] = r < k ? ci * images * plane : 0;
        conv_rows[kp + r] = r < k ? i - kh / 2 : 1 << 29;   // padding rows: never inside the plane
        conv_rows[2 * kp + r] = r < k ? j - kw / 2 : 0;
    }
    size_t run = (size_t)images * plane;                  // contiguous per channel
    uint16_t *xb = reserve(&conv_input, &conv_input_cap, (size_t)cin * run);
    if (!xb) abort();
    for (int ci = 0; ci < cin; ci++) {
        const float *src = x + ((size_t)ci * ntotal + n0) * plane;
        uint16_t *d = xb + (size_t)ci * run;
        size_t i = 0;
        for (; i + 16 <= run; i += 16) _mm256_storeu_si256((__m256i *)(d + i), bf16x16(_mm512_loadu_ps(src + i)));
        if (i < run) {
            __mmask16 m = (__mmask16)((1u << (run - i)) - 1);
            _mm256_mask_storeu_epi16(d + i, m, bf16x16(_mm512_maskz_loadu_ps(m, src + i)));
        }
    }
    int regular = plane % 16 == 0 && (w % 16 == 0 || 16 % w == 0);
    conv_b cb = { k, h, w, images * plane, !regular, xb, conv_rows, conv_rows + kp, conv_rows + 2 * kp };
    return cb;
}

int lfosa_bf16_conv_same_supported(int h, int w, int kh, int kw) {
    return kh % 2 == 1 && kw % 2 == 1 && h > 0 && w > 0;
}



// ---- "same" convolution as an implicit GEMM (+ BN affine → 2×2 max-pool → ReLU at inference) ----
//
// Image by image. The input is copied once into zero-padded bfloat16 planes of width
// wp = w + kw − 1, and the product runs over "padded pixels" q = y·wp + x (x < wp), so that
// kernel offset (i, j) is the shift i·wp + j: 16 consecutive q are 16 consecutive values of a
// padded plane — for every offset and every row.
//   cin % 32 == 0 ("in place"): planes hold channel pairs (VNNI); k is ordered (offset,
//     channel pair) and a B tile (16 channel pairs × 16 q) is one tileloadd straight from the
//     planes at a constant stride: nothing is built.
//   otherwise ("unfolded rows"): planes hold single channels; k is ordered (offset, channel),
//     and each pair of k rows (two shifted planes, interleaved) is written once per image as one
//     contiguous row of pairs, from which tiles load at a constant stride again.
// Where w % 16 == 0 the column tiles are 16-pixel row segments (no padding column computed):
// written straight to the output, or pooled straight from the accumulators of row pairs at
// inference. Other widths go through a per-image [cout, q] scratch map (L2-resident), copied or
// pooled (batch norm affine: multiply, then add; ReLU) from there. The same kernel serves the
// training forward and, with the kernel rotated, the input gradient.
// Sums run in a different order from the unfolded product (k order), so results agree with it
// to float32 rounding, not bit for bit.

typedef struct {
    int cin, cout, kh, kw, h, w;
    int wp, offsets;          // padded width, kh·kw
    int in_place;             // cin % 32 == 0
    int kt;                   // k blocks of 16 pairs
    int nq, nqt;              // padded pixels h·wp and their 16-wide tiles
    int plane;                // elements (pairs in place, values otherwise) between planes
    int urow;                 // pairs per unfolded row (nqt·16)
    int mt;                   // 16-row tiles of cout
} igemm_geom;

static igemm_geom igemm_geometry(int cout, int cin, int kh, int kw, int h, int w) {
    igemm_geom g;
    g.cin = cin; g.cout = cout; g.kh = kh; g.kw = kw; g.h = h; g.w = w;
    g.wp = w + kw - 1; g.offsets = kh * kw;
    g.in_place = cin % 32 == 0;
    g.nq = h * g.wp; g.nqt = (g.nq + 15) / 16;
    int reach = g.nqt * 16 + (kh - 1) * g.wp + (kw - 1);  // furthest element a tile row reads
    g.plane = (reach + 15) / 16 * 16;
    int kpairs = g.in_place ? g.offsets * cin / 2 : (g.offsets * cin + 1) / 2;
    g.kt = (kpairs + 15) / 16;
    g.urow = g.nqt * 16;
    g.mt = (cout + 15) / 16;
    return g;
}

// k of pair slot (g, e): in place (offset, channel pair); unfolded (offset, channel).
static inline void igemm_k(const igemm_geom *g, int pair, int e, int *offset, int *ci) {
    if (g->in_place) {
        int cpairs = g->cin / 2;
        *offset = pair / cpairs;
        *ci = 2 * (pair % cpairs) + e;
    } else {
        int k = 2 * pair + e;
        *offset = k / g->cin;
        *ci = k % g->cin;
    }
}

static __thread uint16_t *igemm_a = NULL;
static __thread size_t igemm_a_cap = 0;
static __thread uint16_t *igemm_planes = NULL;
static __thread size_t igemm_planes_cap = 0;
static __thread uint16_t *igemm_rows = NULL;
static __thread size_t igemm_rows_cap = 0;
static __thread float *igemm_map = NULL;
static __thread size_t igemm_map_cap = 0;

// weight [cout, cin, kh, kw] → A tiles [mt][kt] (16 output channels × 16 pairs) in igemm k order:
// each tile row is 32 values gathered at one stride (in place: 32 channels at one offset,
// stride kh·kw; unfolded: consecutive k, whose (offset, channel) walk is looked up).
AVX512_TARGET static uint16_t *igemm_pack_weights(const igemm_geom *g, const float *weight) {
    uint16_t *pa = reserve(&igemm_a, &igemm_a_cap, (size_t)g->mt * g->kt * 512);
    if (!pa) abort();
    int src[32];
    int valid[32];
    for (int kb = 0; kb < g->kt; kb++) {
        for (int s = 0; s < 32; s++) {
            int offset, ci;
            igemm_k(g, kb * 16 + s / 2, s & 1, &offset, &ci);
            valid[s] = offset < g->offsets;
            src[s] = valid[s] ? ci * g->offsets + offset : 0;
        }
        __m512i lo = _mm512_loadu_si512(src), hi = _mm512_loadu_si512(src + 16);
        __mmask16 mlo = 0, mhi = 0;
        for (int s = 0; s < 16; s++) { mlo |= (__mmask16)(valid[s] << s); mhi |= (__mmask16)(valid[16 + s] << s); }
        for (int co = 0; co < g->mt * 16; co++) {
            uint16_t *dst = pa + ((size_t)(co / 16) * g->kt + kb) * 512 + (co % 16) * 32;
            __m512 vlo = _mm512_setzero_ps(), vhi = _mm512_setzero_ps();
            if (co < g->cout) {
                const float *w = weight + (size_t)co * g->cin * g->offsets;
                vlo = _mm512_mask_i32gather_ps(vlo, mlo, lo, w, 4);
                vhi = _mm512_mask_i32gather_ps(vhi, mhi, hi, w, 4);
            }
            _mm256_store_si256((__m256i *)dst, bf16x16(vlo));
            _mm256_store_si256((__m256i *)(dst + 16), bf16x16(vhi));
        }
    }
    return pa;
}

// Image `n` of x [cin, ntotal, h, w] → zero-padded bfloat16 planes (pairs when in place).
// Only the interior is written: `clear` (the first image of a call) zeroes the padding, which
// later images of the call leave untouched.
AVX512_TARGET static void igemm_fill_planes(const igemm_geom *g, const float *x, int ntotal, int n, uint16_t *planes,
                                            int clear) {
    int h = g->h, w = g->w, wp = g->wp, ph = g->kh / 2, pw = g->kw / 2;
    size_t hw = (size_t)h * w;
    if (g->in_place) {
        uint32_t *dst = (uint32_t *)planes;
        if (clear) memset(dst, 0, sizeof(uint32_t) * (size_t)(g->cin / 2) * g->plane);
        for (int c = 0; c < g->cin / 2; c++) {
            const float *x0 = x + ((size_t)(2 * c) * ntotal + n) * hw;
            const float *x1 = x0 + (size_t)ntotal * hw;
            uint32_t *d = dst + (size_t)c * g->plane + ph * wp + pw;
            for (int y = 0; y < h; y++)
                for (int xs = 0; xs < w; xs += 16) {
                    int cnt = w - xs < 16 ? w - xs : 16;
                    __m512i lo = _mm512_cvtepu16_epi32(bf16x16(load_masked(x0 + (size_t)y * w + xs, cnt)));
                    __m512i hi = _mm512_slli_epi32(_mm512_cvtepu16_epi32(bf16x16(load_masked(x1 + (size_t)y * w + xs, cnt))), 16);
                    _mm512_mask_storeu_epi32(d + (size_t)y * wp + xs, (__mmask16)((1u << cnt) - 1), _mm512_or_si512(lo, hi));
                }
        }
    } else {
        if (clear) memset(planes, 0, sizeof(uint16_t) * (size_t)g->cin * g->plane);
        for (int c = 0; c < g->cin; c++) {
            const float *xc = x + ((size_t)c * ntotal + n) * hw;
            uint16_t *d = planes + (size_t)c * g->plane + ph * wp + pw;
            for (int y = 0; y < h; y++)
                for (int xs = 0; xs < w; xs += 16) {
                    int cnt = w - xs < 16 ? w - xs : 16;
                    _mm256_mask_storeu_epi16(d + (size_t)y * wp + xs, (__mmask16)((1u << cnt) - 1),
                                             bf16x16(load_masked(xc + (size_t)y * w + xs, cnt)));
                }
        }
    }
}

// Unfolded rows (not in place): row p = k rows 2p, 2p+1 (shifted planes), interleaved.
AVX512_TARGET static void igemm_fill_rows(const igemm_geom *g, const uint16_t *planes, uint16_t *rows) {
    const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                                23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    int kvalid = g->offsets * g->cin;
    for (int p = 0; p < g->kt * 16; p++) {
        uint16_t *dst = rows + (size_t)p * g->urow * 2;
        const uint16_t *src[2] = { NULL, NULL };
        for (int e = 0; e < 2; e++) {
            int k = 2 * p + e;
            if (k >= kvalid) continue;
            int offset = k / g->cin, ci = k % g->cin;
            src[e] = planes + (size_t)ci * g->plane + (offset / g->kw) * g->wp + offset % g->kw;
        }
        for (int q = 0; q < g->urow; q += 16) {
            __m256i a = src[0] ? _mm256_loadu_si256((const __m256i *)(src[0] + q)) : _mm256_setzero_si256();
            __m256i b = src[1] ? _mm256_loadu_si256((const __m256i *)(src[1] + q)) : _mm256_setzero_si256();
            __m512i both = _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
            _mm512_store_si512((__m512i *)(dst + 2 * q), _mm512_permutexvar_epi16(interleave, both));
        }
    }
}

// out = A · B for one image over `rows` rows of `width` (a multiple of 16) output columns, in
// 16-wide segments: the segment at (y, x0) reads B at q = y·q_row + x0 (base[kb] + 4q bytes,
// tile rows `stride` bytes apart; tile loads need no alignment) and its 16 × 16 block goes to
// dst + co·ldc + y·out_row + x0. Row segments of the real plane (q_row = wp, out_row = w)
// compute no padding column and write the output in place; one long row (rows = 1, width =
// nqt·16) fills the per-image scratch map.
AMX_TARGET static void igemm_multiply(const igemm_geom *g, const uint16_t *pa, const char *const *base, long stride,
                                      int rows, int width, long q_row, long out_row, float *dst, long ldc) {
    int kt = g->kt, mt = g->mt, strips = width / 16, tiles = rows * strips;
    long ldo = ldc * 4;
    for (int it = 0; it < mt; it += 2) {
        int two_m = it + 1 < mt;
        const uint16_t *a0 = pa + (size_t)it * kt * 512, *a1 = a0 + (size_t)kt * 512;
        for (int jt = 0; jt < tiles; jt += 2) {
            int two_n = jt + 1 < tiles;
            int y0 = jt / strips, x0 = (jt % strips) * 16, y1 = (jt + 1) / strips, x1 = ((jt + 1) % strips) * 16;
            tiles_2x2(a0, a1, two_m, two_n, base, (y0 * q_row + x0) * 4, (y1 * q_row + x1) * 4, stride, kt);
            char *o0 = (char *)(dst + (size_t)it * 16 * ldc + y0 * out_row + x0);
            char *o1 = (char *)(dst + (size_t)it * 16 * ldc + y1 * out_row + x1);
            _tile_stored(0, o0, ldo);
            if (two_n) _tile_stored(1, o1, ldo);
            if (two_m) {
                _tile_stored(2, o0 + 16 * ldo, ldo);
                if (two_n) _tile_stored(3, o1 + 16 * ldo, ldo);
            }
        }
    }
}

// 16 values of rows y and y + 1 → scale·v + shift (multiply, then add, as the separate batch
// norm pass does), the 8 maxima of their 2 × 2 windows in lanes 0–7, and the ReLU.
AVX512_TARGET static inline __m512 pool_pair16(__m512 top, __m512 bottom, __m512 s, __m512 t, int relu) {
    const __m512i even = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 15, 13, 11, 9, 7, 5, 3, 1);
    top = _mm512_add_ps(_mm512_mul_ps(top, s), t);
    bottom = _mm512_add_ps(_mm512_mul_ps(bottom, s), t);
    __m512 m = _mm512_max_ps(_mm512_max_ps(_mm512_permutexvar_ps(even, top), _mm512_permutexvar_ps(odd, top)),
                             _mm512_max_ps(_mm512_permutexvar_ps(even, bottom), _mm512_permutexvar_ps(odd, bottom)));
    return relu ? _mm512_max_ps(m, _mm512_setzero_ps()) : m;
}

// Pooled inference for w % 16 == 0: each block's two column tiles are the same 16 columns of
// rows 2·yo and 2·yo + 1 (row segments, no padding column computed), pooled straight from the
// accumulators into out [cout, ntotal, h/2, w/2] — no scratch map.
AMX_TARGET static void igemm_pool_rows(const igemm_geom *g, const uint16_t *pa, const char *const *base, long stride,
                                       const float *scale, const float *shift, int relu, int ntotal, int n, float *out) {
    int kt = g->kt, mt = g->mt, strips = g->w / 16, ho = g->h / 2, wo = g->w / 2;
    float acc[4][256] __attribute__((aligned(64)));
    for (int it = 0; it < mt; it += 2) {
        int two_m = it + 1 < mt;
        const uint16_t *a0 = pa + (size_t)it * kt * 512, *a1 = a0 + (size_t)kt * 512;
        for (int yo = 0; yo < ho; yo++)
            for (int sx = 0; sx < strips; sx++) {
                long q0 = ((long)(2 * yo) * g->wp + sx * 16) * 4, q1 = q0 + (long)g->wp * 4;
                tiles_2x2(a0, a1, two_m, 1, base, q0, q1, stride, kt);
                _tile_stored(0, acc[0], 64);
                _tile_stored(1, acc[1], 64);
                if (two_m) { _tile_stored(2, acc[2], 64); _tile_stored(3, acc[3], 64); }
                for (int r = 0; r <= two_m; r++)
                    for (int row = 0; row < 16; row++) {
                        int co = (it + r) * 16 + row;
                        if (co >= g->cout) break;
                        __m512 m = pool_pair16(_mm512_load_ps(acc[2 * r] + row * 16), _mm512_load_ps(acc[2 * r + 1] + row * 16),
                                               _mm512_set1_ps(scale[co]), _mm512_set1_ps(shift[co]), relu);
                        _mm512_mask_storeu_ps(out + (((size_t)co * ntotal + n) * ho + yo) * wo + sx * 8, (__mmask16)0xFF, m);
                    }
            }
    }
}

// map [cout, q] → out [cout, ntotal, h/2, w/2] for image n: scale·v + shift, 2×2 max, ReLU.
AVX512_TARGET static void igemm_pool(const igemm_geom *g, const float *map, const float *scale, const float *shift,
                                     int relu, int ntotal, int n, float *out) {
    int ho = g->h / 2, wo = g->w / 2, wp = g->wp;
    long ldm = (long)g->nqt * 16;
    for (int co = 0; co < g->cout; co++) {
        __m512 s = _mm512_set1_ps(scale[co]), t = _mm512_set1_ps(shift[co]);
        const float *row = map + co * ldm;
        float *dst = out + ((size_t)co * ntotal + n) * ho * wo;
        for (int yo = 0; yo < ho; yo++) {
            const float *r0 = row + (size_t)(2 * yo) * wp, *r1 = r0 + wp;
            for (int xs = 0; xs < g->w; xs += 16) {
                int cnt = g->w - xs < 16 ? g->w - xs : 16;
                __m512 m = pool_pair16(load_masked(r0 + xs, cnt), load_masked(r1 + xs, cnt), s, t, relu);
                _mm512_mask_storeu_ps(dst + (size_t)yo * wo + xs / 2, (__mmask16)((1u << (cnt / 2)) - 1), m);
            }
        }
    }
}

// map [cout, q] → out[co · ldc + (n·h + y)·w + x] (the valid columns x < w).
static void igemm_store(const igemm_geom *g, const float *map, int n, float *out, long ldc) {
    long ldm = (long)g->nqt * 16;
    for (int co = 0; co < g->cout; co++)
        for (int y = 0; y < g->h; y++)
            memcpy(out + co * ldc + ((size_t)n * g->h + y) * g->w, map + co * ldm + (size_t)y * g->wp, sizeof(float) * g->w);
}

// Images [n0, n1): with `scale`, the pooled inference block into out [cout, ntotal, h/2, w/2];
// without, the plain convolution into out[co · ldc + (n·h + y)·w + x].
AMX_TARGET static void igemm_conv(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                  const float *x, int n0, int n1, const float *weight,
                                  const float *scale, const float *shift, int relu, float *out, long ldc) {
    igemm_geom g = igemm_geometry(cout, cin, kh, kw, h, w);
    uint16_t *pa = igemm_pack_weights(&g, weight);
    // in place: cin / 2 planes of pairs; unfolded: cin planes of single values
    uint16_t *planes = reserve(&igemm_planes, &igemm_planes_cap, (size_t)g.plane * cin);
    if (!planes) abort();
    uint16_t *rows = NULL;
    if (!g.in_place) {
        rows = reserve(&igemm_rows, &igemm_rows_cap, (size_t)g.kt * 16 * g.urow * 2);
        if (!rows) abort();
    }
    size_t map_elems = (size_t)g.mt * 16 * g.nqt * 16;
    if (!reserve_floats(&igemm_map, &igemm_map_cap, map_elems)) abort();
    const char *stackbase[64];
    const char **base = g.kt <= 64 ? stackbase : malloc(sizeof(char *) * g.kt);
    if (!base) abort();
    long stride;
    if (g.in_place) {
        int cblocks = cin / 32;
        for (int kb = 0; kb < g.kt; kb++) {
            int offset = kb / cblocks, cb = kb % cblocks;
            base[kb] = (const char *)planes + ((size_t)cb * 16 * g.plane + (offset / kw) * g.wp + offset % kw) * 4;
        }
        stride = (long)g.plane * 4;
    } else {
        for (int kb = 0; kb < g.kt; kb++) base[kb] = (const char *)rows + (size_t)kb * 16 * g.urow * 4;
        stride = (long)g.urow * 4;
    }
    configure_tiles();
    int rows_direct = !scale && w % 16 == 0 && cout % 16 == 0;
    int pool_rows = scale && w % 16 == 0;
    for (int n = n0; n < n1; n++) {
        igemm_fill_planes(&g, x, ntotal, n, planes, n == n0);
        if (!g.in_place) igemm_fill_rows(&g, planes, rows);
        if (rows_direct) {
            igemm_multiply(&g, pa, base, stride, h, w, g.wp, w, out + (size_t)n * h * w, ldc);
            continue;
        }
        if (pool_rows) {
            igemm_pool_rows(&g, pa, base, stride, scale, shift, relu, ntotal, n, out);
            continue;
        }
        igemm_multiply(&g, pa, base, stride, 1, g.nqt * 16, 0, 0, igemm_map, (long)g.nqt * 16);
        if (scale) igemm_pool(&g, igemm_map, scale, shift, relu, ntotal, n, out);
        else igemm_store(&g, igemm_map, n, out, ldc);
    }
    _tile_release();
    if (base != stackbase) free(base);
}

// ---- weight gradient as an implicit GEMM (cin % 16 == 0) ----
//
// dW[co][ci, i, j] = Σ over the images' padded pixels q of g[co][q] · plane_ci[q + i·wp + j]
// (q = y·wp + x as in the forward; g is 0 at the dropped columns x ≥ w, so they add nothing).
// A = g in bfloat16, [cout, q] rows: a tile (16 channels × 32 q) loads in place. B tile rows are
// q pairs and its 16 columns 16 input channels at one kernel offset: the input is transposed
// once per image into "pair rows" T[m][ci] = (plane_ci[2m + parity], plane_ci[2m + parity + 1])
// for both parities, so an offset's shift s reads parity s & 1 at row (q0 + s − parity) / 2 —
// again in place. The accumulators stay in tiles across the call's images.

typedef struct {
    igemm_geom c;             // the forward geometry (single-channel planes)
    int q32;                  // 32-wide q tiles
    int gstride;              // bfloat16 per g row (q32 · 32)
    int mrows;                // pair rows per parity
    int cgroups;              // cin / 16
    int kt;                   // k tiles: offsets × cgroups
} igemm_dw_geom;

static __thread uint16_t *dw_g = NULL;
static __thread size_t dw_g_cap = 0;
static __thread uint16_t *dw_t = NULL;
static __thread size_t dw_t_cap = 0;
static __thread float *dw_acc = NULL;
static __thread size_t dw_acc_cap = 0;

// Planes of one image (single channels, igemm layout) → pair rows of both parities.
static void dw_transpose(const igemm_dw_geom *d, const uint16_t *planes, uint32_t *t) {
    int cin = d->c.cin;
    uint32_t rows[16][16] __attribute__((aligned(64)));
    for (int par = 0; par < 2; par++) {
        uint32_t *tp = t + (size_t)par * d->mrows * cin;
        for (int cg = 0; cg < d->cgroups; cg++)
            for (int m0 = 0; m0 < d->mrows; m0 += 16) {
                // rows[j] = 16 pairs of channel cg·16 + j starting at value 2·m0 + par
                for (int j = 0; j < 16; j++)
                    memcpy(rows[j], planes + (size_t)(cg * 16 + j) * d->c.plane + 2 * m0 + par, 64);
                uint32_t tile[256] __attribute__((aligned(64)));
                transpose_pairs((const uint32_t (*)[16])rows, (uint16_t *)tile);
                for (int p = 0; p < 16; p++) memcpy(tp + (size_t)(m0 + p) * cin + cg * 16, tile + p * 16, 64);
            }
    }
}

// g of image n (rows co · ldg + n·h·w) → bfloat16 rows in the padded q layout, 0 elsewhere.
AVX512_TARGET static void dw_fill_g(const igemm_dw_geom *d, const float *g, long ldg, int n, uint16_t *dst) {
    int h = d->c.h, w = d->c.w, wp = d->c.wp;
    memset(dst, 0, sizeof(uint16_t) * (size_t)d->c.mt * 16 * d->gstride);
    for (int co = 0; co < d->c.cout; co++) {
        const float *src = g + co * ldg + (size_t)n * h * w;
        uint16_t *row = dst + (size_t)co * d->gstride;
        for (int y = 0; y < h; y++)
            for (int xs = 0; xs < w; xs += 16) {
                int cnt = w - xs < 16 ? w - xs : 16;
                _mm256_mask_storeu_epi16(row + (size_t)y * wp + xs, (__mmask16)((1u << cnt) - 1),
                                         bf16x16(load_masked(src + (size_t)y * w + xs, cnt)));
            }
    }
}

AMX_TARGET static void igemm_weight_gradient(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                             const float *x, int n0, int n1, const float *g, long ldg,
                                             float beta, float *dw) {
    igemm_dw_geom d;
    d.c = igemm_geometry(cout, cin, kh, kw, h, w);
    d.c.in_place = 0;                                      // single-channel planes
    d.q32 = (d.c.nq + 31) / 32;
    d.gstride = d.q32 * 32;
    int reach = d.gstride + (kh - 1) * d.c.wp + (kw - 1) + 1;   // values a pair row may read
    d.mrows = (reach / 2 + 16) / 16 * 16;
    int need = 2 * d.mrows + 32;                           // plane values the transpose reads
    if (d.c.plane < need) d.c.plane = (need + 15) / 16 * 16;
    d.cgroups = cin / 16;
    d.kt = d.c.offsets * d.cgroups;
    int images = n1 - n0, mt = d.c.mt;
    uint16_t *planes = reserve(&igemm_planes, &igemm_planes_cap, (size_t)d.c.plane * cin);
    size_t gsize = (size_t)mt * 16 * d.gstride, tsize = (size_t)2 * d.mrows * cin * 2;   // uint16 units
    uint16_t *gb = reserve(&dw_g, &dw_g_cap, gsize * images);
    uint16_t *tb = reserve(&dw_t, &dw_t_cap, tsize * images);
    size_t accn = (size_t)mt * 16 * d.kt * 16;
    float *acc_buf = reserve_floats(&dw_acc, &dw_acc_cap, accn);
    if (!planes || !gb || !tb || !acc_buf) abort();
    for (int i = 0; i < images; i++) {
        igemm_fill_planes(&d.c, x, ntotal, n0 + i, planes, i == 0);
        dw_transpose(&d, planes, (uint32_t *)(tb + tsize * i));
        dw_fill_g(&d, g, ldg, n0 + i, gb + gsize * i);
    }
    configure_tiles();
    long astride = (long)d.gstride * 2, bstride = (long)cin * 4, ldacc = (long)d.kt * 16 * 4;
    for (int it = 0; it < mt; it += 2) {
        int two_m = it + 1 < mt;
        for (int kb = 0; kb < d.kt; kb += 2) {
            int two_n = kb + 1 < d.kt;
            size_t boff[2];                                // bytes into image's pair rows
            int bpar[2];
            for (int q = 0; q < 2; q++) {
                int kk = two_n || q == 0 ? kb + q : kb;
                int offset = kk / d.cgroups, cg = kk % d.cgroups;
                int s = (offset / kw) * d.c.wp + offset % kw;
                bpar[q] = s & 1;
                // parity block, then row (s − parity) / 2, channel group cg
                boff[q] = ((size_t)bpar[q] * d.mrows * cin + (size_t)(s - bpar[q]) / 2 * cin + cg * 16) * 4;
            }
            _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
            for (int i = 0; i < images; i++) {
                const char *ga = (const char *)(gb + gsize * i) + (long)it * 16 * astride;
                const char *tt = (const char *)(tb + tsize * i);
                const char *b0 = tt + boff[0], *b1 = tt + boff[1];
                for (int qt = 0; qt < d.q32; qt++) {
                    long qa = (long)qt * 64, qb = (long)qt * 16 * bstride;   // 32 q: 64 bytes of g, 16 pair rows
                    _tile_loadd(4, ga + qa, astride);
                    _tile_loadd(6, b0 + qb, bstride);
                    _tile_dpbf16ps(0, 4, 6);
                    if (two_n) { _tile_loadd(7, b1 + qb, bstride); _tile_dpbf16ps(1, 4, 7); }
                    if (two_m) {
                        _tile_loadd(5, ga + 16 * astride + qa, astride);
                        _tile_dpbf16ps(2, 5, 6);
                        if (two_n) _tile_dpbf16ps(3, 5, 7);
                    }
                }
            }
            char *acc = (char *)dw_acc + (long)it * 16 * ldacc + (long)kb * 64;
            _tile_stored(0, acc, ldacc);
            if (two_n) _tile_stored(1, acc + 64, ldacc);
            if (two_m) {
                _tile_stored(2, acc + 16 * ldacc, ldacc);
                if (two_n) _tile_stored(3, acc + 16 * ldacc + 64, ldacc);
            }
        }
    }
    _tile_release();
    // acc [co][kb·16 + col], kb = offset · cgroups + cg → dw [co][ci · offsets + offset]:
    // 16 channels of one offset at a time, `offsets` apart
    int offsets = d.c.offsets;
    __m512i lanes = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                       _mm512_set1_epi32(offsets));
    __m512 vbeta = _mm512_set1_ps(beta);
    for (int co = 0; co < cout; co++) {
        const float *arow = dw_acc + (size_t)co * d.kt * 16;
        float *drow = dw + (size_t)co * cin * offsets;
        for (int kb = 0; kb < d.kt; kb++) {
            int offset = kb / d.cgroups, cg = kb % d.cgroups;
            float *base = drow + (size_t)cg * 16 * offsets + offset;
            __m512 v = _mm512_load_ps(arow + kb * 16);
            if (beta != 0) v = _mm512_fmadd_ps(_mm512_i32gather_ps(lanes, base, 4), vbeta, v);
            _mm512_i32scatter_ps(base, lanes, v, 4);
        }
    }
}

void lfosa_bf16_conv_same_weight_gradient(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                          const float *x, int n0, int n1, const float *g, int ldg,
                                          float beta, float *dw) {
    int k = cin * kh * kw;
    if (cout <= 0 || n1 <= n0) return;
    if (cin % 16 == 0) {
        igemm_weight_gradient(cout, cin, kh, kw, ntotal, h, w, x, n0, n1, g, ldg, beta, dw);
        return;
    }
    conv_b cb = conv_setup(cin, kh, kw, ntotal, h, w, x, n0, n1);
    uint16_t *pa = pack_a_all(0, cout, cb.pixels, g + (size_t)n0 * h * w, ldg);
    amx_run(cout, k, (cb.pixels + 31) / 32, 1, beta, pa, dw, k, pack_conv_t_panel, &cb, NULL);
}

void lfosa_bf16_conv_same_forward(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                  const float *x, int n0, int n1, const float *weight, float *out, int ldc) {
    if (cout <= 0 || cin <= 0 || n1 <= n0) return;
    igemm_conv(cout, cin, kh, kw, ntotal, h, w, x, n0, n1, weight, NULL, NULL, 0, out, ldc);
}

int lfosa_bf16_conv_same_pool_supported(int h, int w, int kh, int kw) {
    return lfosa_bf16_conv_same_supported(h, w, kh, kw) && h % 2 == 0 && w % 2 == 0;
}

void lfosa_bf16_conv_same_pool_forward(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                       const float *x, int n0, int n1, const float *weight,
                                       const float *scale, const float *shift, int relu, float *out) {
    if (cout <= 0 || cin <= 0 || n1 <= n0) return;
    igemm_conv(cout, cin, kh, kw, ntotal, h, w, x, n0, n1, weight, scale, shift, relu, out, 0);
}

#else
int lfosa_amx_bf16_available(void) { return 0; }
int lfosa_bf16_conv_same_supported(int h, int w, int kh, int kw) { (void)h; (void)w; (void)kh; (void)kw; return 0; }
int lfosa_bf16_conv_same_pool_supported(int h, int w, int kh, int kw) { (void)h; (void)w; (void)kh; (void)kw; return 0; }
void lfosa_bf16_conv_same_pool_forward(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                       const float *x, int n0, int n1, const float *weight,
                                       const float *scale, const float *shift, int relu, float *out) {
    (void)cout; (void)cin; (void)kh; (void)kw; (void)ntotal; (void)h; (void)w; (void)x; (void)n0; (void)n1;
    (void)weight; (void)scale; (void)shift; (void)relu; (void)out;
    abort();
}
void lfosa_bf16_conv_same_forward(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                  const float *x, int n0, int n1, const float *weight, float *out, int ldc) {
    (void)cout; (void)cin; (void)kh; (void)kw; (void)ntotal; (void)h; (void)w; (void)x; (void)n0; (void)n1;
    (void)weight; (void)out; (void)ldc;
    abort();
}
void lfosa_bf16_conv_same_weight_gradient(int cout, int cin, int kh, int kw, int ntotal, int h, int w,
                                          const float *x, int n0, int n1, const float *g, int ldg,
                                          float beta, float *dw) {
    (void)cout; (void)cin; (void)kh; (void)kw; (void)ntotal; (void)h; (void)w; (void)x; (void)n0; (void)n1;
    (void)g; (void)ldg; (void)beta; (void)dw;
    abort();
}
void lfosa_bf16_gemm(int transA, int transB, int m, int n, int k, float alpha,
                     const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    (void)transA; (void)transB; (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)lda;
    (void)b; (void)ldb; (void)beta; (void)c; (void)ldc;
    abort();
}
size_t lfosa_bf16_packed_b_elements(int k, int n) { (void)k; (void)n; return 0; }
void lfosa_bf16_pack_b(int transB, int k, int n, const float *b, int ldb, uint16_t *dst) {
    (void)transB; (void)k; (void)n; (void)b; (void)ldb; (void)dst;
    abort();
}
void lfosa_bf16_gemm_packed_b(int transA, int m, int n, int k, float alpha, const float *a, int lda,
                              const uint16_t *packed_b, float beta, float *c, int ldc) {
    (void)transA; (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)lda; (void)packed_b; (void)beta; (void)c; (void)ldc;
    abort();
}
#endif
