#!/bin/sh
# The GPU measurement (issues 27 and 34) on a lent GPU machine (JAX backend), one command, until $DEADLINE
# (seconds since 1970). Run from the repository root, with Keras installed (the machine has JAX
# but no TensorFlow: pip install the carried keras, namex and optree wheels) and MNIST in
# $KERAS_HOME/datasets/mnist.npz:
#   DEADLINE=$(( $(date +%s) + 450 )) sh results/gpu/device-data.sh
# (QUICK=1 in front runs every step in smoke mode, --quick: to try the script on a CPU.)
# 1. each listing twice in one run, 3 epochs each: Keras' own path (a default run), then
#    --fast (on a JAX GPU: each epoch one compiled scan from the training set on the device):
#    $OUT/paths.md, about 3 minutes;
# 2. each listing on Keras' own path with its own epochs: $OUT/listings.md, about 1 minute;
# 3. the experiment-choice tables with --fast, 78 runs, into a fresh folder, timed, until
#    $DEADLINE: $OUT/tables.log (reproduce.py's own progress lines and the elapsed seconds).
# Every run's folder (records; no models or figures) comes back in $OUT/runs.tar: extract it
# in the repository root; its records are under results/gpu/device-data-runs/.
set -u
out=${OUT:-/tmp/out} && mkdir -p "$out"
runs=results/gpu/device-data-runs
export KERAS_BACKEND=jax
left() { echo $(( DEADLINE - $(date +%s) )); }
until_deadline() {  # the command, stopped (SIGINT, then SIGKILL) at $DEADLINE; skipped after it
  if [ "$(left)" -le 10 ]; then echo "skipped: the deadline has passed: $*" >&2; return 1; fi
  timeout -s INT -k 30 "$(left)" "$@"
}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > "$out/card.txt" 2>&1
python3 -c "import jax, keras; print('JAX', jax.__version__, 'Keras', keras.__version__)" \
  >> "$out/card.txt" 2>&1
check() { until_deadline python3 benchmarks/backend_check.py ${QUICK:+--quick} "$@"; }
check --backends jax --compare-paths --epochs 3 --results-dir "$runs/paths" \
  --output "$out/paths.md" > "$out/paths.log" 2>&1
check --backends jax --epochs 0 --results-dir "$runs/listings" \
  --output "$out/listings.md" > "$out/listings.log" 2>&1
start=$(date +%s)
until_deadline python3 reproduce.py ${QUICK:+--quick} --fast --protocol experiment-choice \
  --seeds 1,2,3 --jobs 18 --results-dir "$runs/tables" > "$out/tables.log" 2>&1
echo "exit $?, $(( $(date +%s) - start )) s for reproduce.py" >> "$out/tables.log"
tar cf "$out/runs.tar" --exclude=model.keras --exclude="*.png" "$runs"
