#!/usr/bin/env bash
# Report generation (issue 13 part 4) on the encoders that tools/experiments/ptbxl_matrix.sh pretrained, several seeds.
# For every pretrained run ENC/sSEED in EXP it trains a report generator with CONFIG (trainer.seed = SEED), then
# generates and scores the validation split (fold 8) once per decoding setting in GUIDANCE, and the test split
# (fold 9) with the same settings. The decoding setting is chosen afterwards on the validation files only
# (tools/experiments/report_select.py); the test files of the other settings are kept so that nothing is rerun.
# Finished trainings and evaluations are skipped, so the script can be rerun after an interruption.
#
# usage: tools/experiments/report_matrix.sh STORES EXP OUT NAME CONFIG "SEEDS" "ENCODERS"
#   STORES    folder with store-pretrain, store-super, store-sub, store-form, store-rhythm
#   EXP       ptbxl_matrix.sh's OUT (holds ENC/sSEED pretrained runs)
#   OUT NAME  report runs go to OUT/NAME-ENC/sSEED
#   CONFIG    report config (e.g. configs/report-ptbxl-real.yaml)
# env: THREADS (LibTorch threads, default 1), DERI (command), GUIDANCE (e.g. "0 1 2 3"; empty: the run's own decoding
#      setting only), EXTRA (more --set arguments for training)
set -euo pipefail
STORES=$(realpath "$1"); EXP=$(realpath "$2"); OUT=$(realpath -m "$3"); NAME=$4; CONFIG=$(realpath "$5")
SEEDS=${6:-"1 2 3"}; ENCODERS=${7:-"deri"}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DERI=${DERI:-"dotnet run -c Release --project $ROOT/src/Deri.Cli --"}
GUIDANCE=${GUIDANCE-}
LABELS=(--labels-store "$STORES/store-super" --labels-store "$STORES/store-sub" --labels-store "$STORES/store-form" --labels-store "$STORES/store-rhythm")
for seed in $SEEDS; do
  for enc in $ENCODERS; do
    run="$OUT/$NAME-$enc/s$seed"
    mkdir -p "$OUT/$NAME-$enc"
    if [ ! -f "$run/.done" ]; then
      resume=(); [ -d "$run" ] && resume=(--resume auto)
      start=$(date +%s)
      # shellcheck disable=SC2086
      $DERI report train --config "$CONFIG" --set pretrained_run="$EXP/$enc/s$seed" --set data_path="$STORES/store-pretrain" \
        --set trainer.seed="$seed" ${EXTRA-} --threads "${THREADS:-1}" --out "$run" "${resume[@]}" > "$run.log" 2>&1
      echo "$(( $(date +%s) - start ))" > "$run/.done"
      echo "$NAME-$enc seed $seed: trained in $(cat "$run/.done") s"
    fi
    for g in ${GUIDANCE:-default}; do
      for split in val test; do
        dir="$run/eval-$split-g$g"
        [ -f "$dir/metrics.json" ] && continue
        guidance=(); [ "$g" != default ] && guidance=(--guidance "$g")
        $DERI report eval --model "$run" --store "$STORES/store-pretrain" --split "$split" "${LABELS[@]}" "${guidance[@]}" \
          --threads "${THREADS:-1}" --out "$dir" >> "$run.log" 2>&1
      done
    done
  done
done
