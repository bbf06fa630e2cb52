#!/usr/bin/env bash
# Renders an integrad report in headless Chromium and checks that it loads and shows every
# section. Exits 77 (CTest: skipped) when Chromium is not installed. Usage: check_report.sh BUILD_DIR
set -euo pipefail
bin="$1/integrad"
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "skipped: Chromium is not installed (apt-get install chromium)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" train --arch cnn --data synthetic-patches --limit 500 --val-limit 200 -q -o "$work/cnn.safetensors" >/dev/null
"$bin" train --arch text --limit 300 --val-limit 100 --lr 0.01 -q -o "$work/text.safetensors" >/dev/null
"$bin" train --arch tabular --epochs 5 -q -o "$work/tabular.safetensors" >/dev/null
"$bin" train --arch transformer --limit 2000 --val-limit 100 --lr 0.003 -q -o "$work/transformer.safetensors" >/dev/null
"$bin" train --arch lstm --limit 2000 --val-limit 100 --lr 0.003 -q -o "$work/lstm.safetensors" >/dev/null
"$bin" train --arch mlp --data synthetic-watermark --limit 1000 --val-limit 100 --epochs 3 -q -o "$work/watermark.safetensors" >/dev/null
"$bin" train --arch tabular --data synthetic-loan --limit 1000 --val-limit 100 --epochs 10 --lr 3e-3 -q -o "$work/loan.safetensors" >/dev/null
"$bin" report "$work/cnn.safetensors" --data synthetic-patches --images 2 --steps 16 --text-model "$work/text.safetensors" -o "$work/report.html" \
  --tabular-model "$work/tabular.safetensors" --transformer-model "$work/transformer.safetensors" \
  --recurrent-model "$work/lstm.safetensors" --watermark-model "$work/watermark.safetensors" --loan-model "$work/loan.safetensors" >/dev/null
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync
       --user-data-dir="$work/profile")
timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$work/report.html" >"$work/dom.html" 2>"$work/chromium.log"
for section in model attributions gallery axioms convergence sanity text tabular evaluation transformer recurrent watermark loan; do
  grep -q "id=\"$section\"" "$work/dom.html" || { echo "section '$section' missing from the rendered report"; exit 1; }
done
grep -q "<svg" "$work/dom.html" || { echo "no inline SVG plot rendered"; exit 1; }
grep -q "The same model without its biases" "$work/dom.html" || { echo "the bias-free axiom matrix (conservation a must) is missing"; exit 1; }
swarms=$(grep -o 'attribution per example</text>' "$work/dom.html" | wc -l)
[ "$swarms" -ge 5 ] || { echo "only $swarms beeswarm plots in the tabular section"; exit 1; }
grep -q '(dummy)</tspan>' "$work/dom.html" || { echo "the tabular plots do not mark the dummy feature's role"; exit 1; }
# The methods × metrics tables with --patches-model: both, the localisation columns, the curves, the findings.
"$bin" report "$work/cnn.safetensors" --data synthetic-patches --images 1 --steps 8 --patches-model "$work/cnn.safetensors" -o "$work/report2.html" >/dev/null
timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$work/report2.html" >"$work/dom2.html" 2>>"$work/chromium.log"
[ "$(grep -o 'relevance-mass ↑' "$work/dom2.html" | wc -l)" -eq 1 ] || { echo "the synthetic-patches metrics table is missing"; exit 1; }
[ "$(grep -o 'deletion curve (a lower area is better)' "$work/dom2.html" | wc -l)" -eq 2 ] || { echo "the deletion curves are missing"; exit 1; }
grep -q "Ranked by relevance mass and by deletion" "$work/dom2.html" || { echo "the localisation finding is missing"; exit 1; }
# The transformer section: the measured table with a row per method, findings, attention maps.
for method in "Layer IG (embedding)" "Attention rollout" "Attention × gradient" "Token occlusion" "KernelSHAP (tokens)"; do
  grep -qF "<td>$method</td>" "$work/dom.html" || { echo "transformer section: no row for $method"; exit 1; }
done
[ "$(grep -o '<li>' "$work/dom.html" | wc -l)" -ge 4 ] || { echo "transformer section: fewer than 4 findings"; exit 1; }
[ "$(grep -o '<svg class="attention"' "$work/dom.html" | wc -l)" -ge 4 ] || { echo "transformer section: fewer than 4 attention maps"; exit 1; }
imgs=$(grep -o 'src="data:image/png;base64' "$work/dom.html" | wc -l)
[ "$imgs" -ge 10 ] || { echo "only $imgs PNG images in the rendered report"; exit 1; }
timeout 120 "$browser" "${flags[@]}" --window-size=1200,2000 --screenshot="$work/shot.png" "file://$work/report.html" >/dev/null 2>&1
[ -s "$work/shot.png" ] || { echo "Chromium made no screenshot"; exit 1; }
echo "report rendered in Chromium: all sections, $imgs images"
