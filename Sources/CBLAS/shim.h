#ifndef LFOSA_CBLAS_SHIM_H
#define LFOSA_CBLAS_SHIM_H
#include <cblas.h>
#include <malloc.h>
// OpenBLAS thread control (declared in cblas.h of Debian's openblas-pthread build).
static inline void lfosa_blas_set_threads(int n) { openblas_set_num_threads(n); }
static inline int lfosa_blas_get_threads(void) { return openblas_get_num_threads(); }
// Training allocates the same large buffers every step: keep freed blocks in the heap instead of
// returning them to the kernel (glibc would mmap/munmap them and page-fault on every step).
static inline void lfosa_malloc_keep_freed_memory(void) {
    mallopt(M_MMAP_MAX, 0);             // never serve allocations by mmap (the threshold caps at 32 MiB)
    mallopt(M_TRIM_THRESHOLD, 1 << 30); // and do not give the heap's top back either
}
#endif
