#ifndef LFOSA_KERNELS_H
#define LFOSA_KERNELS_H
// Hand-written CPU kernels the numeric core calls where OpenBLAS has none: a bfloat16 matrix
// product on Intel AMX tiles (Sapphire Rapids and later). Everything else goes through cblas.

// 1 when this CPU and kernel can run AMX-BF16 tiles (asks the kernel for the tile-data
// permission on first call); 0 otherwise. Thread-safe; the answer never changes.
int lfosa_amx_bf16_available(void);

// C = alpha·op(A)·op(B) + beta·C, row-major, C is m × n, op(A) m × k, op(B) k × n, with
// op(A), op(B) rounded to bfloat16 (round to nearest even) and products summed in float32.
// transA / transB: 0 = as stored, 1 = transposed. Only call when lfosa_amx_bf16_available().
// Single-threaded; concurrent calls from different threads are safe.
void lfosa_bf16_gemm(int transA, int transB, int m, int n, int k, float alpha,
                     const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
#endif
