#!/bin/sh
# The tables' runs that a 2-core CPU takes longest over, on a lent GPU machine (JAX backend),
# until $DEADLINE (seconds since 1970); resumable like run.sh: what was cut off reruns.
# Now: the MLP's wide rows (9-13, the costliest on a CPU; rows done there are skipped) under
# the experiment's choice, epochs-x8, all at once; then, if time is left, the MLP rows that the
# CPU has not run yet, 18 at once.
# (The version of the second loan on 2026-11-27, two runners in two trees, is in git at commit
# e76562c, its copy-back already replaced by the tar; the first loan's is at 79cba3b.)
# The new run folders come back in $OUT/runs.tar, models left out as in git (the machine
# returns only shallow folders): extract it in the repository root.
# Run from the repository root:
#   DEADLINE=$(( $(date +%s) + 480 )) sh results/investigations/protocols/gpu.sh
set -u
out=${OUT:-/tmp/out} && mkdir -p "$out"
touch /tmp/gpu-start
: > "$out/gpu.log"
left() { echo $(( DEADLINE - $(date +%s) )); }
train() {  # --jobs N, then reproduce.py's other arguments, until $DEADLINE
  timeout -s INT -k 30 "$(left)" python3 reproduce.py --seeds 1,2,3 \
    --protocol experiment-choice --table mlp --jobs "$@" >> "$out/gpu.log" 2>&1
}
train 15 --rows 9,10,11,12,13
# Then, while at least 5 minutes are left, whatever MLP rows the CPU has not run yet (80
# epochs of a 256-wide row took 1.3-3.5 minutes on an H200, 18 at once; 160 take about twice).
if [ "$(left)" -gt 300 ]; then
  train 18
fi
find results/tables* -newer /tmp/gpu-start -name record.json | xargs -r -n1 dirname |
  tar cf "$out/runs.tar" --exclude=model.keras -T -
