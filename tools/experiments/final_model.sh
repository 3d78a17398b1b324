#!/usr/bin/env bash
# The shipped default model (docs/MODEL_CARD.md): the recipe of the rotating-fold protocol (docs/RESULTS.md §2b:
# DERI pretrained on the demo's synthetic pairs, then 8 epochs on real pairs) trained on every shared PTB-XL fold but
# one, folds 1-8, with fold 9 as validation (checkpoint and thresholds); there is no test fold (fold 10 is not shared).
# Then its report generator and the bundle in models/deri-ptbxl.
#
# usage: tools/experiments/final_model.sh OUT [BUNDLE]    e.g. runs/final models/deri-ptbxl
# env: DERI (command), THREADS (default 1), INIT (the synthetic phase: `deri demo --out runs/demo --threads 1`; default
#      runs/demo/run), SEED (default 1)
set -euo pipefail
OUT=$(realpath -m "$1"); BUNDLE=${2:-}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DERI=${DERI:-"dotnet run -c Release --project $ROOT/src/Deri.Cli --"}
S=$(realpath "$ROOT/../shared/data"); PROMPTS=$(realpath "$ROOT/../shared/prompts/CKEPE_prompt.json")
INIT=$(realpath "${INIT:-$ROOT/runs/demo/run}"); SEED=${SEED:-1}; THREADS=${THREADS:-1}
mkdir -p "$OUT"
C=(--dataset ptbxl --root "$S/ptbxl" --root "$S/ptbxl-zscore" --source-rate 100 --target-rate 100 --folds 1-8/9/10
   --report composed --normalize zscore)
$DERI data prepare "${C[@]}" --task none --require-report --out "$OUT/store-pretrain" > "$OUT/prepare.log" 2>&1
for t in super sub form rhythm; do $DERI data prepare "${C[@]}" --task "$t" --out "$OUT/store-$t" >> "$OUT/prepare.log" 2>&1; done
run="$OUT/deri"
if [ ! -f "$run/.done" ]; then
  resume=(); [ -d "$run" ] && resume=(--resume auto)
  # The variant deri-init of ptbxl_matrix.sh; no test sets, since the test split is empty.
  $DERI pretrain --config "$ROOT/configs/ptbxl-minilm.yaml" --set zeroshot.meta_data_path="$OUT" --set zeroshot.prompt_dict="$PROMPTS" \
    --set network.text_max_length=64 --set trainer.init_from="$INIT" --set 'zeroshot.test_sets={}' \
    --set dataset.data_path="$OUT/store-pretrain" --set network.ecg_base_width=32 --set trainer.seed="$SEED" \
    --threads "$THREADS" --out "$run" "${resume[@]}" > "$OUT/deri.log" 2>&1
  touch "$run/.done"
fi
rep="$OUT/report"
if [ ! -f "$rep/.done" ]; then
  resume=(); [ -d "$rep" ] && resume=(--resume auto)
  $DERI report train --config "$ROOT/configs/report-ptbxl-real.yaml" --set pretrained_run="$run" --set data_path="$OUT/store-pretrain" \
    --set trainer.seed="$SEED" --threads "$THREADS" --out "$rep" "${resume[@]}" > "$OUT/report.log" 2>&1
  touch "$rep/.done"
fi
[ -n "$BUNDLE" ] || exit 0
$DERI model build --run "$run" --store "$OUT/store-super" --store "$OUT/store-sub" --store "$OUT/store-form" --store "$OUT/store-rhythm" \
  --prompts "$PROMPTS" --report-model "$rep" --card "$ROOT/docs/MODEL_CARD.md" \
  --notes "tools/experiments/final_model.sh: synthetic phase $INIT, real phase folds 1-8 (validation fold 9), seed $SEED" --out "$BUNDLE"
$DERI model verify "$BUNDLE"
