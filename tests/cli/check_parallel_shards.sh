#!/usr/bin/env bash
# docs/scale.md's recipe on one machine: GNU parallel runs `explain --shard {}/4` (IG with deltas)
# and `predict --shard {}/4` as four jobs at once; `integrad merge` joins them, and the result equals
# a single run (with the default threads; the shards run one thread each) bit for bit. Skipped (77) without GNU parallel (Debian's `parallel`).
# Usage: check_parallel_shards.sh BUILD_DIR
set -uo pipefail
bin="$(realpath "$1")/integrad"
command -v parallel >/dev/null && parallel --version 2>/dev/null | grep -q 'GNU parallel' || { echo "GNU parallel not found: skipped"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
failures=0
"$bin" dataset --data synthetic-patches --limit 37 -o x.npy >/dev/null
"$bin" train --arch cnn --data synthetic-patches --limit 64 --val-limit 10 -q -o cnn.safetensors >/dev/null
"$bin" explain cnn.safetensors x.npy -o whole.npy --steps 16 --deltas whole_d.npy -q >/dev/null
"$bin" predict cnn.safetensors x.npy -o whole_logits.npy >/dev/null
OMP_NUM_THREADS=1 parallel --will-cite --halt now,fail=1 -j4 "$bin" explain cnn.safetensors x.npy -o attr.{}.npy --steps 16 --deltas deltas.{}.npy -q --shard {}/4 ::: 0 1 2 3 >/dev/null ||
  { echo "FAIL parallel explain"; failures=$((failures + 1)); }
OMP_NUM_THREADS=1 parallel --will-cite --halt now,fail=1 -j4 "$bin" predict cnn.safetensors x.npy -o logits.{}.npy --shard {}/4 ::: 0 1 2 3 >/dev/null ||
  { echo "FAIL parallel predict"; failures=$((failures + 1)); }
for kind in attr:whole deltas:whole_d logits:whole_logits; do
  part=${kind%%:*} whole=${kind#*:}
  if "$bin" merge "$part".?.npy -o "merged_$part.npy" >/dev/null && cmp -s "merged_$part.npy" "$whole.npy"; then
    echo "ok   4 shards of $part under GNU parallel, merged = one run"
  else
    echo "FAIL $part: merged shards differ from one run"; failures=$((failures + 1))
  fi
done
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
