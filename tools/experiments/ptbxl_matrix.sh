#!/usr/bin/env bash
# DERI, its ablations, MERL and ECG-only baselines on the combined PTB-XL stores (docs/RESULTS.md §2), several seeds.
# Every run pretrains on the same store, encoder (ResNet18 of base width 32 at 100 Hz), budget (8 epochs, batch 32)
# and seeds; DERI and MERL keep the checkpoint with the best validation (fold 8) super-class zero-shot AUC, the
# baselines their lowest validation loss. Fold 9 is only read by `zeroshot` and `probe` at the end.
# Finished runs are skipped, so the script can be rerun after an interruption (a run cut mid-way resumes).
#
# usage: tools/experiments/ptbxl_matrix.sh STORES OUT "SEEDS" "VARIANTS"
#   STORES  folder with store-pretrain, store-super, store-sub, store-form, store-rhythm (data prepare commands in docs/RESULTS.md)
#   OUT     folder for runs and tables
#   SEEDS   e.g. "1 2 3"; VARIANTS e.g. "deri merl simclr random deri-no-rme" (all: see variant_args)
# env: THREADS (LibTorch threads, 0 = one per core), DERI (command, default: dotnet run -c Release --project src/Deri.Cli --), PROMPTS (CKEPE prompt file),
#      INIT (variants deri-init, merl-init: the checkpoint or run whose weights start the run, e.g. a `deri demo` run
#      pretrained on synthetic pairs with the same method)
set -euo pipefail
STORES=$(realpath "$1"); OUT=$(realpath -m "$2"); SEEDS=${3:-"1 2 3"}
VARIANTS=${4:-"deri merl simclr stmem astcl deri-no-rme deri-no-cmamix deri-no-uma deri-no-rececg deri-no-decoders"}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DERI=${DERI:-"dotnet run -c Release --project $ROOT/src/Deri.Cli --"}
PROMPTS=$(realpath "${PROMPTS:-$ROOT/../shared/prompts/CKEPE_prompt.json}")
mkdir -p "$OUT"
COMMON=(--set dataset.data_path="$STORES/store-pretrain" --set network.ecg_base_width=32 --threads "${THREADS:-0}")

variant_args() {  # the config and overrides of one variant
  local text=(--config "$ROOT/configs/ptbxl-minilm.yaml" --set zeroshot.meta_data_path="$STORES" --set zeroshot.prompt_dict="$PROMPTS" --set network.text_max_length=64)
  case "$1" in
    deri) echo "${text[@]}" ;;
    merl) echo "${text[@]} --set network.method=merl" ;;
    deri-no-rme) echo "${text[@]} --set network.mask_ratio=0" ;;
    deri-no-cmamix) echo "${text[@]} --set trainer.loss_weights.cma_mix=0" ;;
    deri-no-uma) echo "${text[@]} --set trainer.loss_weights.uma=0" ;;
    deri-no-rececg) echo "${text[@]} --set trainer.loss_weights.rec_ecg=0" ;;
    deri-no-decoders) echo "${text[@]} --set trainer.loss_weights.rec_ecg=0 --set trainer.loss_weights.rec_text=0" ;;
    deri-init) echo "${text[@]} --set trainer.init_from=${INIT:?deri-init needs INIT}" ;;
    merl-init) echo "${text[@]} --set network.method=merl --set trainer.init_from=${INIT:?merl-init needs INIT}" ;;
    simclr|stmem|astcl|byol|barlowtwins|mocov3|simsiam|tstcc|clocs|crt) echo "--config $ROOT/configs/ptbxl-baselines.yaml --method $1" ;;
    # The random-init encoder of every probe table: the baselines' ResNet18 run for one epoch at learning rate 1e-12
    # (the config refuses 0), so AdamW (steps of about the learning rate; decoupled weight decay scaled by it) moves no
    # weight by more than ~1e-10 from its initialisation, while the batch-norm statistics adapt to the pretraining store.
    random) echo "--config $ROOT/configs/ptbxl-baselines.yaml --method simclr --set optimizer.params.lr=1e-12 --set optimizer.scheduler.eta_min=0 --set trainer.max_epochs=1" ;;
    *) echo "unknown variant $1" >&2; exit 2 ;;
  esac
}

for seed in $SEEDS; do
  for v in $VARIANTS; do
    run="$OUT/$v/s$seed"
    if [ -f "$run/best.ckpt" ] && [ -f "$run/.done" ]; then continue; fi
    resume=(); [ -d "$run" ] && resume=(--resume auto)
    mkdir -p "$OUT/$v"
    start=$(date +%s)
    # shellcheck disable=SC2046
    $DERI pretrain $(variant_args "$v") "${COMMON[@]}" --set trainer.seed="$seed" --out "$run" "${resume[@]}" > "$OUT/$v/s$seed.log" 2>&1
    echo "$(( $(date +%s) - start ))" > "$run/.done"
    echo "$v seed $seed: $(cat "$run/.done") s"
    case "$v" in
      deri*|merl*)
        for t in super sub form rhythm; do
          $DERI zeroshot --run "$run" --store "$STORES/store-$t" --prompts "$PROMPTS" --out "$run/zeroshot-$t" > /dev/null 2>> "$OUT/$v/s$seed.log"
        done ;;
    esac
  done
done
