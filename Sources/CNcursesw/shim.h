#ifndef LFOSA_CNCURSESW_SHIM_H
#define LFOSA_CNCURSESW_SHIM_H
// SwiftPM drops pkg-config's -D_XOPEN_SOURCE=600: without this the wide API is missing.
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <langinfo.h>
#include <string.h>
#include <stdio.h>
#include <wchar.h>
#include <curses.h>
#include <term.h>
// Macros Swift cannot import, re-exported as functions (never re-derive bit layouts in Swift).
static inline attr_t lfosa_a_bold(void) { return A_BOLD; }
static inline attr_t lfosa_a_reverse(void) { return A_REVERSE; }
static inline attr_t lfosa_a_dim(void) { return A_DIM; }
static inline attr_t lfosa_a_underline(void) { return A_UNDERLINE; }
static inline attr_t lfosa_a_normal(void) { return A_NORMAL; }
static inline int lfosa_key_f(int n) { return KEY_F(n); }
static inline int lfosa_color_pair(int n) { return COLOR_PAIR(n); }

// Globals Swift 6 refuses to touch (shared mutable state), read through functions.
static inline FILE *lfosa_stdin(void) { return stdin; }
static inline FILE *lfosa_stdout(void) { return stdout; }
static inline WINDOW *lfosa_stdscr(void) { return stdscr; }
static inline int lfosa_colors(void) { return COLORS; }
static inline int lfosa_color_pairs(void) { return COLOR_PAIRS; }

// Terminfo look-ups by capability name (ncurses declares the name non-const on some builds).
static inline int lfosa_tigetflag(const char *name) { return tigetflag((char *)name); }
static inline int lfosa_tigetnum(const char *name) { return tigetnum((char *)name); }
// A string capability, or NULL when absent or not a string.
static inline const char *lfosa_tigetstr(const char *name) {
    char *s = tigetstr((char *)name);
    return (s == NULL || s == (char *)-1) ? NULL : s;
}

// Whether the current LC_CTYPE's character set is UTF-8 (call after setlocale).
static inline int lfosa_locale_is_utf8(void) {
    const char *codeset = nl_langinfo(CODESET);
    return codeset != NULL && (strcmp(codeset, "UTF-8") == 0 || strcmp(codeset, "utf8") == 0);
}

// Fills a cchar_t with one character, attributes and an extended colour pair (passed through
// setcchar's last argument, so pairs above 255 work; COLOR_PAIR() keeps only 8 bits).
static inline int lfosa_setcchar_pair(cchar_t *cell, wchar_t ch, attr_t attrs, int pair) {
    wchar_t text[2] = { ch, 0 };
    return setcchar(cell, text, attrs, 0, &pair);
}

// Reads back the character, attributes and extended pair at (y, x) of a window (tests).
static inline int lfosa_cell_at(WINDOW *win, int y, int x, wchar_t *ch, attr_t *attrs, int *pair) {
    cchar_t cell;
    wchar_t text[CCHARW_MAX + 1];
    short short_pair = 0;
    if (mvwin_wch(win, y, x, &cell) == ERR) return ERR;
    if (getcchar(&cell, text, attrs, &short_pair, pair) == ERR) return ERR;
    *ch = text[0];
    return OK;
}
#endif
