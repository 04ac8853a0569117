#ifndef LFOSA_CTURBOJPEG_SHIM_H
#define LFOSA_CTURBOJPEG_SHIM_H
#include <stdio.h>
#include <turbojpeg.h>
// TJSCALED is a macro: expose it as a function Swift can call.
static inline int lfosa_tj_scaled(int dimension, tjscalingfactor factor) { return TJSCALED(dimension, factor); }
// Pixel-format and error enums as plain ints (no enum-bridging surprises in Swift).
static inline int lfosa_tjpf_rgb(void) { return TJPF_RGB; }
static inline int lfosa_tjpf_gray(void) { return TJPF_GRAY; }
static inline int lfosa_tjpf_cmyk(void) { return TJPF_CMYK; }
static inline int lfosa_tjcs_cmyk(void) { return TJCS_CMYK; }
static inline int lfosa_tjcs_ycck(void) { return TJCS_YCCK; }
static inline int lfosa_tjsamp_420(void) { return TJSAMP_420; }
static inline int lfosa_tjsamp_gray(void) { return TJSAMP_GRAY; }
static inline int lfosa_tjerr_warning(void) { return TJERR_WARNING; }
static inline int lfosa_tjflag_accuratedct(void) { return TJFLAG_ACCURATEDCT; }
#endif
