"""Reads the per-round rankings written by `lfosa simulate --dump-rankings DIR` (CIFAR-10,
K = 2, known classes 0-1) and prints, per round: the precision of LfOSA's top-b; the best
precision any split of the b queries between the two predicted classes could have reached with
each class's group ranked by its score (the ceiling of every per-class re-ranking of the same
detector outputs; a counterfactual: later rounds are not replayed); the precision of the top-b
by score across both groups (no per-class mixtures); and the unknown classes LfOSA picked.

Usage: python3 split_ceiling.py DIR SEED
"""
import csv, sys, collections
d, s, b = sys.argv[1], sys.argv[2], 1500
names = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']
r = 0
while True:
    try:
        rows = list(csv.DictReader(open(f'{d}/ranking-lfosa-s{s}-r{r}.csv')))
    except FileNotFoundError:
        break
    top = rows[:b]
    prec = sum(int(x['known']) for x in top) / b
    groups = {g: [int(x['known']) for x in sorted([x for x in rows if x['predicted'] == g], key=lambda x: -float(x['mav']))]
              for g in ['0', '1']}
    best, at = 0.0, None
    for n0 in range(0, b + 1, 10):
        n1 = b - n0
        if n0 > len(groups['0']) or n1 > len(groups['1']):
            continue
        p = (sum(groups['0'][:n0]) + sum(groups['1'][:n1])) / b
        if p > best:
            best, at = p, n0
    flat = sorted([x for x in rows if x['predicted'] != ''], key=lambda x: -float(x['mav']))[:b]
    fp = collections.Counter(names[int(x['class'])] for x in top if x['known'] == '0')
    print(f"query {r}: lfosa {prec:.3f} ({sum(1 for x in top if x['predicted'] == '0')} predicted airplanes); "
          f"best split {best:.3f} ({at} airplanes); top-b by score across classes "
          f"{sum(int(x['known']) for x in flat) / b:.3f}; unknowns picked {dict(fp.most_common(4))}")
    r += 1
