import csv,sys,collections
B=1500
for f in sys.argv[1:]:
    rows=list(csv.DictReader(open(f)))
    top=rows[:B]
    prec=sum(r['known']=='1' for r in top)/B
    groups=collections.defaultdict(list)
    for r in rows:
        if r['predicted']!='' and float(r['score'])>0: groups[r['predicted']].append(r)
    info=[]
    for g,rs in sorted(groups.items()):
        n=sum(1 for r in top if r['predicted']==g); k=sum(1 for r in top if r['predicted']==g and r['known']=='1')
        info.append(f"g{g}: {n} taken prec {k/max(n,1):.3f} (group size {len(rs)}, known {sum(r['known']=='1' for r in rs)})")
    # oracle split with ranking order within group, and with mav order
    def best(order_key):
        gl=[sorted(rs,key=order_key) for rs in groups.values()]
        assert len(gl)==2
        a,b=gl
        ca=[0];cb=[0]
        for r in a: ca.append(ca[-1]+(r['known']=='1'))
        for r in b: cb.append(cb[-1]+(r['known']=='1'))
        res=max(((ca[i]+cb[B-i]),i) for i in range(0,B+1) if i<len(ca) and B-i<len(cb))
        return res[0]/B, res[1]
    rank_order=best(lambda r:int(r['rank']))
    mav_order=best(lambda r:-float(r['mav']))
    print(f, f"top{B} prec {prec:.4f}", "; ".join(info), f"| oracle split rank-order {rank_order}, mav-order {mav_order}")
