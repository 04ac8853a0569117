#ifndef LFOSA_CPNG_SHIM_H
#define LFOSA_CPNG_SHIM_H
#include <png.h>
// Simplified-API format macros are not imported into Swift.
static inline png_uint_32 lfosa_png_format_rgb(void) { return PNG_FORMAT_RGB; }
static inline png_uint_32 lfosa_png_format_rgba(void) { return PNG_FORMAT_RGBA; }
static inline png_uint_32 lfosa_png_format_gray(void) { return PNG_FORMAT_GRAY; }
static inline png_uint_32 lfosa_png_image_version(void) { return PNG_IMAGE_VERSION; }
static inline size_t lfosa_png_image_size(png_image *img) { return PNG_IMAGE_SIZE(*img); }
static inline int lfosa_png_image_failed(png_image *img) { return PNG_IMAGE_FAILED(*img); }
#endif
