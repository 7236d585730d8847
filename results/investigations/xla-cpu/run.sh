#!/bin/sh
# Historical: companion/xla_dropout.py was deleted on 2026-12-05 (forcing XLA on a CPU did not
# pay: docs/speed.md). Run this from a checkout of commit 1442344, where it still exists:
#   git worktree add ../at-1442344 1442344 && cd ../at-1442344
# Round 2: does naming Philox for Keras' dropout under XLA (companion/xla_dropout.py, now the
# scripts' default on TensorFlow with XLA on a CPU) remove round 1's slowdown at every width of
# Table 1.3.2? At the listing's widths and rows 9, 12 and 13's: TensorFlow with XLA and Keras'
# own dropout (xla_keras_rng: xla_dropout.use_philox turned off), with XLA and Philox named
# (the default), without XLA, and JAX; 3 epochs each (the first is warm-up), 2 interleaved
# passes, one process at a time. Records go to round2/; summary.py takes every pass's, so a
# second run of this script doubles the passes (the committed records are from two runs).
# (Round 1, run before xla_dropout.py existed, is this file as it was at commit 5d0f4df; its
# records are the folders beside this file.)
# Run from the repository root: sh results/investigations/xla-cpu/run.sh
# Then: python3 results/investigations/xla-cpu/summary.py  (writes README.md's tables)
set -e
out=results/investigations/xla-cpu/round2
train() {  # backend, folder, flags...
  backend=$1 folder=$2; shift 2
  KERAS_BACKEND=$backend python3 mlp_mnist.py --epochs 3 --results-dir $out/$folder "$@" > /dev/null
}
train_keras_rng() {  # folder, flags...: mlp_mnist.py with Keras' own dropout under XLA
  folder=$1; shift
  KERAS_BACKEND=tensorflow python3 -c '
import runpy, sys
from companion import xla_dropout
xla_dropout.use_philox = lambda model: False
sys.argv[0] = "mlp_mnist.py"
runpy.run_path("mlp_mnist.py", run_name="__main__")
' --epochs 3 --results-dir $out/$folder "$@" > /dev/null
}
for pass in 1 2; do
  for units in 256-256 256-512-256 512-1024-512 1024-1024-1024; do
    train_keras_rng tensorflow-xla_keras_rng-$units --hidden-units $units --jit-compile yes
    train tensorflow tensorflow-xla-$units --hidden-units $units --jit-compile yes
    train tensorflow tensorflow-noxla-$units --hidden-units $units --jit-compile no
    train jax jax-$units --hidden-units $units
  done
done
# The recorded command of a table run trained on this CPU with Keras' own dropout under XLA
# (results/tables/mlp-09-seed2/), rerun with Philox named: summary.py sets the two side by side
python3 mlp_mnist.py --optimizer sgd --dropout 0.45 --hidden-units 256-512-256 --activation relu \
  --seed 2 --results-dir results/investigations/xla-cpu/rerun/mlp-09-seed2 > /dev/null
