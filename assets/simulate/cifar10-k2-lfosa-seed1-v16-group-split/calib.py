import csv,sys,collections,math
B=1500
def load(f): return list(csv.DictReader(open(f)))
def topprec(rows, key):
    cand=[r for r in rows if float(r['score'])>0]
    s=sorted(cand,key=key)[:B]
    return sum(r['known']=='1' for r in s)/B, collections.Counter(r['predicted'] for r in s)
d=sys.argv[1]
for seed in sys.argv[2:]:
    prev=None
    for r in range(4):
        rows=load(f'{d}/ranking-lfosa-s{seed}-r{r}.csv')
        base=sum(x['known']=='1' for x in rows[:B])/B
        out=[f"s{seed} r{r} base {base:.4f}"]
        if prev is not None:
            # group precision in previous query
            pc={}
            for g in set(x['predicted'] for x in prev[:B]):
                n=sum(1 for x in prev[:B] if x['predicted']==g); k=sum(1 for x in prev[:B] if x['predicted']==g and x['known']=='1')
                pc[g]=(k+1)/(n+2)
            for name,key in [('w*pi',lambda x:(-float(x['score'])*pc.get(x['predicted'],0.5), int(x['rank']))),
                             ('logit',lambda x:(-(math.log(max(float(x['score']),1e-12))-math.log(max(1-float(x['score']),1e-12)) + math.log(pc.get(x['predicted'],0.5)/(1-pc.get(x['predicted'],0.5)))), int(x['rank'])))]:
                p,c=topprec(rows,key)
                out.append(f"{name} {p:.4f} {dict(c)}")
            out.append(str({g:round(v,3) for g,v in pc.items()}))
        print(' | '.join(out))
        prev=rows
