#!/bin/sh
# The MLP listing with the speed defaults before (Keras' own: no XLA on a CPU, one step per
# call) and after (XLA, 16 steps per call), seeds 1-3: same accuracy within seed noise?
# Run from the repository root: sh results/investigations/mlp-speed-defaults/run.sh
set -e
out=results/investigations/mlp-speed-defaults
for seed in 1 2 3; do
  python3 mlp_mnist.py --seed $seed --jit-compile auto --steps-per-execution 1 --results-dir $out/before
  python3 mlp_mnist.py --seed $seed --results-dir $out/after
done
