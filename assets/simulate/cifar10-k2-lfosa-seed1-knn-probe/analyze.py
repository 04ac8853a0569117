import csv, sys, glob, os, numpy as np
d = sys.argv[1]; K = int(sys.argv[2]); b = 1500
root = '/work/shared/datasets/cifar-10-batches-bin'
labels = np.concatenate([np.fromfile(f'{root}/data_batch_{i}.bin', dtype=np.uint8).reshape(-1, 3073)[:, 0] for i in range(1, 6)])
files = sorted(glob.glob(d + '/knn-q*.csv'), key=lambda f: int(f.split('-q')[1][:-4]))
for f in files:
    rows = list(csv.reader(open(f)))[1:]
    idx = np.array([int(r[1]) for r in rows]); known = labels[idx] < K
    S = np.array([[float(r[5 + 2*j]) for j in range(50)] for r in rows])
    Y = np.array([[int(r[6 + 2*j]) for j in range(50)] for r in rows])
    m = len(rows); pos = np.arange(m) / m
    base = known[:b].mean()
    out = [f"{os.path.basename(f)}: cands {m} (known {known.mean():.3f}); top-b {base:.3f}; top-2b-known {known.sum()}"]
    for k in (1, 5, 10, 20, 50):
        u = (Y[:, :k] < 0).mean(1)
        # weighted by similarity
        res = []
        for lam in (0.25, 0.5, 1, 2, 100):
            key = pos + lam * u
            o = np.lexsort((np.arange(m), key))
            res.append(f"{known[o[:b]].mean():.3f}")
        out.append(f"  k={k:2d} lam .25/.5/1/2/inf: " + " ".join(res) + f"   AUC-ish: u known {u[known].mean():.3f} unk {u[~known].mean():.3f}")
    print("\n".join(out))
