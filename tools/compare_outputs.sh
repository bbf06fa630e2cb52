#!/usr/bin/env bash
# Runs a fixed set of explain, axioms and report commands with one integrad binary and keeps every
# output, so that a refactoring can show it changed no bit: run it with the binary before and after
# the change and compare the two folders.
#
#   bash tools/compare_outputs.sh OLD_BINARY /tmp/before
#   bash tools/compare_outputs.sh build/integrad /tmp/after
#   bash tools/compare_outputs.sh --diff /tmp/before /tmp/after
#
# The models are trained by the first binary run and reused (copied) by the second, so that both
# explain the same weights. The report's footer (its run time) is cut before comparing.
set -euo pipefail

if [ "${1:-}" = "--diff" ]; then
  before=$2 after=$3 status=0
  for f in "$before"/*; do
    name=$(basename "$f")
    case $name in *.safetensors | *.log) continue ;; esac
    if ! cmp -s "$f" "$after/$name"; then
      echo "differs: $name"
      status=1
    fi
  done
  [ $status -eq 0 ] && echo "every output is bit for bit the same ($(ls "$before" | wc -l) files)"
  exit $status
fi

bin=$(realpath "$1")
out=$2
models=${INTEGRAD_COMPARE_MODELS:-/tmp/integrad_compare_models}
mkdir -p "$out" "$models"
run() { "$bin" "$@" >>"$out/stdout.txt" 2>&1; }

if [ ! -f "$models/cnn.safetensors" ]; then
  "$bin" train --arch cnn --data synthetic-patches --limit 512 --epochs 1 --seed 0 -q -o "$models/cnn.safetensors"
  "$bin" train --arch mlp --data synthetic-patches --limit 512 --epochs 1 --seed 0 -q -o "$models/mlp.safetensors"
  "$bin" train --arch text --epochs 1 --lr 0.01 --seed 0 -q -o "$models/text.safetensors"
fi
"$bin" dataset --data synthetic-patches --limit 4 -o "$out/x.npy" --labels-out "$out/y.npy" >/dev/null
"$bin" dataset --data synthetic-tokens --limit 3 -o "$out/tokens.npy" --labels-out "$out/token_labels.npy" >/dev/null

: >"$out/stdout.txt"
for model in cnn mlp; do
  m="$models/$model.safetensors"
  run explain "$m" "$out/x.npy" -o "$out/${model}_ig.npy" --deltas "$out/${model}_ig_deltas.npy" --png "$out/png_$model"
  for method in gradient saliency gradxinput smoothgrad; do
    run explain "$m" "$out/x.npy" -o "$out/${model}_$method.npy" --method "$method"
  done
  for rule in riemann_left riemann_trapezoid; do
    run explain "$m" "$out/x.npy" -o "$out/${model}_ig_$rule.npy" --quadrature "$rule" --steps 20 --baseline 0.5 --target 3
  done
  run explain "$m" "$out/x.npy" -o "$out/${model}_ig_adaptive.npy" --adaptive 0.05
  run explain "$m" "$out/x.npy" -o "$out/${model}_smoothgrad_sq.npy" --method smoothgrad --noise-type smoothgrad_sq --samples 7 --stdev 0.2 --seed 3
  run axioms "$m" "$out/x.npy" --limit 2 --json "$out/${model}_axioms.json" --markdown "$out/${model}_axioms.md"
done
# exact IG: `--quadrature exact` before the registry, `--method exact_ig` after it.
"$bin" explain "$models/mlp.safetensors" "$out/x.npy" -o "$out/mlp_exact.npy" --method exact_ig >>"$out/stdout.txt" 2>/dev/null ||
  run explain "$models/mlp.safetensors" "$out/x.npy" -o "$out/mlp_exact.npy" --quadrature exact
run explain "$models/text.safetensors" "$out/tokens.npy" -o "$out/text_lig.npy" --layer 0 --baseline 0 --deltas "$out/text_lig_deltas.npy" --html "$out/text.html"
run axioms --example paper --json "$out/paper.json" --markdown "$out/paper.md"
run report "$models/cnn.safetensors" --data synthetic-patches --images 3 --steps 16 --text-model "$models/text.safetensors" -o "$out/report.html"
sed -i 's/in [0-9]* s\.<\/p><\/footer>/<\/p><\/footer>/' "$out/report.html"
sed -i "s#$out#OUT#g" "$out/stdout.txt"
for d in "$out"/png_*; do
  for f in "$d"/*; do cp "$f" "$out/$(basename "$d")_$(basename "$f")"; done
  rm -r "$d"
done
grep -v '^report: \|^wrote .*report.html' "$out/stdout.txt" >"$out/stdout.filtered" && mv "$out/stdout.filtered" "$out/stdout.txt"
echo "outputs in $out"
