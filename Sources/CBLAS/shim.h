#ifndef LFOSA_CBLAS_SHIM_H
#define LFOSA_CBLAS_SHIM_H
#include <cblas.h>
#include <malloc.h>
#include <dlfcn.h>
#include <stddef.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
// OpenBLAS thread control (declared in cblas.h of Debian's openblas-pthread build).
static inline void lfosa_blas_set_threads(int n) { openblas_set_num_threads(n); }
static inline int lfosa_blas_get_threads(void) { return openblas_get_num_threads(); }
// Training allocates the same large buffers every step: keep freed blocks in the heap instead of
// returning them to the kernel (glibc would mmap/munmap them and page-fault on every step).
static inline void lfosa_malloc_keep_freed_memory(void) {
    mallopt(M_MMAP_MAX, 0);             // never serve allocations by mmap (the threshold caps at 32 MiB)
    mallopt(M_TRIM_THRESHOLD, 1 << 30); // and do not give the heap's top back either
}

// The kernel family OpenBLAS picked at load time ("Haswell", "SkylakeX", "Prescott", ...).
static inline const char *lfosa_blas_corename(void) { return openblas_get_corename(); }

// Re-runs OpenBLAS's kernel selection (DYNAMIC_ARCH builds only) after OPENBLAS_CORETYPE has
// been set in the environment. Returns 0 when the library has no runtime kernel selection.
// Only safe before any BLAS call is in flight: the process calls it once, at start-up.
static inline int lfosa_blas_reselect_core(void) {
    void (*quit)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit");
    void (*init)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init");
    if (quit == NULL || init == NULL) return 0;
    quit();
    init();
    return 1;
}

// What the CPU and the OS (XSAVE state) support: 2 = AVX-512 F/CD/BW/DQ/VL, 1 = AVX2 + FMA,
// 0 = neither (or not x86).
static inline int lfosa_cpu_vector_level(void) {
#if defined(__x86_64__) || defined(__i386__)
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!(fma && osxsave && avx)) return 0;
    unsigned int xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    if ((xlo & 0x6) != 0x6) return 0;                      // XMM and YMM state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int avx2 = (b >> 5) & 1;
    if (!avx2) return 0;
    int f = (b >> 16) & 1, dq = (b >> 17) & 1, cd = (b >> 28) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
    if (f && dq && cd && bw && vl && (xlo & 0xE0) == 0xE0) return 2;   // opmask, ZMM state
    return 1;
#else
    return 0;
#endif
}
#endif
