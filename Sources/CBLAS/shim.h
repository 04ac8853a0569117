#ifndef LFOSA_CBLAS_SHIM_H
#define LFOSA_CBLAS_SHIM_H
#include <cblas.h>
// OpenBLAS thread control (declared in cblas.h of Debian's openblas-pthread build).
static inline void lfosa_blas_set_threads(int n) { openblas_set_num_threads(n); }
static inline int lfosa_blas_get_threads(void) { return openblas_get_num_threads(); }
#endif
