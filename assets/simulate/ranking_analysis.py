"""Reads the per-round rankings written by `lfosa simulate --dump-rankings DIR` (CIFAR-10,
K = 4, known classes 0-3) and prints, per round: the pool's known fraction, the precision of
LfOSA's top-b, the precision the same round's top-b would have had ranked by raw MAV across
classes instead (a counterfactual: later rounds are not replayed), how many knowns the detector
predicts unknown (w = 0), and the known classes of both top-b sets.

Usage: python3 ranking_analysis.py DIR
"""
import csv, sys, collections, glob, os
d = sys.argv[1]; b = 1500
names = ['airplane','automobile','bird','cat','deer','dog','frog','horse','ship','truck']
for f in sorted(glob.glob(d + '/ranking-*.csv'), key=lambda x: int(x.rsplit('-r',1)[1][:-4])):
    rows = list(csv.DictReader(open(f)))
    r = f.rsplit('-r',1)[1][:-4]
    top = rows[:b]
    prec = sum(int(x['known']) for x in top) / b
    nk = sum(int(x['known']) for x in rows)
    predu = [x for x in rows if x['predicted'] == '']
    ku = sum(int(x['known']) for x in predu)
    # precision if ranked by MAV among predicted-known
    pk = [x for x in rows if x['predicted'] != '']
    bymav = sorted(pk, key=lambda x: -float(x['mav']))[:b]
    pm = sum(int(x['known']) for x in bymav) / b
    # per predicted class in top
    pc = collections.Counter(x['predicted'] for x in top)
    pck = collections.Counter(x['predicted'] for x in top if x['known']=='1')
    unk = collections.Counter(names[int(x['class'])] for x in top if x['known']=='0')
    sat = sum(1 for x in top if float(x['score']) >= 0.999)
    print(f"r{r}: pool {len(rows)} knowns {nk} ({nk/len(rows):.2f}); top-b prec {prec:.3f}; by-MAV {pm:.3f}; "
          f"pred-unknown {len(predu)} (knowns among them {ku}); w>=.999 in top {sat}")
    print("   per predicted class in top: " + ", ".join(f"{c}:{pc[c]}({pck[c]/max(1,pc[c]):.2f})" for c in sorted(pc)))
    tk = collections.Counter(names[int(x['class'])] for x in top if x['known']=='1')
    mk = collections.Counter(names[int(x['class'])] for x in bymav if x['known']=='1')
    print("   knowns in top-b by class, GMM: " + ", ".join(f"{n}:{tk[n]}" for n in names[:4])
          + " | by MAV: " + ", ".join(f"{n}:{mk[n]}" for n in names[:4]))
    print("   unknowns picked: " + ", ".join(f"{k}:{v}" for k,v in unk.most_common()))
    # predicted class precision overall among all predicted-known
    allpc = collections.Counter(x['predicted'] for x in pk); allpck = collections.Counter(x['predicted'] for x in pk if x['known']=='1')
    print("   pool predicted-known groups: " + ", ".join(f"{c}:{allpc[c]}({allpck[c]/allpc[c]:.2f})" for c in sorted(allpc)))
