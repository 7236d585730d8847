#!/bin/sh
# Does XLA (--jit-compile yes, the MLP's default on TensorFlow) speed the MLP up on a CPU at
# every width of Table 1.3.2, or only at the listing's? The listing's widths (256-256) and row
# 9's (256-512-256), each on TensorFlow with and without XLA and on JAX, then row 9 without
# Dropout; 3 epochs each (the first is warm-up), 2 interleaved rounds, one process at a time.
# Run from the repository root: sh results/investigations/xla-cpu/run.sh
# Then: python3 results/investigations/xla-cpu/summary.py  (writes README.md's table)
set -e
out=results/investigations/xla-cpu
train() {  # backend, folder, flags...
  backend=$1 folder=$2; shift 2
  KERAS_BACKEND=$backend python3 mlp_mnist.py --epochs 3 --results-dir $out/$folder "$@" > /dev/null
}
for round in 1 2; do
  for units in 256-256 256-512-256; do
    train tensorflow tensorflow-xla-$units --hidden-units $units --jit-compile yes
    train tensorflow tensorflow-noxla-$units --hidden-units $units --jit-compile no
    train jax jax-$units --hidden-units $units
  done
  train tensorflow tensorflow-xla-256-512-256-nodropout --hidden-units 256-512-256 --dropout 0 --jit-compile yes
  train tensorflow tensorflow-noxla-256-512-256-nodropout --hidden-units 256-512-256 --dropout 0 --jit-compile no
done
