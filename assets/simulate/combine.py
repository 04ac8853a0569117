#!/usr/bin/env python3
"""Merge several `lfosa simulate` results.csv files and plot mean ± std per strategy.

usage: combine.py OUT_DIR results.csv [results.csv ...]
Writes OUT_DIR/results.csv (rows concatenated), OUT_DIR/{precision,recall,accuracy}.svg and
OUT_DIR/summary.md (mean ± std over seeds of the mean query precision and final accuracy).
"""
import csv, os, statistics, sys

out, paths = sys.argv[1], sys.argv[2:]
os.makedirs(out, exist_ok=True)
rows, header = [], None
for p in paths:
    with open(p) as f:
        r = csv.DictReader(f)
        header = r.fieldnames
        rows += list(r)
with open(os.path.join(out, "results.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=header)
    w.writeheader()
    w.writerows(rows)

strategies = list(dict.fromkeys(r["strategy"] for r in rows))
colours = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"]

def ms(values):
    return (statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0)

def series(strategy, key):
    mine = [r for r in rows if r["strategy"] == strategy and r[key]]
    rounds = sorted({int(r["round"]) for r in mine})
    return [(q, *ms([float(r[key]) for r in mine if int(r["round"]) == q])) for q in rounds]

def svg(title, key, lo, hi):
    W, H, L, R, T, B = 640, 420, 60, 170, 40, 50
    pts = {s: series(s, key) for s in strategies}
    maxr = max(q for s in pts.values() for q, _, _ in s) or 1
    x = lambda q: L + (W - L - R) * q / maxr
    y = lambda v: T + (H - T - B) * (1 - (v - lo) / (hi - lo))
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
         '<rect width="100%" height="100%" fill="white"/>', f'<text x="{W/2-60}" y="22" font-size="15">{title}</text>']
    for i in range(6):
        v = lo + (hi - lo) * i / 5
        o.append(f'<line x1="{L}" y1="{y(v):.1f}" x2="{W-R}" y2="{y(v):.1f}" stroke="#ddd"/><text x="{L-8}" y="{y(v):.1f}" dy="4" text-anchor="end">{v:.2f}</text>')
    for q in range(maxr + 1):
        o.append(f'<text x="{x(q):.1f}" y="{H-B+18}" text-anchor="middle">{q}</text>')
    o.append(f'<text x="{(L+W-R)/2}" y="{H-12}" text-anchor="middle">query round</text>')
    o.append(f'<rect x="{L}" y="{T}" width="{W-L-R}" height="{H-T-B}" fill="none" stroke="#444"/>')
    for k, s in enumerate(strategies):
        c, p = colours[k % len(colours)], pts[s]
        band = [f"{x(q):.1f},{y(m+d):.1f}" for q, m, d in p] + [f"{x(q):.1f},{y(m-d):.1f}" for q, m, d in reversed(p)]
        o.append(f'<polygon points="{" ".join(band)}" fill="{c}" fill-opacity="0.12"/>')
        o.append(f'<polyline points="{" ".join(f"{x(q):.1f},{y(m):.1f}" for q, m, _ in p)}" fill="none" stroke="{c}" stroke-width="2"/>')
        ly = T + 10 + 18 * k
        o.append(f'<line x1="{W-R+12}" y1="{ly}" x2="{W-R+32}" y2="{ly}" stroke="{c}" stroke-width="2"/><text x="{W-R+38}" y="{ly+4}">{s}</text>')
    o.append("</svg>")
    with open(os.path.join(out, key + ".svg"), "w") as f:
        f.write("\n".join(o) + "\n")

svg("Selection precision per query", "precision", 0, 1)
svg("Recall after each query (code's definition)", "recall", 0, 1)
accs = [float(r["accuracy"]) for r in rows if r["accuracy"]]
svg("Known-class test accuracy", "accuracy", min(accs) - 0.02, max(accs) + 0.02)

lines = ["| strategy | seeds | mean query precision | final accuracy % | train+select s per seed |", "|---|---|---|---|---|"]
for s in strategies:
    seeds = sorted({r["seed"] for r in rows if r["strategy"] == s})
    prec, acc, tim = [], [], []
    for sd in seeds:
        mine = [r for r in rows if r["strategy"] == s and r["seed"] == sd]
        prec.append(statistics.mean(float(r["precision"]) for r in mine if r["precision"]))
        last = max(mine, key=lambda r: int(r["round"]))
        acc.append(100 * float(last["accuracy"]))
        tim.append(sum(float(r["train_s"]) + (float(r["select_s"]) if r["select_s"] else 0) for r in mine))
    f = lambda v, d: f"{ms(v)[0]:.{d}f} ± {ms(v)[1]:.{d}f}"
    lines.append(f"| {s} | {','.join(seeds)} | {f(prec, 3)} | {f(acc, 1)} | {f(tim, 0)} |")
with open(os.path.join(out, "summary.md"), "w") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))
