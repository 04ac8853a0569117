#!/usr/bin/env bash
# Runs every benchmark on this machine and prints one JSON line each.
# The engine benchmark alternates lfosa and the identical PyTorch network (Debian's
# python3-torch, 2 threads) so both see the same machine load; compare the pairs.
#   usage: bash assets/bench/run_all.sh [rounds]     (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-2}"
swift build -c release --product lfosa >/dev/null
bin=.build/release/lfosa
# float32 on both sides, then bfloat16 products (lfosa: AMX, where the CPU has it; PyTorch:
# torch.autocast with bfloat16).
for _ in $(seq "$rounds"); do
    /usr/bin/python3 assets/bench/reference_cnn_torch.py 2 6 fp32
    "$bin" bench engine --json --seconds 6 --precision fp32
    /usr/bin/python3 assets/bench/reference_cnn_torch.py 2 6 bf16
    "$bin" bench engine --json --seconds 6 --precision bf16
done
# float16 training convolutions against float32 training (the same binary, alternating), then the
# default of CPUs with AVX512-FP16/VNNI and no AMX: int8 scoring with float16 training. Where the
# CPU lacks them, the JSON's train_precision / matmul_precision say what ran instead.
for _ in $(seq "$rounds"); do
    "$bin" bench engine --json --seconds 6 --train-precision fp32
    "$bin" bench engine --json --seconds 6 --train-precision fp16
    "$bin" bench engine --json --seconds 6 --precision int8 --train-precision fp16
done
"$bin" bench data --json
"$bin" bench store
"$bin" bench tui
