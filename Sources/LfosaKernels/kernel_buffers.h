#ifndef LFOSA_KERNEL_BUFFERS_H
#define LFOSA_KERNEL_BUFFERS_H
// Private to the kernels' C files: their per-thread scratch buffers (Dispatch worker threads
// live for the process, so each keeps its buffers between calls).
#include <stddef.h>
#include <stdlib.h>

// A 64-byte aligned per-thread buffer of at least `bytes` (grown, never shrunk; NULL if out of memory).
static inline void *reserve_bytes(void **buf, size_t *cap, size_t bytes) {
    if (*cap < bytes) {
        free(*buf);
        *buf = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
        *cap = *buf ? bytes : 0;
    }
    return *buf;
}
#endif
