#!/usr/bin/env bash
# Zero-shot on the validation fold (fold 8) of every task store, for runs that ptbxl_matrix.sh made: the numbers that
# may choose between variants (the test fold 9 may not). Writes RUN/zeroshot-val-TASK/zeroshot_scores.csv; then
#   /usr/bin/python3 tools/experiments/aggregate.py OUT VARIANTS "" "zeroshot-val-{task}/zeroshot_scores.csv"
# gives each variant's validation mean per task. Finished folders are skipped.
#
# usage: tools/experiments/val_zeroshot.sh STORES OUT "SEEDS" "VARIANTS"
# env: THREADS (default 1), DERI (command), PROMPTS (CKEPE prompt file)
set -euo pipefail
STORES=$(realpath "$1"); OUT=$(realpath "$2"); SEEDS=${3:-"1 2 3"}; VARIANTS=$4
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DERI=${DERI:-"dotnet run -c Release --project $ROOT/src/Deri.Cli --"}
PROMPTS=$(realpath "${PROMPTS:-$ROOT/../shared/prompts/CKEPE_prompt.json}")
for v in $VARIANTS; do
  for seed in $SEEDS; do
    run="$OUT/$v/s$seed"
    for t in super sub form rhythm; do
      [ -f "$run/zeroshot-val-$t/zeroshot_scores.csv" ] && continue
      $DERI zeroshot --run "$run" --store "$STORES/store-$t" --split val --val-split none --prompts "$PROMPTS" \
        --threads "${THREADS:-1}" --out "$run/zeroshot-val-$t" > /dev/null
    done
  done
done
