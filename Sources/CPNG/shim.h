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
// The message is a fixed char[64] (a tuple in Swift); hand it over as a C string.
static inline const char *lfosa_png_image_message(png_image *img) { return img->message; }
// Nonzero when the last operation reported only a warning (image still usable).
static inline int lfosa_png_image_warned(png_image *img) { return (img->warning_or_error & PNG_IMAGE_WARNING) != 0; }
#endif
