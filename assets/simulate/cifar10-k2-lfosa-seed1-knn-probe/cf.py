import csv, sys, glob, numpy as np
d=sys.argv[1]; K=int(sys.argv[2]); b=1500
root='/work/shared/datasets/cifar-10-batches-bin'
labels=np.concatenate([np.fromfile(f'{root}/data_batch_{i}.bin',dtype=np.uint8).reshape(-1,3073)[:,0] for i in range(1,6)])
for f in sorted(glob.glob(d+'/knn-q*.csv'), key=lambda f:int(f.split('-q')[1][:-4])):
    rows=list(csv.reader(open(f)))[1:]
    idx=np.array([int(r[1]) for r in rows]); cls=labels[idx]; known=cls<K
    mg=np.array([float(r[4]) for r in rows]); pred=np.array([int(r[2]) for r in rows]); w=np.array([float(r[3]) for r in rows])
    o=np.argsort(-mg, kind='stable')[:b]
    print(f.split('/')[-1], 'gmm top-b', known[:b].mean().round(3), np.bincount(pred[:b],minlength=K), '| margin top-b', known[o].mean().round(3), np.bincount(pred[o],minlength=K),
          '| per-class prec gmm', [round(known[:b][pred[:b]==c].mean(),3) for c in range(K)], 'w>=.999:', (w[:b]>=.999).sum())
