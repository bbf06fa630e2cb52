#!/usr/bin/env bash
# Runs the same workloads in integrad and in PyTorch (Debian's python3-torch, 2 threads) and prints
# the times side by side. Whole jobs are timed as whole processes, start-up and loading included,
# best of 3. Needs a build (bash tools/setup.sh) and Fashion-MNIST; PyTorch is skipped with a note
# when /usr/bin/python3 cannot import torch.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=./build/integrad
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
have_torch=1
/usr/bin/python3 -c "import torch" 2>/dev/null || { have_torch=0; echo "note: PyTorch not importable by /usr/bin/python3 (apt-get install python3-torch); integrad only"; }

# Best wall time of 3 runs of a command, in seconds; also records peak RSS (KiB) in $work/rss.
best() {
  local t best=1e9
  for _ in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>&1
    read -r t rss <"$work/time"
    best=$(python3 -c "print(min($best, $t))")
    echo "$rss" >"$work/rss"
  done
  echo "$best"
}

echo "== kernels (integrad)"
cmake --build build --target integrad_bench >/dev/null
./build/integrad_bench
if ((have_torch)); then
  echo "== kernels (PyTorch)"
  /usr/bin/python3 tools/bench/bench_torch.py
fi

echo "== whole jobs (seconds, best of 3; peak memory MiB)"
$bin train --arch cnn --data fashion-mnist --epochs 1 --no-shuffle -q -o "$work/cnn.safetensors" >/dev/null
$bin dataset --data fashion-mnist --limit 100 -o "$work/x.npy" >/dev/null
printf "%-34s %10s %8s %10s %8s %7s\n" workload integrad MiB pytorch MiB ratio
row() {
  local name=$1 job=$2
  shift 2
  local ours ours_rss theirs="-" theirs_rss="-" ratio="-"
  ours=$(best "$@")
  ours_rss=$(($(cat "$work/rss") / 1024))
  if ((have_torch)); then
    theirs=$(best /usr/bin/python3 tools/bench/bench_torch.py --job "$job")
    theirs_rss=$(($(cat "$work/rss") / 1024))
    ratio=$(python3 -c "print(f'{$ours / $theirs:.2f}')")
  fi
  printf "%-34s %10s %8s %10s %8s %7s\n" "$name" "$ours" "$ours_rss" "$theirs" "$theirs_rss" "$ratio"
}
row "train mlp, 1 epoch" train-mlp $bin train --arch mlp --data fashion-mnist --epochs 1 --no-shuffle -q -o "$work/m.safetensors"
row "train cnn, 1 epoch" train-cnn $bin train --arch cnn --data fashion-mnist --epochs 1 --no-shuffle -q -o "$work/c.safetensors"
row "IG 50 GL steps, 100 images, cnn" ig $bin explain "$work/cnn.safetensors" "$work/x.npy" -o "$work/a.npy" --batch-size 500
row "saliency, 100 images, cnn" saliency $bin explain "$work/cnn.safetensors" "$work/x.npy" -o "$work/s.npy" --method saliency
