#!/usr/bin/env bash
# The real-data protocol on rotating outer folds (issue 25, docs/RESULTS.md §2b): for each outer test fold TEST with its
# own validation fold VAL, the stores (every other shared fold trains), the synthetic-then-real DERI and MERL runs, the
# SimCLR and random-init baselines for seeds 1-3, zero-shot on the test and on the validation fold of all four tasks, and
# the super-class linear probe of every run. Every choice inside a fold (checkpoints, thresholds) is made on VAL.
# Finished steps are skipped, so the script can be rerun after an interruption.
#
# usage: tools/experiments/rotating_folds.sh OUT TEST/VAL [TEST/VAL …]   e.g. runs/rot 8/7 7/6 9/8
# env: DERI (command), THREADS (LibTorch threads per run, default 1), INIT_DERI and INIT_MERL (the synthetic phase:
#      `deri demo --out runs/demo --threads 1` and `deri demo --out runs/demo-merl --threads 1 --set network.method=merl`;
#      default runs/demo/run and runs/demo-merl/run), VARIANTS (default "deri-init merl-init simclr random"), SEEDS,
#      PREPARE_ONLY=1 (only the stores).
set -euo pipefail
OUT=$(realpath -m "$1"); shift
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DERI=${DERI:-"dotnet run -c Release --project $ROOT/src/Deri.Cli --"}
S=$(realpath "$ROOT/../shared/data")
SEEDS=${SEEDS:-"1 2 3"}; VARIANTS=${VARIANTS:-"deri-init merl-init simclr random"}
INIT_DERI=$(realpath "${INIT_DERI:-$ROOT/runs/demo/run}"); INIT_MERL=$(realpath "${INIT_MERL:-$ROOT/runs/demo-merl/run}")
export DERI THREADS=${THREADS:-1}
for pair in "$@"; do
  test_fold=${pair%/*}; val_fold=${pair#*/}
  train=$(for f in 1 2 3 4 5 6 7 8 9; do if [ "$f" != "$test_fold" ] && [ "$f" != "$val_fold" ]; then printf '%s,' "$f"; fi; done); train=${train%,}
  O="$OUT/f$test_fold"; mkdir -p "$O"
  C=(--dataset ptbxl --root "$S/ptbxl" --root "$S/ptbxl-zscore" --source-rate 100 --target-rate 100
     --folds "$train/$val_fold/$test_fold" --report composed --normalize zscore)
  # A finished store is reopened by `data prepare`, so this costs little on a rerun.
  $DERI data prepare "${C[@]}" --task none --require-report --out "$O/store-pretrain" > "$O/prepare.log" 2>&1
  for t in super sub form rhythm; do $DERI data prepare "${C[@]}" --task "$t" --out "$O/store-$t" >> "$O/prepare.log" 2>&1; done
  [ "${PREPARE_ONLY:-0}" = 1 ] && continue
  for v in $VARIANTS; do
    init=""; case "$v" in deri-init) init=$INIT_DERI ;; merl-init) init=$INIT_MERL ;; esac
    INIT=$init "$ROOT/tools/experiments/ptbxl_matrix.sh" "$O" "$O/exp" "$SEEDS" "$v"
  done
  zs=""; for v in $VARIANTS; do case "$v" in deri*|merl*) zs="$zs $v" ;; esac; done
  [ -n "$zs" ] && "$ROOT/tools/experiments/val_zeroshot.sh" "$O" "$O/exp" "$SEEDS" "$zs"
  # One probe table per variant, so that variants may run in separate invocations (or in parallel).
  for v in $VARIANTS; do
    runs=""; for s in $SEEDS; do runs="$runs,$O/exp/$v/s$s"; done
    [ -f "$O/probe-$v/probe.json" ] || $DERI probe --run "${runs#,}" --store "$O/store-super" --ratios 1,10,100 --threads "$THREADS" --out "$O/probe-$v" > "$O/probe-$v.log" 2>&1
  done
  echo "outer fold $test_fold (validation $val_fold) done"
done
