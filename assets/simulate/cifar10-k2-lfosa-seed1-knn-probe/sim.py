import csv, sys, glob, numpy as np
d=sys.argv[1]; K=int(sys.argv[2]); b=1500
root='/work/shared/datasets/cifar-10-batches-bin'
labels=np.concatenate([np.fromfile(f'{root}/data_batch_{i}.bin',dtype=np.uint8).reshape(-1,3073)[:,0] for i in range(1,6)])
def auc(s, y):
    o=np.argsort(s); r=np.empty(len(s)); r[o]=np.arange(len(s)); n1=y.sum(); n0=len(y)-n1
    return (r[y].sum()-n1*(n1-1)/2)/(n1*n0)
for f in sorted(glob.glob(d+'/knn-q*.csv'), key=lambda f:int(f.split('-q')[1][:-4])):
    rows=list(csv.reader(open(f)))[1:]
    idx=np.array([int(r[1]) for r in rows]); known=labels[idx]<K
    S=np.array([[float(r[5+2*j]) for j in range(50)] for r in rows]); Y=np.array([[int(r[6+2*j]) for j in range(50)] for r in rows])
    w=np.array([float(r[3]) for r in rows]); mg=np.array([float(r[4]) for r in rows]); pos=-np.arange(len(rows))
    # agreement of neighbour class with predicted
    pred=np.array([int(r[2]) for r in rows])
    agree=(Y[:,:10]==pred[:,None]).mean(1)
    print(f.split('/')[-1], 'unk-in-top50', (Y<0).mean().round(4), 'AUC rankpos', auc(pos,known).round(3), 'margin', auc(mg,known).round(3),
          'sim1', auc(S[:,0],known).round(3), 'sim10', auc(S[:,:10].mean(1),known).round(3), 'agree10', auc(agree,known).round(3))
