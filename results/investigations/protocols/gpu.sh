#!/bin/sh
# The tables' runs that a 2-core CPU takes longest over, on a lent GPU machine (JAX backend),
# until $DEADLINE (seconds since 1970), resumable like run.sh; what was cut off reruns.
# Two runners share the GPU, the second in a copy of the tree (reproduce.py holds its results
# folder for itself): 1. the experiment's choice for the MLP on the wide rows (9-13: an epoch is
# 5-10x a 256-wide one on a CPU), 12 at once; 2. the listing's wide rows, then the experiment's choice on
# the other MLP rows. Every run prints its command; the new run folders come back in
# $OUT/runs-first.tar and runs-second.tar (extract them in the repository root).
# Run from the repository root:
#   DEADLINE=$(( $(date +%s) + 480 )) sh results/investigations/protocols/gpu.sh
set -u
export XLA_PYTHON_CLIENT_MEM_FRACTION=0.04  # 18 processes share the GPU's memory
logs=${OUT:-/tmp/out}/logs && mkdir -p "$logs"
run() {
  left=$(( DEADLINE - $(date +%s) ))
  if [ "$left" -gt 30 ]; then
    timeout -s INT -k 30 "$left" python3 reproduce.py --seeds 1,2,3 "$@"
  fi
}
touch /tmp/gpu-start
rm -rf /tmp/second && cp -a . /tmp/second
run --jobs 12 --protocol experiment-choice --table mlp --rows 9,10,11,12,13 > "$logs/first.log" 2>&1 &
(cd /tmp/second && run --jobs 6 --table mlp --rows 12,13 &&
 run --jobs 6 --protocol experiment-choice --table mlp --rows 1,2,3,5,7,8,14,15,17,18
) > "$logs/second.log" 2>&1 &
wait
# one tar per runner back (the machine returns only shallow folders), models left out as in git
for runner in first:. second:/tmp/second; do
  (cd "${runner#*:}" && find results/tables* -newer /tmp/gpu-start -name record.json |
   xargs -r -n1 dirname | tar cf "$logs/../runs-${runner%%:*}.tar" --exclude=model.keras -T -)
done
