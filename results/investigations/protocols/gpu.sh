#!/bin/sh
# The same runs as run.sh and the tables' runs after it, on a lent GPU machine (JAX backend),
# several rows at once, most needed first, until $DEADLINE (seconds since 1970): the experiment's
# CNN and RNN rows under the hypotheses still to score, every CNN and RNN row under them, then
# every MLP row under the MLP's chosen protocol. Resumable like run.sh; what was cut off reruns.
# Run from the repository root: DEADLINE=$(( $(date +%s) + 600 )) sh results/investigations/protocols/gpu.sh
set -u
run() {
  left=$(( DEADLINE - $(date +%s) ))
  if [ "$left" -gt 30 ]; then
    timeout -s INT -k 30 "$left" python3 reproduce.py --jobs "${JOBS:-12}" --seeds 1,2,3 "$@"
  fi
}
run --protocol epochs-x4 --table cnn --table rnn
run --protocol batch64 --table cnn --table rnn --rows 1,3
run --protocol keras2-batch32 --table cnn
run --protocol epochs-x4 --table mlp
run --protocol batch64 --table cnn --table rnn --rows 2,4
