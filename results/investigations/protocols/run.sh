#!/bin/sh
# Which training protocol made the book's tables? Each hypothesis is a reproduce.py protocol
# (PROTOCOLS in companion/book_tables.py), run on the same fixed rows with seeds 1-3; the runs go where the
# tables' runs go (results/tables[-<protocol>]/), so the chosen protocol's full run reuses them.
# The write-up, README.md beside this file, is generated: python3 -m research.protocol_experiment
# Run from the repository root: sh results/investigations/protocols/run.sh (resumable: rerun it)
set -e
run() { python3 reproduce.py --seeds 1,2,3 "$@"; }
# cheapest evidence first: the MLP's epochs take seconds, the RNN's several, the CNN's most
for protocol in listing keras2-batch32 epochs-x4 batch64; do
  run --protocol $protocol --table mlp --rows 4,6,16
done
for protocol in listing keras2-batch32 batch64 epochs-x4; do
  run --protocol $protocol --table cnn --rows 1,3
  run --protocol $protocol --table rnn --rows 1,3
done
# round 2 (Table 1.3.2 only), written down after round 1 (companion/book_tables.py)
run --protocol epochs-x8 --table mlp --rows 4,6,16
# the write-up, from the records
python3 -m research.protocol_experiment
