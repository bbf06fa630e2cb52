#!/usr/bin/env bash
# Bounded memory (docs/scale.md): saliency and IG on 10,000 synthetic examples run under an address
# space limit of 220 MB, which the code before chunking exceeded for both (saliency put all 10,000
# examples on one tape, IG all of them in one forward for F(x)); this code needs less than 150 MB
# here. Peak memory follows --batch-size, not the number of examples. Skipped (77) without prlimit. Usage: check_memory.sh BUILD_DIR
set -uo pipefail
bin="$(realpath "$1")/integrad"
command -v prlimit >/dev/null || { echo "prlimit (util-linux) not found: skipped"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
# One thread and fixed malloc arenas: the address space does not grow with the machine's cores, and the
# run does not wait on OpenMP barriers when other jobs load the machine.
export OMP_NUM_THREADS=1 MALLOC_ARENA_MAX=2
limit=$((220 * 1024 * 1024))
failures=0
"$bin" dataset --data synthetic-patches --limit 10000 -o x.npy >/dev/null
"$bin" train --arch mlp --data synthetic-patches --limit 64 --val-limit 10 -q -o mlp.safetensors >/dev/null
for spec in "saliency" "ig --steps 2"; do
  # shellcheck disable=SC2086
  if prlimit --as=$limit "$bin" explain mlp.safetensors x.npy -o a.npy --method $spec -q >out.txt 2>&1 && grep -q '^summary: 10000 examples' out.txt; then
    echo "ok   $spec on 10,000 examples within 220 MB of address space"
  else
    echo "FAIL $spec on 10,000 examples within 220 MB:"; tail -3 out.txt | sed 's/^/    /'; failures=$((failures + 1))
  fi
done
# The limit is real: IG over the whole set in one chunk (--batch-size 10,000 or more) holds every
# example's input, baseline, path sum and attribution at once, and F(x) of all 10,000 on one tape:
# 210 MB resident, more than the limit allows with the program's own address space. (The path
# points no longer show it: each example builds its own, at most --batch-size at a time.)
if prlimit --as=$limit "$bin" explain mlp.safetensors x.npy -o b.npy --method ig --steps 20 --batch-size 200000 -q >/dev/null 2>&1; then
  echo "FAIL --batch-size 200000 ran within 220 MB: the limit tests nothing"; failures=$((failures + 1))
else
  echo "ok   one chunk of 10,000 examples exceeds the limit"
fi
# The metrics' perturbed copies follow --batch-size too, not --samples or --steps (issue 29): on
# one 28x28 image, 50,000 infidelity samples held 2 x 157 MB of perturbations and copies at once,
# faithfulness-correlation's 50,000 subsets as much again, deletion's 80,000 steps 250 MB. With the
# default (512) and with --batch-size 64 each runs within the limit, with the same scores; with
# --batch-size 1000000 (one pass of every copy) each exceeds it, so the limit tests the passes.
# (Deletion takes 80,000 steps: its 50,000 in one pass, 157 MB, now fit, since predict runs any
# batch in cache-sized parts and the tape no longer grows with the pass.)
"$bin" dataset --data synthetic-patches --limit 1 -o one.npy >/dev/null
for spec in "infidelity --samples 50000" "faithfulness-correlation --samples 50000" "deletion --steps 80000"; do
  # shellcheck disable=SC2086
  if prlimit --as=$limit "$bin" evaluate mlp.safetensors one.npy --attributions one.npy --metric $spec -o s512.npy >out.txt 2>&1 &&
     prlimit --as=$limit "$bin" evaluate mlp.safetensors one.npy --attributions one.npy --metric $spec --batch-size 64 -o s64.npy >>out.txt 2>&1 &&
     cmp -s s512.npy s64.npy; then
    echo "ok   evaluate --metric $spec within 220 MB, the same score at --batch-size 64 and 512"
  else
    echo "FAIL evaluate --metric $spec within 220 MB (or scores differ between --batch-size 64 and 512):"; tail -3 out.txt | sed 's/^/    /'; failures=$((failures + 1))
  fi
  # shellcheck disable=SC2086
  if prlimit --as=$limit "$bin" evaluate mlp.safetensors one.npy --attributions one.npy --metric $spec --batch-size 1000000 >/dev/null 2>&1; then
    echo "FAIL evaluate --metric $spec --batch-size 1000000 ran within 220 MB: the passes are not what bounds memory"; failures=$((failures + 1))
  else
    echo "ok   evaluate --metric $spec --batch-size 1000000 (one pass) exceeds the limit"
  fi
done
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
