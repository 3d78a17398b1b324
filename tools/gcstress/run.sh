#!/usr/bin/env bash
# The long form of the GC-stress check (issue 22; the short form is tests/Deri.Tests/Runtime/GcStressTests.cs).
# Every training method of Deri (DERI, MERL, the ten ECG-only baselines) and report training run STEPS optimizer steps,
# and the service answers REQUESTS requests, each in a process whose startup hook (shared/tools/gcstress) runs
# GC.Collect + WaitForPendingFinalizers without pause (GCSTRESS_PAUSE_MS, default 0 here; 2 ms lets small models slip through). Prints one JSON line per run and exits 1 if any run failed.
#   tools/gcstress/run.sh [OUT] [STEPS] [REQUESTS]      (defaults: /tmp/deri-gcstress, 200, 300)
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${1:-/tmp/deri-gcstress}; steps=${2:-200}; requests=${3:-300}
shared=${DERI_SHARED:-../shared}
mkdir -p "$out"
rm -rf "$out/hook-src"; cp -r "$shared/tools/gcstress" "$out/hook-src"
dotnet build -c Release -o "$out/hook" "$out/hook-src" >/dev/null || { echo "building the hook failed"; exit 2; }
dotnet build -c Release src/Deri.Cli/Deri.Cli.csproj >/dev/null || { echo "building deri failed"; exit 2; }
deri="dotnet src/Deri.Cli/bin/Release/net10.0/linux-x64/deri.dll"
hook="DOTNET_STARTUP_HOOKS=$out/hook/gcstress.dll"; pause="GCSTRESS_PAUSE_MS=${GCSTRESS_PAUSE_MS:-0}"

# 480 synthetic pairs at 100 Hz: 384 train records; batch 8 gives 48 steps an epoch.
[ -d "$out/store" ] || { $deri synth --n 480 --seed 5 --out "$out/data" >/dev/null &&
  $deri data prepare --dataset mimic --root "$out/data" --out "$out/store" --target-rate 100 >/dev/null; } || exit 2
epochs=$(( (steps + 47) / 48 ))
cat > "$out/tiny.yaml" <<YAML
network: {ecg_model: resnet18, text_model: scratch, ecg_base_width: 16, feature_dim: 32, text_max_length: 24, pool_heads: 2, rme_heads: 2,
  projection_head: {mlp_hidden_size: 32, projection_size: 32}, decoder: {heads: 2, head_dim: 16}}
dataset: {data_path: $out/store, seq_length: 1000, sampling_rate: 100}
trainer: {batch_size: 8, val_batch_size: 32, max_epochs: $epochs, checkpoint_every_steps: 50}
zeroshot: {prompt_dict: $out/data/synthetic_prompts.json}
ssl:
  simclr: {hidden_dim: 32, output_dim: 16}
  byol: {hidden_dim: 32, output_dim: 16, predictor_hidden_dim: 32}
  barlowtwins: {hidden_dim: 32, output_dim: 32}
  mocov3: {hidden_dim: 32, output_dim: 16, predictor_hidden_dim: 32}
  simsiam: {hidden_dim: 32, output_dim: 32, predictor_hidden_dim: 8}
YAML

failed=0
run() { # name, args…
  local name=$1; shift
  local t0=$SECONDS
  env "$hook" "$pause" $deri "$@" > "$out/$name.out" 2> "$out/$name.err"; local rc=$?
  local n=$(grep -c '"kind":"train"' "$out/runs/$name/metrics.jsonl" 2>/dev/null || echo 0)
  echo "{\"run\":\"$name\",\"exit\":$rc,\"seconds\":$((SECONDS - t0)),\"logged_train_steps\":$n}"
  [ $rc -eq 0 ] || { failed=1; tail -3 "$out/$name.err" | cut -c1-300; }
}
rm -rf "$out/runs"; mkdir -p "$out/runs"
for m in deri merl simclr byol barlowtwins mocov3 simsiam tstcc clocs astcl crt stmem; do
  run "$m" pretrain --config "$out/tiny.yaml" --method "$m" --out "$out/runs/$m" --threads 1 --set trainer.log_every_steps=1
done
cat > "$out/report.yaml" <<YAML
pretrained_run: $out/runs/deri
checkpoint: last
data_path: $out/store
small_decoder: {n_layer: 1, n_embd: 32, n_head: 2, dropout: 0.0}
trainer: {batch_size: 8, val_batch_size: 32, max_epochs: $epochs, checkpoint_every_steps: 0, num_workers: 0, seed: 3, log_every_steps: 1}
decoding: {num_beams: 2, max_new_tokens: 12}
YAML
run report report train --config "$out/report.yaml" --out "$out/runs/report" --threads 1
run serve bench serve --run "$out/runs/deri" --report-model "$out/runs/report" --store "$out/store" \
  --requests "$requests" --concurrency 8 --threads 2
exit $failed
