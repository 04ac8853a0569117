#ifndef LFOSA_CNCURSESW_SHIM_H
#define LFOSA_CNCURSESW_SHIM_H
// SwiftPM drops pkg-config's -D_XOPEN_SOURCE=600: without this the wide API is missing.
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <curses.h>
// Macros Swift cannot import, re-exported as functions (never re-derive bit layouts in Swift).
static inline attr_t lfosa_a_bold(void) { return A_BOLD; }
static inline attr_t lfosa_a_reverse(void) { return A_REVERSE; }
static inline attr_t lfosa_a_dim(void) { return A_DIM; }
static inline attr_t lfosa_a_underline(void) { return A_UNDERLINE; }
static inline attr_t lfosa_a_normal(void) { return A_NORMAL; }
static inline int lfosa_key_f(int n) { return KEY_F(n); }
static inline int lfosa_color_pair(int n) { return COLOR_PAIR(n); }
#endif
