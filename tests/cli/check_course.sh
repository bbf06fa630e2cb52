#!/usr/bin/env bash
# The defects of issue 27 through the CLI, each a case that failed before it was fixed, and the
# named data sets read from Debian's python3-sklearn (skipped, with a note, where it is missing).
# Usage: check_course.sh BUILD_DIR
set -uo pipefail
bin="$1/integrad"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL $1"; failures=$((failures + 1)); }
ok() { echo "ok   $1"; }
# expect "what" "text stdout+stderr must contain" command...: exit 0 and the text
expect() {
  local what=$1 needle=$2
  shift 2
  if ! "$@" >"$work/out" 2>&1; then fail "$what: exit status $?"; sed 's/^/    /' "$work/out" | tail -5; return; fi
  if ! grep -qF -- "$needle" "$work/out"; then fail "$what: output lacks '$needle'"; sed 's/^/    /' "$work/out" | tail -5; return; fi
  ok "$what"
}
# refuse "what" "text stderr must contain" command...: a non-zero exit with the text
refuse() {
  local what=$1 needle=$2
  shift 2
  "$@" >"$work/out" 2>&1
  local rc=$?
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 128 ]; then fail "$what: exit status $rc"; return; fi
  if ! grep -qF -- "$needle" "$work/out"; then fail "$what: output lacks '$needle'"; sed 's/^/    /' "$work/out" | tail -5; return; fi
  ok "$what"
}

# docs/tabular.md's own example: --arch tabular was hard-wired to 7 features and 2 classes.
printf 'a,b,c,y\n1,2,3,0\n-1,0.5,2,1\n0,0,1,1\n2,1,-1,0\n' >"$work/t.csv"
expect "--arch tabular takes its width from a 3-feature .csv" "wrote" \
  "$bin" train --arch tabular --inputs "$work/t.csv" --labels-column y --epochs 20 -q -o "$work/t.safetensors"
expect "... and is Linear(3, 32)" "Linear(3, 32)" "$bin" info "$work/t.safetensors"
printf 'a,b,y\n1,2,0\n-1,0.5,2\n0,0,1\n2,1,2\n' >"$work/three.csv"
"$bin" train --arch tabular --inputs "$work/three.csv" --labels-column y --epochs 1 -q -o "$work/three.safetensors" >/dev/null 2>&1
expect "... with one output per class of the labels" "Linear(32, 3)" "$bin" info "$work/three.safetensors"

# A one-output model: bce trains it; cross-entropy (a softmax over one output, loss 0) is refused.
printf 'a,b,c,y\n1,2,3,0\n-1,0.5,2,0\n0,0,1,0\n2,1,-1,0\n' >"$work/zeros.csv"
expect "--loss bce trains one logit" "output: binary-logit" sh -c "'$bin' train --arch tabular --loss bce --inputs '$work/t.csv' --labels-column y --epochs 5 -q -o '$work/b.safetensors' && '$bin' info '$work/b.safetensors'"
refuse "cross-entropy on a one-output model, all-zero labels" "needs at least two outputs" \
  "$bin" train "$work/b.safetensors" --inputs "$work/zeros.csv" --labels-column y --epochs 1 -q -o "$work/z.safetensors"
refuse "bce with a label 2" "labels 0 and 1" \
  "$bin" train --arch tabular --loss bce --inputs "$work/three.csv" --labels-column y --epochs 1 -q -o "$work/z.safetensors"
expect "--loss mse trains a regression" "output: regression" sh -c "'$bin' train --arch tabular --loss mse --inputs '$work/three.csv' --labels-column y --epochs 5 -q -o '$work/r.safetensors' && '$bin' info '$work/r.safetensors'"

# Deletion on a one-output model followed the softmax of one output: 1.0 for every example.
"$bin" explain "$work/b.safetensors" "$work/t.csv" -o "$work/a.npy" --method gradxinput >/dev/null 2>&1
expect "deletion on a binary logit is not 1.0" "mean" "$bin" evaluate "$work/b.safetensors" "$work/t.csv" --attributions "$work/a.npy" --metric deletion -o "$work/d.npy"
if /usr/bin/python3 -c "import numpy, sys; d = numpy.load('$work/d.npy'); sys.exit(0 if d.max() < 0.999 else 1)" 2>/dev/null; then ok "... scores below 1"; else fail "deletion scores of a binary logit: $(/usr/bin/python3 -c "import numpy; print(numpy.load('$work/d.npy'))" 2>&1)"; fi

# report with a tabular model and no --inputs died in "matmul: incompatible shapes".
"$bin" train --arch tabular --limit 256 --epochs 2 -q -o "$work/tab.safetensors" >/dev/null 2>&1
expect "report on a tabular model without --inputs" "wrote" "$bin" report "$work/tab.safetensors" --steps 8 -o "$work/r.html"

# The report's sections on the shortcut sets: the watermark model's accuracy gap, the loan model's proxy.
"$bin" train --arch mlp --data synthetic-watermark --limit 1000 --epochs 3 -q -o "$work/wm.safetensors" >/dev/null 2>&1
"$bin" train --arch tabular --data synthetic-loan --limit 1000 --epochs 10 --lr 3e-3 -q -o "$work/loan.safetensors" >/dev/null 2>&1
expect "report --watermark-model --loan-model" "wrote" "$bin" report "$work/tab.safetensors" --steps 8 --watermark-model "$work/wm.safetensors" --loan-model "$work/loan.safetensors" -o "$work/r2.html"
for id in watermark loan; do
  if grep -q "<section id=\"$id\">" "$work/r2.html"; then ok "... section $id"; else fail "report has no section $id"; fi
done
if /usr/bin/python3 - "$work/r2.html" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
cells = re.search(r'id="watermark">.*?<tr><td>([\d.]+)</td><td>([\d.]+)</td><td>([\d.]+)</td>', s, re.S)
train, test, mass = map(float, cells.groups())
sys.exit(0 if train > 0.95 and test < 0.75 and mass > 0.3 else 1)
PY
then ok "... the watermark model: train accuracy > 0.95, test < 0.75, mass on the watermark > 0.3"; else fail "watermark section's figures"; fi

# The image model's axiom matrix dropped the perturbation rows without a word; kernelshap's
# coalitions for 784 pixels were noise without a warning.
"$bin" train --arch mlp --data synthetic-patches --limit 64 --val-limit 10 -q -o "$work/img.safetensors" >/dev/null 2>&1
"$bin" dataset --data synthetic-patches --limit 1 -o "$work/img.npy" >/dev/null 2>&1
expect "axiom matrix on images: left-out rows say why" "left out: each of the 784 input scalars would be a feature of its own" "$bin" axioms "$work/img.safetensors" "$work/img.npy" --limit 1 --steps 8 --methods ig_gausslegendre --methods kernelshap
expect "kernelshap on 784 pixels warns" "warning: kernelshap: 1024 coalitions for 784 feature groups" "$bin" explain "$work/img.safetensors" "$work/img.npy" -o "$work/k.npy" --method kernelshap

# scikit-learn's sets from Debian's python3-sklearn.
sk=${INTEGRAD_SKLEARN_DATA:-/usr/lib/python3/dist-packages/sklearn/datasets/data}
if [ -f "$sk/iris.csv" ]; then
  expect "iris --split all: 150 examples" "[150, 4]" "$bin" dataset --data iris --split all -o "$work/iris.npy"
  expect "iris train: 120" "[120, 4]" "$bin" dataset --data iris --split train -o "$work/iris_train.npy"
  expect "iris test as .csv with names" "wrote" "$bin" dataset --data iris -o "$work/iris.csv"
  if head -1 "$work/iris.csv" | grep -qF "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm,label"; then ok "iris feature names"; else fail "iris header: $(head -1 "$work/iris.csv")"; fi
  expect "digits [N, 1, 8, 8]" "[1797, 1, 8, 8]" "$bin" dataset --data digits --split all -o "$work/digits.npy"
  expect "diabetes targets as float64" "wrote" "$bin" dataset --data diabetes --split all -o "$work/dia.npy" --labels-out "$work/dia_y.npy"
  if /usr/bin/python3 -c "import numpy, sys; y = numpy.load('$work/dia_y.npy'); x = numpy.load('$work/dia.npy'); sys.exit(0 if y.dtype == numpy.float64 and y.shape == (442,) and y[0] == 151.0 and x[0, 0] == 59 else 1)" 2>/dev/null; then ok "diabetes values as in the files"; else fail "diabetes values"; fi
  expect "breast-cancer trains with --arch tabular" "test accuracy" "$bin" train --arch tabular --data breast-cancer --epochs 2 -o "$work/bc.safetensors"
  refuse "--split all of a generated set" "is generated" "$bin" dataset --data synthetic-tabular --split all -o "$work/x.npy"
else
  echo "skip scikit-learn's data sets: $sk/iris.csv not found (apt-get install python3-sklearn)"
fi

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
