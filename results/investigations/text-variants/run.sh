#!/usr/bin/env bash
# The text models' variants over seeds 1-3, each row one command; a row whose nine records
# (three cells, three seeds) are already under results/lstm_gru_text/ is not run again, so the
# script can be stopped and started again. Run from the repository root:
#   bash results/investigations/text-variants/run.sh
# then `python -m tables.results_index` rewrites results/TEXT.md.
set -euo pipefail
cd "$(dirname "$0")/../../.."
rows=(
  "--dropout 0"
  "--dropout 0.5"
  "--sequence-length 60"
  "--pooling mean"
  "--pooling max"
  "--bidirectional"
  "--trainable-embedding --bidirectional --pooling max"
)
for row in "${rows[@]}"; do
  command="python lstm_gru_text.py --seeds 1,2,3 $row"
  done_runs=$(grep -lF "\"command\": \"$command\"" results/lstm_gru_text/*/record.json 2>/dev/null | wc -l || true)
  if [ "$done_runs" -ge 9 ]; then echo "done: $command"; continue; fi
  echo "running: $command"
  $command > /dev/null
done
baseline_runs=$(ls results/text_baseline/*/record.json 2>/dev/null | wc -l || true)
if [ "$baseline_runs" -lt 9 ]; then python text_baseline.py --model all --seeds 1,2,3 > /dev/null; fi
python -m tables.results_index
