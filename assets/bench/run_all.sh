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
for _ in $(seq "$rounds"); do
    /usr/bin/python3 assets/bench/reference_cnn_torch.py 2 6
    "$bin" bench engine --json --seconds 6
done
"$bin" bench data --json
"$bin" bench store
"$bin" bench tui
