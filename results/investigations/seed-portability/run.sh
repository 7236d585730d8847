#!/bin/sh
# One seed, one code path, another CPU: the SimpleRNN rows of Table 1.5.1 with seed 1, on Keras'
# own path (jit_compile auto, one step per call: the settings of the committed AMD EPYC records
# in results/tables/rnn-0[123]-seed1/), on whatever machine runs this. Records go to runs/;
# summary.py sets them beside every committed record of the same configuration.
# Run from the repository root: sh results/investigations/seed-portability/run.sh
# Then: python3 results/investigations/seed-portability/summary.py  (writes README.md)
set -e
out=results/investigations/seed-portability/runs
python3 rnn_mnist.py --seed 1 --results-dir $out > /dev/null                       # rnn-01
python3 rnn_mnist.py --optimizer rmsprop --seed 1 --results-dir $out > /dev/null   # rnn-02
python3 rnn_mnist.py --optimizer adam --seed 1 --results-dir $out > /dev/null      # rnn-03
