#ifndef LFOSA_CZLIB_SHIM_H
#define LFOSA_CZLIB_SHIM_H
#include <zlib.h>
// inflateInit2 is a macro: expose it as a function Swift can call.
static inline int lfosa_inflateInit2(z_streamp strm, int windowBits) { return inflateInit2(strm, windowBits); }
#endif
