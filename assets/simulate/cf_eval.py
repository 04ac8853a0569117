import sys, collections
# labels of the CIFAR-10 training set in batch order
root = '/work/shared/datasets/cifar-10-batches-bin'
labels = []
for i in range(1, 6):
    b = open(f'{root}/data_batch_{i}.bin', 'rb').read()
    labels += [b[j * 3073] for j in range(len(b) // 3073)]
known = set(int(k) for k in sys.argv[2].split(','))
queries = []  # list of dict variant -> precision
cur = None
for line in open(sys.argv[1]):
    parts = line.split()
    name, idx = parts[0], list(map(int, parts[1:]))
    if name == 'base':
        cur = collections.OrderedDict(); queries.append(cur)
    cur[name] = sum(labels[i] in known for i in idx) / len(idx)
names = list(queries[0].keys())
print('query ' + ' '.join(f'{n:>8}' for n in names))
for q, d in enumerate(queries):
    print(f'{q:5d} ' + ' '.join(f'{d.get(n, float("nan")):8.4f}' for n in names))
print('mean  ' + ' '.join(f'{sum(d[n] for d in queries)/len(queries):8.4f}' for n in names))
print('dmean ' + ' '.join(f'{sum(d[n]-d["base"] for d in queries)/len(queries):+8.4f}' for n in names))
