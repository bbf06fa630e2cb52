#!/usr/bin/env bash
# Interrupt and resume: a training run stopped by SIGTERM after its first epoch leaves a whole model
# and checkpoint, and `--resume` ends at the same weights (the same logits, bit for bit) as a run
# that was never interrupted. Changed settings and a missing checkpoint are refused.
# Usage: check_resume.sh BUILD_DIR
set -uo pipefail
bin="$1/integrad"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL $*"; exit 1; }

train=(train --arch mlp --data synthetic-patches --limit 4000 --val-limit 200 --epochs 4 -q)
"$bin" dataset --data synthetic-patches --limit 50 -o images.npy >/dev/null || fail "dataset"

"$bin" "${train[@]}" -o full.safetensors >/dev/null || fail "the uninterrupted run"
"$bin" predict full.safetensors images.npy -o full.npy >/dev/null || fail "predict (full)"

# Stop the run as soon as its first checkpoint is on disk.
"$bin" "${train[@]}" -o part.safetensors >stdout 2>stderr &
pid=$!
for _ in $(seq 1 600); do
  [ -e part.checkpoint.safetensors ] && break
  sleep 0.05
done
kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 143 ] || fail "the interrupted run exited with $rc, expected 143 (128 + SIGTERM); stderr: $(cat stderr)"
grep -q -- "--resume" stderr || fail "the interrupted run does not say how to resume: $(cat stderr)"
ls ./.integrad-tmp-* ./*.tmp.* >/dev/null 2>&1 && fail "a temporary file was left behind"
"$bin" predict part.safetensors images.npy -o part.npy >/dev/null || fail "the interrupted run's model file does not load"
cmp -s full.npy part.npy && fail "the run finished before the signal arrived (the test proves nothing)"
echo "ok   SIGTERM after the first epoch: exit 143, model file whole"

"$bin" "${train[@]}" -o part.safetensors --lr 0.01 --resume >/dev/null 2>stderr && fail "resuming with another learning rate was accepted"
grep -q '"lr"\|lr:' stderr || fail "the changed setting is not named: $(cat stderr)"
echo "ok   resuming with other settings is refused and names them"

"$bin" "${train[@]}" -o other.safetensors --resume >/dev/null 2>stderr && fail "resuming without a checkpoint was accepted"
grep -q "no checkpoint" stderr || fail "missing checkpoint not reported: $(cat stderr)"
echo "ok   resuming without a checkpoint is refused"

"$bin" "${train[@]}" -o part.safetensors --resume >stdout 2>stderr || fail "resume: $(cat stderr)"
grep -q "resuming from part.checkpoint.safetensors" stdout || fail "resume does not say where it continues from"
"$bin" predict part.safetensors images.npy -o resumed.npy >/dev/null || fail "predict (resumed)"
cmp -s full.npy resumed.npy || fail "the resumed run's logits differ from the uninterrupted run's"
echo "ok   the resumed run ends bit for bit where the uninterrupted one does"
