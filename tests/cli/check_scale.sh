#!/usr/bin/env bash
# Dataset-wide runs (docs/scale.md): explain in chunks of --batch-size gives the same bits as one
# chunk, for every method; the output summary; --shard i/n and `integrad merge` give the single
# run's bits for explain, predict and evaluate; bad shard specs and incomplete or overlapping merges
# are refused with clear messages. Usage: check_scale.sh BUILD_DIR
set -uo pipefail
bin="$(realpath "$1")/integrad"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
ok() { echo "ok   $*"; }
same() {  # same WHAT A B: the two files are identical
  if cmp -s "$2" "$3"; then ok "$1"; else fail "$1: $2 and $3 differ"; fi
}
# expect_error "what" "text the message must contain" command...
expect_error() {
  local what=$1 needle=$2
  shift 2
  "$@" >"$work/stdout" 2>"$work/stderr"
  local rc=$?
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 128 ]; then fail "$what: exit status $rc"; return; fi
  if ! grep -qF -- "$needle" "$work/stderr"; then fail "$what: stderr lacks '$needle':"; sed 's/^/    /' "$work/stderr"; return; fi
  ok "$what"
}
# An int64 feature mask (1, 28, 28) of 4 bands of 7 rows (no NumPy needed).
write_mask() {
  perl -e '
    my $dict = "{\x27descr\x27: \x27<i8\x27, \x27fortran_order\x27: False, \x27shape\x27: (1, 28, 28), }";
    my $pad = (64 - (10 + length($dict) + 1) % 64) % 64;
    $dict .= " " x $pad . "\n";
    print "\x93NUMPY\x01\x00", pack("v", length($dict)), $dict, pack("q<*", map { int(int($_ / 28) / 7) } 0..783);' >"$1"
}

cd "$work" || exit 1
"$bin" dataset --data synthetic-patches --limit 11 -o x.npy --labels-out y.npy >/dev/null
"$bin" train --arch cnn --data synthetic-patches --limit 64 --val-limit 10 -q -o cnn.safetensors >/dev/null
"$bin" train --arch mlp --data synthetic-patches --limit 64 --val-limit 10 -q -o mlp.safetensors >/dev/null
write_mask mask.npy
"$bin" explain cnn.safetensors x.npy --method saliency -o base.npy -q >/dev/null  # a per-example baseline [N, ...]

# 1. Chunks: --batch-size 512 (one chunk), 4 and 1 give the same bits, for every method.
for spec in "gradient" "saliency" "gradxinput" "smoothgrad --samples 5" "ig --steps 8 --deltas D.npy" "ig --steps 8 --baseline base.npy --target y.npy" \
  "ig --steps 6 --adaptive 0.05" "exact_ig MLP" "deeplift" "guided_backprop" "occlusion --window 1,7,7 --stride 1,7,7" "ablation --feature-mask mask.npy" \
  "shapley --feature-mask mask.npy" "kernelshap --feature-mask mask.npy --samples 20" "shapley-sampling --feature-mask mask.npy --samples 3" \
  "lime --feature-mask mask.npy --samples 30" "gradientshap --samples 4" "gradientshap --samples 3 --baseline base.npy" \
  "smoothgrad --samples 3 --noise-type vargrad" "deconvolution" "blur-ig --steps 6 --max-sigma 4 --deltas D.npy" \
  "guided-ig --steps 6 --max-dist 0.1 --baseline base.npy --deltas D.npy"; do
  model=cnn
  case $spec in *MLP) model=mlp spec=${spec% MLP} ;; esac  # exact IG walks every kink: quick on the MLP only
  for bs in 512 4 1; do
    # shellcheck disable=SC2086
    "$bin" explain $model.safetensors x.npy -o "chunk_$bs.npy" --method $spec --batch-size "$bs" -q >"chunk_$bs.txt" 2>&1 || fail "$spec --batch-size $bs: $(tail -1 "chunk_$bs.txt")"
    sed -i '/^wrote /d' "chunk_$bs.txt"
    [ -f D.npy ] && mv D.npy "deltas_$bs.npy"
  done
  if cmp -s chunk_512.npy chunk_4.npy && cmp -s chunk_512.npy chunk_1.npy && cmp -s chunk_512.txt chunk_1.txt; then ok "chunks of 4 and 1 = one chunk: $spec"; else fail "chunks differ: $spec"; fi
  if [ -f deltas_512.npy ]; then same "chunked deltas: $spec" deltas_512.npy deltas_1.npy; rm -f deltas_*.npy; fi
done

# Layer IG on token ids (outputs of the layer's shape, per-token sums, HTML), in chunks of 2.
"$bin" train --arch text --epochs 1 --lr 0.01 --limit 64 -q -o text.safetensors >/dev/null
"$bin" dataset --data synthetic-tokens --limit 9 -o tokens.npy >/dev/null
for bs in 512 2; do
  "$bin" explain text.safetensors tokens.npy -o "lig_$bs.npy" --layer 0 --baseline 0 --deltas "ld_$bs.npy" --html "t_$bs.html" --batch-size "$bs" -q | grep -v '^wrote' >"lig_$bs.txt"
done
if cmp -s lig_512.npy lig_2.npy && cmp -s ld_512.npy ld_2.npy && cmp -s t_512.html t_2.html && cmp -s lig_512.txt lig_2.txt; then ok "layer IG on tokens: chunks of 2 = one chunk"; else fail "layer IG on tokens: chunks differ"; fi

# 2. The summary: 10 example lines, a note, a summary line; all lines with --verbose.
"$bin" explain cnn.safetensors x.npy -o a.npy --steps 4 >out.txt
lines=$(grep -c '^example ' out.txt)
if [ "$lines" = 10 ] && grep -q '^\.\.\. 1 more examples (--verbose' out.txt && grep -qE '^summary: 11 examples, \|delta\| mean [0-9.e+-]+, worst [0-9.e+-]+ \(example [0-9]+\), 0 with non-finite attributions$' out.txt; then
  ok "summary: 10 lines, a note and the summary line"
else
  fail "summary output:"; sed 's/^/    /' out.txt
fi
"$bin" explain cnn.safetensors x.npy -o a.npy --steps 4 --verbose >out.txt
[ "$(grep -c '^example ' out.txt)" = 11 ] && ok "--verbose: a line per example" || fail "--verbose printed $(grep -c '^example ' out.txt) example lines"
"$bin" explain cnn.safetensors x.npy -o a.npy --method saliency >out.txt
grep -qx 'summary: 11 examples, 0 with non-finite attributions' out.txt && ok "summary without deltas" || fail "summary without deltas: $(grep summary out.txt)"
"$bin" explain cnn.safetensors x.npy -o a.npy --method saliency --baseline 0.5 2>err.txt >/dev/null
# Long runs on a pipe print plain progress lines, never the terminal's bar (carriage returns).
if grep -q $'\r' err.txt; then fail "a progress bar was drawn on a pipe"; else ok "no progress bar on a pipe"; fi

# 3. Shards: four --shard runs merged give the single run's bits (explain with deltas, predict, evaluate).
"$bin" explain cnn.safetensors x.npy -o whole.npy --method smoothgrad --samples 4 -q >/dev/null
"$bin" explain cnn.safetensors x.npy -o whole_ig.npy --steps 8 --baseline base.npy --target y.npy --deltas whole_d.npy -q >/dev/null
"$bin" predict cnn.safetensors x.npy -o whole_logits.npy >/dev/null
"$bin" evaluate cnn.safetensors x.npy --attributions whole_ig.npy --metric infidelity --samples 4 -o whole_scores.npy >/dev/null
for i in 0 1 2 3; do
  "$bin" explain cnn.safetensors x.npy -o "s$i.npy" --method smoothgrad --samples 4 --shard "$i/4" -q >/dev/null || fail "explain --shard $i/4"
  "$bin" explain cnn.safetensors x.npy -o "ig$i.npy" --steps 8 --baseline base.npy --target y.npy --deltas "d$i.npy" --shard "$i/4" -q >/dev/null || fail "explain ig --shard $i/4"
  "$bin" predict cnn.safetensors x.npy -o "p$i.npy" --shard "$i/4" >/dev/null || fail "predict --shard $i/4"
  "$bin" evaluate cnn.safetensors x.npy --attributions whole_ig.npy --metric infidelity --samples 4 -o "e$i.npy" --shard "$i/4" >/dev/null || fail "evaluate --shard $i/4"
done
grep -qE '^\{"first": 2, "end": 5, "total": 11, "shard": "1/4", "inputs": "[0-9a-f]{16}", "options": "[0-9a-f]{16}", "output": "[0-9a-f]{16}"\}$' s1.npy.range.json && ok "the sidecar of shard 1/4 of 11: rows [2, 5), with what it was computed from" || fail "sidecar: $(cat s1.npy.range.json)"
"$bin" merge s3.npy s1.npy s0.npy s2.npy -o merged.npy >/dev/null && same "explain smoothgrad: merged shards = one run" merged.npy whole.npy
"$bin" merge ig0.npy ig1.npy ig2.npy ig3.npy -o merged_ig.npy >/dev/null && same "explain ig (per-example baseline, targets): merged = one run" merged_ig.npy whole_ig.npy
"$bin" merge d0.npy d1.npy d2.npy d3.npy -o merged_d.npy >/dev/null && same "explain --deltas: merged = one run" merged_d.npy whole_d.npy
"$bin" merge p0.npy p1.npy p2.npy p3.npy -o merged_p.npy >/dev/null && same "predict: merged = one run" merged_p.npy whole_logits.npy
"$bin" merge e0.npy e1.npy e2.npy e3.npy -o merged_e.npy >/dev/null && same "evaluate: merged = one run" merged_e.npy whole_scores.npy
"$bin" explain cnn.safetensors x.npy -o s_one.npy --method smoothgrad --samples 4 --shard 0/1 -q >/dev/null
same "--shard 0/1 = no shard" s_one.npy whole.npy
"$bin" predict cnn.safetensors x.npy -o empty.npy --shard 0/20 2>err.txt >/dev/null && grep -q "this shard holds none of the 11 examples" err.txt && grep -q '^{"first": 0, "end": 0, "total": 11, "shard": "0/20", ' empty.npy.range.json &&
  ok "an empty shard (N < n): an empty output with its range" || fail "empty shard"

# 4. Bad shard specs and merges.
for spec in 4/4 -1/4 1/0 abc 1/2/3 "" 1/ /4 2/1; do
  expect_error "--shard '$spec' refused" "--shard" "$bin" explain cnn.safetensors x.npy -o bad.npy --shard "$spec"
done
expect_error "--shard 4/4: names the allowed range" "I must be in [0, 3]" "$bin" predict cnn.safetensors x.npy -o bad.npy --shard 4/4
expect_error "evaluate --shard with --methods refused" "--shard goes with --attributions" "$bin" evaluate cnn.safetensors x.npy --methods saliency --metrics sparseness --shard 0/2
expect_error "merge: a missing shard is named" "missing examples [5, 8) of 11 (shard 2/4)" "$bin" merge s0.npy s1.npy s3.npy -o bad.npy
expect_error "merge: missing the end" "missing examples [8, 11) of 11 (shard 3/4)" "$bin" merge s0.npy s1.npy s2.npy -o bad.npy
expect_error "merge: an overlap is named" "overlap" "$bin" merge s0.npy s1.npy s1.npy s2.npy s3.npy -o bad.npy
expect_error "merge: a file without a sidecar" "no range sidecar" "$bin" merge whole.npy s1.npy -o bad.npy
expect_error "merge: shards of different outputs" "different outputs" "$bin" merge s0.npy p1.npy s2.npy s3.npy -o bad.npy
expect_error "merge: -o onto a shard" "s0.npy" "$bin" merge s0.npy s1.npy s2.npy s3.npy -o s0.npy
[ -e bad.npy ] && fail "a refused command left bad.npy behind"

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
