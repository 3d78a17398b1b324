#!/usr/bin/env bash
# Recall@1/5/10 (both directions) and label-match rate of a DERI and a MERL run on the demo's synthetic test split.
# Small runs (2000 synthetic records, 2 epochs each) rather than the full `deri demo`:
#   tools/retrieval/recall.sh [OUT]   (default OUT=runs/recall; about 15 min per run on 2 CPU cores)
# Prints two JSON documents (deri index eval) and writes them to OUT/deri-eval.json and OUT/merl-eval.json.
set -euo pipefail
out=${1:-runs/recall}
deri=(dotnet run -c Release --project "$(dirname "$0")/../../src/Deri.Cli" --)
"${deri[@]}" demo --out "$out/demo" --records 2000 --set trainer.max_epochs=2
"${deri[@]}" pretrain --config "$out/demo/run/config.yaml" --set network.method=merl --out "$out/merl"
"${deri[@]}" index build --run "$out/demo/run" --store "$out/demo/store" --split test --out "$out/deri-index"
"${deri[@]}" index build --run "$out/merl" --store "$out/demo/store" --split test --out "$out/merl-index"
"${deri[@]}" index eval --index "$out/deri-index" | tee "$out/deri-eval.json"
"${deri[@]}" index eval --index "$out/merl-index" | tee "$out/merl-eval.json"
