#!/usr/bin/python3
"""PyTorch reference for `lfosa bench engine`: the identical network and steps.

Reference CNN: conv3x3(3->32,pad1)+BN+ReLU+maxpool2 -> conv3x3(32->64)+BN+ReLU+maxpool2
-> conv3x3(64->128)+BN+ReLU+maxpool2 -> flatten(2048) -> linear(2048->256)+ReLU -> linear(256->5).
Train step: batch 128, forward, cross-entropy on logits/0.5, backward, SGD(momentum 0.9, wd 5e-4).
Inference: batch 256, eval mode.  Prints one JSON line like the Swift benchmark.
Run with Debian's python3 (python3-torch): /usr/bin/python3 assets/bench/reference_cnn_torch.py
[threads] [seconds] [fp32|bf16]; bf16 runs forward and backward under torch.autocast (bfloat16,
the counterpart of `lfosa bench engine --precision bf16`).
"""
import contextlib
import json, sys, time
import torch
import torch.nn as nn

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 6.0
precision = sys.argv[3] if len(sys.argv) > 3 else "fp32"
assert precision in ("fp32", "bf16"), "precision: fp32 or bf16"
def autocast():
    if precision == "bf16":
        return torch.autocast(device_type="cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()
torch.set_num_threads(threads)
torch.manual_seed(1)

def block(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2)]

net = nn.Sequential(*block(3, 32), *block(32, 64), *block(64, 128), nn.Flatten(),
                    nn.Linear(2048, 256), nn.ReLU(), nn.Linear(256, 5))
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
x = torch.rand(128, 3, 32, 32)
y = torch.randint(0, 5, (128,))
lossf = nn.CrossEntropyLoss()

def step():
    opt.zero_grad()
    with autocast():
        loss = lossf(net(x).float() / 0.5, y)
    loss.backward()
    opt.step()

def timed(fn, images_per_call, seconds):
    for _ in range(3):
        fn()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn(); n += 1
    return n * images_per_call / (time.perf_counter() - t0)

net.train()
train = timed(step, 128, seconds)
net.eval()
xi = torch.rand(256, 3, 32, 32)
def infer():
    with torch.no_grad(), autocast():
        net(xi)
inf = timed(infer, 256, seconds)
print(json.dumps({"impl": "pytorch-" + torch.__version__, "threads": threads, "precision": precision,
                  "train_images_per_s": round(train, 1), "infer_images_per_s": round(inf, 1)}))
