#!/usr/bin/env python3
"""Writes a small labeled image folder for the terminal end-to-end test (stdlib only).

make_images.py DIR [PER_CLASS]: DIR/circle/*.png, DIR/square/*.png and DIR/other/*.png,
PER_CLASS files each (default 14), 48x48 RGB. Every image differs (seeded jitter), so every
file has its own content identity. Deterministic: the same call writes the same bytes.
"""
import os
import random
import struct
import sys
import zlib


def png(width, height, rgb_rows):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(row) for row in rgb_rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def image(kind, rng, size=48):
    bg = [rng.randrange(0, 60) for _ in range(3)]
    fg = {"circle": (230, 80, 60), "square": (60, 120, 230), "other": (90, 200, 90)}[kind]
    cx, cy, r = size / 2 + rng.uniform(-6, 6), size / 2 + rng.uniform(-6, 6), rng.uniform(10, 16)
    rows = []
    for y in range(size):
        row = []
        for x in range(size):
            if kind == "circle":
                inside = (x - cx) ** 2 + (y - cy) ** 2 <= r * r
            elif kind == "square":
                inside = abs(x - cx) <= r and abs(y - cy) <= r
            else:
                inside = abs((x - cx) + (y - cy)) <= r / 2 or abs((x - cx) - (y - cy)) <= r / 2
            c = fg if inside else bg
            row += [max(0, min(255, v + rng.randrange(-12, 13))) for v in c]
        rows.append(row)
    return png(size, size, rows)


def main():
    root = sys.argv[1]
    per_class = int(sys.argv[2]) if len(sys.argv) > 2 else 14
    rng = random.Random(20220601)
    for kind in ("circle", "square", "other"):
        os.makedirs(os.path.join(root, kind), exist_ok=True)
        for i in range(per_class):
            with open(os.path.join(root, kind, "%s-%02d.png" % (kind, i)), "wb") as f:
                f.write(image(kind, rng))


if __name__ == "__main__":
    main()
