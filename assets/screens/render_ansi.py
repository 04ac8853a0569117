#!/usr/bin/env python3
"""Renders a `tmux capture-pane -e -p` dump (text + SGR colour codes) to a PNG.

render_ansi.py CAPTURE.txt OUT.png [COLS ROWS]. Needs Pillow and DejaVu Sans Mono. Block
elements (half blocks, eighths, shades) are drawn as rectangles so the image matches what a
terminal shows; everything else goes through the font. Used to make the README's screen
captures from a real `lfosa demo` session in tmux.
"""
import re
import sys

from PIL import Image, ImageDraw, ImageFont

CW, CH = 9, 18
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
BASE16 = [(0, 0, 0), (205, 49, 49), (13, 188, 121), (229, 229, 16), (36, 114, 200), (188, 63, 188), (17, 168, 205), (229, 229, 229),
          (102, 102, 102), (241, 76, 76), (35, 209, 139), (245, 245, 67), (59, 142, 234), (214, 112, 214), (41, 184, 219), (255, 255, 255)]


def xterm256(n):
    if n < 16:
        return BASE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[n // 6 % 6], steps[n % 6])
    v = 8 + 10 * (n - 232)
    return (v, v, v)


DEFAULT_FG, DEFAULT_BG = (220, 220, 220), (16, 16, 20)


def parse(text, cols, rows):
    grid = [[(" ", DEFAULT_FG, DEFAULT_BG, False) for _ in range(cols)] for _ in range(rows)]
    fg, bg, bold, reverse = DEFAULT_FG, DEFAULT_BG, False, False
    for y, line in enumerate(text.split("\n")[:rows]):
        x = 0
        for token in re.split(r"(\x1b\[[0-9;]*m)", line):
            if token.startswith("\x1b["):
                codes = [int(c) if c else 0 for c in token[2:-1].split(";")]
                i = 0
                while i < len(codes):
                    c = codes[i]
                    if c == 0:
                        fg, bg, bold, reverse = DEFAULT_FG, DEFAULT_BG, False, False
                    elif c == 1:
                        bold = True
                    elif c == 22:
                        bold = False
                    elif c == 7:
                        reverse = True
                    elif c == 27:
                        reverse = False
                    elif 30 <= c <= 37:
                        fg = BASE16[c - 30]
                    elif 90 <= c <= 97:
                        fg = BASE16[c - 90 + 8]
                    elif 40 <= c <= 47:
                        bg = BASE16[c - 40]
                    elif 100 <= c <= 107:
                        bg = BASE16[c - 100 + 8]
                    elif c == 39:
                        fg = DEFAULT_FG
                    elif c == 49:
                        bg = DEFAULT_BG
                    elif c in (38, 48) and i + 1 < len(codes):
                        if codes[i + 1] == 5 and i + 2 < len(codes):
                            col = xterm256(codes[i + 2]); i += 2
                        elif codes[i + 1] == 2 and i + 4 < len(codes):
                            col = tuple(codes[i + 2:i + 5]); i += 4
                        else:
                            col = None
                        if col is not None:
                            if c == 38:
                                fg = col
                            else:
                                bg = col
                    i += 1
                continue
            for ch in token:
                if x < cols:
                    f, b = (bg, fg) if reverse else (fg, bg)
                    grid[y][x] = (ch, f, b, bold)
                x += 1
    return grid


def blend(a, b, t):
    return tuple(int(a[i] * t + b[i] * (1 - t)) for i in range(3))


def render(grid, out):
    rows, cols = len(grid), len(grid[0])
    img = Image.new("RGB", (cols * CW, rows * CH), DEFAULT_BG)
    d = ImageDraw.Draw(img)
    font, bold_font = ImageFont.truetype(FONT, 15), ImageFont.truetype(BOLD, 15)
    for y in range(rows):
        for x in range(cols):
            ch, fg, bg, bold = grid[y][x]
            x0, y0 = x * CW, y * CH
            d.rectangle([x0, y0, x0 + CW - 1, y0 + CH - 1], fill=bg)
            o = ord(ch)
            if ch == " ":
                continue
            if o == 0x2580:
                d.rectangle([x0, y0, x0 + CW - 1, y0 + CH // 2 - 1], fill=fg)
            elif o == 0x2588:
                d.rectangle([x0, y0, x0 + CW - 1, y0 + CH - 1], fill=fg)
            elif 0x2581 <= o <= 0x2587:
                h = CH * (o - 0x2580) // 8
                d.rectangle([x0, y0 + CH - h, x0 + CW - 1, y0 + CH - 1], fill=fg)
            elif o == 0x2584:
                d.rectangle([x0, y0 + CH // 2, x0 + CW - 1, y0 + CH - 1], fill=fg)
            elif o == 0x258C:
                d.rectangle([x0, y0, x0 + CW // 2 - 1, y0 + CH - 1], fill=fg)
            elif o == 0x2590:
                d.rectangle([x0 + CW // 2, y0, x0 + CW - 1, y0 + CH - 1], fill=fg)
            elif o in (0x2591, 0x2592, 0x2593):
                t = {0x2591: 0.25, 0x2592: 0.5, 0x2593: 0.75}[o]
                d.rectangle([x0, y0, x0 + CW - 1, y0 + CH - 1], fill=blend(fg, bg, t))
            else:
                d.text((x0, y0 + 1), ch, font=bold_font if bold else font, fill=fg)
    img.save(out, optimize=True)


def main():
    text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
    lines = text.split("\n")
    cols = int(sys.argv[3]) if len(sys.argv) > 3 else 120
    rows = int(sys.argv[4]) if len(sys.argv) > 4 else len(lines)
    render(parse(text, cols, rows), sys.argv[2])


if __name__ == "__main__":
    main()
