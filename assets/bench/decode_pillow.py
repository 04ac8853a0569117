#!/usr/bin/python3
"""Pillow baseline for `lfosa bench data`: decode every PNG/JPEG in a folder to RGB at SIZE×SIZE.

Same work as lfosa's folder loader: sorted recursive walk, open, convert to RGB, centre
crop + area resize when the size differs (ImageOps.fit with BOX), collect the bytes.
One process (what a plain Pillow loader does). Prints one JSON line on stdout:
{"impl": "pillow", "images": N, "seconds": S, "images_per_s": R, "cpu_s_per_image": C};
the median of --repeats runs (CPU time: process_time over all runs).
Run with Debian's /usr/bin/python3 (python3-pil).
"""
import argparse
import json
import os
import statistics
import sys
import time

from PIL import Image, ImageOps

EXTENSIONS = {".png", ".jpg", ".jpeg", ".jpe", ".jfif"}


def list_images(root):
    paths = []
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            if os.path.splitext(name)[1].lower() in EXTENSIONS:
                paths.append(os.path.join(directory, name))
    return paths


def decode_all(paths, size):
    pool = bytearray()
    decoded = 0
    for path in paths:
        try:
            with Image.open(path) as im:
                im = im.convert("RGB")
                if im.size != (size, size):
                    im = ImageOps.fit(im, (size, size), method=Image.BOX)
                pool += im.tobytes()
                decoded += 1
        except Exception as error:  # skip-and-count, as lfosa does
            print(f"{path}: {error}", file=sys.stderr)
    return decoded, pool


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    paths = list_images(args.folder)
    if not paths:
        print(f"{args.folder}: no images", file=sys.stderr)
        return 1
    times = []
    decoded = 0
    cpu_start = time.process_time()
    for _ in range(max(1, args.repeats)):
        start = time.perf_counter()
        decoded, _pool = decode_all(list_images(args.folder), args.size)
        times.append(time.perf_counter() - start)
    cpu_per_image = (time.process_time() - cpu_start) / (max(1, args.repeats) * decoded)
    seconds = statistics.median(times)
    print(json.dumps({"impl": "pillow", "images": decoded, "seconds": round(seconds, 4),
                      "images_per_s": round(decoded / seconds, 1), "cpu_s_per_image": round(cpu_per_image, 9)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
