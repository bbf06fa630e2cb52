#!/usr/bin/env bash
# Bad input through the CLI: each case must exit non-zero, name the file or the problem on stderr,
# never crash (no signal, no sanitizer report), and leave no output file. Usage: check_errors.sh BUILD_DIR
set -uo pipefail
bin="$1/integrad"
data="$(cd "$(dirname "$0")/../data/torch" && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
# tools/sanitize.sh sets this: there the CLI is built at -O0 under ASan, and a report takes 25 to
# 60 s (its axiom matrix), two thirds of this script's time. The release run checks those cases.
sanitized=${INTEGRAD_SANITIZED:-}

# The temporary and lock files in $work, one a line; a case run beside a busy job ($busy_pid)
# leaves out that job's temporaries, which come and go as it writes its checkpoints.
leftovers() {
  local name
  for name in "$work"/.integrad-tmp-* "$work"/.integrad-lock-*; do
    [ -e "$name" ] || continue
    [ -n "${busy_pid:-}" ] && [[ $name == *-"$busy_pid"-* ]] && continue
    echo "$name"
  done
}

# expect_error "what" "text the message must contain" command...
expect_error() {
  local what=$1 needle=$2
  shift 2
  rm -f "$work/out.npy" "$work/out.safetensors"
  local before
  before=$(leftovers)
  "$@" >"$work/stdout" 2>"$work/stderr"
  local rc=$?
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 128 ]; then
    echo "FAIL $what: exit status $rc"; failures=$((failures + 1)); return
  fi
  if ! grep -qF -- "$needle" "$work/stderr"; then
    echo "FAIL $what: stderr lacks '$needle':"; sed 's/^/    /' "$work/stderr"; failures=$((failures + 1)); return
  fi
  if [ -e "$work/out.npy" ] || [ -e "$work/out.safetensors" ] || [ -n "$(comm -13 <(echo "$before" | sort) <(leftovers | sort))" ]; then
    echo "FAIL $what: an output file was left behind"; failures=$((failures + 1)); return
  fi
  echo "ok   $what"
}

printf 'not a model' >"$work/garbage.safetensors"
printf 'not an image' >"$work/garbage.png"
images="$(cd "$(dirname "$0")/../data/images" && pwd)"
printf '\x93NUMPY\x01\x00\x10\x00{bad header}    \n' >"$work/bad.npy"
head -c 100 "$data/cnn_f32.safetensors" >"$work/truncated.safetensors"
"$bin" dataset --data synthetic-patches --limit 3 -o "$work/images.npy" --labels-out "$work/labels.npy" >/dev/null
"$bin" train --arch mlp --data synthetic-patches --limit 64 --val-limit 10 -q -o "$work/m.safetensors" >/dev/null
python3 - "$work" <<'PY'
import struct, sys
def labels(path, values):
    d = "{'descr': '<i8', 'fortran_order': False, 'shape': (%d,), }" % len(values)
    d += ' ' * ((64 - (10 + len(d) + 1) % 64) % 64) + '\n'
    open(path, 'wb').write(b'\x93NUMPY\x01\x00' + bytes([len(d) & 255, len(d) >> 8]) + d.encode() + struct.pack('<%dq' % len(values), *values))
labels(sys.argv[1] + '/big_labels.npy', [1, 10, 2])
labels(sys.argv[1] + '/huge_target.npy', [2**62] * 5)
PY

expect_error "missing model file" "no such file" "$bin" predict "$work/none.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy"
expect_error "garbage model file" "garbage.safetensors" "$bin" predict "$work/garbage.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy"
expect_error "truncated model file" "truncated.safetensors" "$bin" info "$work/truncated.safetensors"
expect_error "malformed .npy" "bad.npy" "$bin" predict "$data/mlp_f32.safetensors" "$work/bad.npy" -o "$work/out.npy"
expect_error "input shape mismatch" "the model expects" "$bin" predict "$data/mlp_f32.safetensors" "$work/images.npy" -o "$work/out.npy"
expect_error "target outside the classes" "target class 99" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --target 99
expect_error "bad baseline" "--baseline" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --baseline nope
expect_error "bad quadrature" "--quadrature (an option of ig) must be one of gausslegendre" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --quadrature simpson
expect_error "token model without layer IG" "--layer 0" "$bin" explain "$data/text_f32.safetensors" "$data/text_f32_input.npy" -o "$work/out.npy"
expect_error "exact IG on a smooth model" "piecewise-linear" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --method exact_ig
expect_error "shapley above 16 groups" "at most 16 feature groups" "$bin" explain "$data/cnn_f32.safetensors" "$data/cnn_f32_input.npy" -o "$work/out.npy" --method shapley
expect_error "feature mask of the wrong shape" "labels.npy: shape [3] matches neither" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --method ablation --feature-mask "$work/labels.npy"
expect_error "occlusion without a window" "occlusion needs --window" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --method occlusion
# Tabular .csv inputs.
printf 'a,b,c,y\n1,2,3,0\n-1,0.5,2,1\n0,0,1,1\n' >"$work/t.csv"
printf 'a,b,c\n1,2,x\n' >"$work/badcell.csv"
printf 'a,b,c\n1,2\n' >"$work/ragged.csv"
printf 'a,b,c\n"1",2,3\n' >"$work/quoted.csv"
: >"$work/empty.csv"
"$bin" train --arch mlp --inputs "$work/t.csv" --labels-column y --epochs 1 -q -o "$work/tab.safetensors" >/dev/null
expect_error "csv: a cell that is no number" "badcell.csv line 2 (example 0), column 3 'c': 'x' is not a number" "$bin" predict "$work/tab.safetensors" "$work/badcell.csv" -o "$work/out.npy"
expect_error "csv: a ragged row" "ragged.csv line 2: 2 cells, the header has 3 columns" "$bin" explain "$work/tab.safetensors" "$work/ragged.csv" -o "$work/out.npy"
expect_error "csv: a quoted cell" "is quoted" "$bin" predict "$work/tab.safetensors" "$work/quoted.csv" -o "$work/out.npy"
expect_error "csv: an empty file" "empty.csv is empty: expected a header row" "$bin" predict "$work/tab.safetensors" "$work/empty.csv" -o "$work/out.npy"
printf 'a,b\n1,2\n' >"$work/two.csv"
expect_error "csv: a feature of the model missing" "two.csv has no column 'c', a feature of the model (it was trained on a, b, c)" "$bin" predict "$work/tab.safetensors" "$work/two.csv" -o "$work/out.npy"
expect_error "csv: an unknown labels column" "has no column 'z' (--labels-column)" "$bin" eval "$work/tab.safetensors" --inputs "$work/t.csv" --labels-column z
expect_error "csv: no labels" "needs its labels from one of --labels-column NAME or --labels" "$bin" eval "$work/tab.safetensors" --inputs "$work/t.csv"
expect_error "csv: --labels-column with .npy inputs" "--labels-column NAME needs --inputs X.csv" "$bin" train --arch mlp --inputs "$work/images.npy" --labels-column y -o "$work/out.safetensors"
expect_error "csv: an image set written as .csv" "only a tabular set (named features) can be written as .csv" "$bin" dataset --data synthetic-patches --limit 2 -o "$work/out.csv"
expect_error "csv: tabular rows for an image model" "holds tabular examples (one a row), the model expects examples of shape [2, 9, 9]" "$bin" explain "$data/cnn_f32.safetensors" "$work/t.csv" -o "$work/out.npy"
expect_error "csv: a column count the model does not take" "has 4 columns, the model expects 6 features" "$bin" predict "$data/ig_model_f32.safetensors" "$work/t.csv" -o "$work/out.npy"
# Perturbation methods: masks, windows, patches and sample counts.
expect_error "feature mask that is no file" "--feature-mask $work/none.npy" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --method shapley --feature-mask "$work/none.npy"
expect_error "feature mask of non-integer ids" "expected an integer label" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --method ablation --feature-mask "$data/mlp_f32_input.npy"
expect_error "--patch 0" "--patch (an option of kernelshap) must be a whole number in [1" "$bin" explain "$data/cnn_f32.safetensors" "$data/cnn_f32_input.npy" -o "$work/out.npy" --method kernelshap --patch 0
expect_error "--patch with --feature-mask" "--patch and --feature-mask both give the feature groups" "$bin" explain "$data/cnn_f32.safetensors" "$data/cnn_f32_input.npy" -o "$work/out.npy" --method ablation --patch 3 --feature-mask "$work/labels.npy"
expect_error "--patch on flat inputs" "--patch needs image inputs" "$bin" explain "$data/ig_model_f32.safetensors" "$data/ig_input_f32.npy" -o "$work/out.npy" --method ablation --patch 2
expect_error "--patch for occlusion" "--patch is not an option of occlusion" "$bin" explain "$data/cnn_f32.safetensors" "$data/cnn_f32_input.npy" -o "$work/out.npy" --method occlusion --window 3 --patch 3
expect_error "occlusion window 0" "--window takes positive whole numbers" "$bin" explain "$data/cnn_f32.safetensors" "$data/cnn_f32_input.npy" -o "$work/out.npy" --method occlusion --window 1,0,3
expect_error "occlusion window larger than the input" "--window 10 is larger than the input's dim 1 (9)" "$bin" explain "$data/cnn_f32.safetensors" "$data/cnn_f32_input.npy" -o "$work/out.npy" --method occlusion --window 2,10,3
expect_error "occlusion window of the wrong rank" "--window needs one entry per input dim" "$bin" explain "$data/cnn_f32.safetensors" "$data/cnn_f32_input.npy" -o "$work/out.npy" --method occlusion --window 1,2
expect_error "occlusion stride 0" "--stride takes positive whole numbers" "$bin" explain "$data/cnn_f32.safetensors" "$data/cnn_f32_input.npy" -o "$work/out.npy" --method occlusion --window 2 --stride 1,0,1
expect_error "kernelshap --samples 0" "--samples (an option of kernelshap) must be a whole number in [1" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --method kernelshap --samples 0
expect_error "lime --samples -3" "--samples (an option of lime) must be a whole number in [1" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --method lime --samples -3
expect_error "shapley-sampling --samples x" "--samples (an option of shapley-sampling) must be a whole number" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --method shapley-sampling --samples x
expect_error "kernelshap with too few samples" "use more --samples" "$bin" explain "$data/cnn_f32.safetensors" "$data/cnn_f32_input.npy" -o "$work/out.npy" --method kernelshap --patch 3 --samples 5
expect_error "smoothgrad --noise-type var" "--noise-type (an option of smoothgrad)" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --method smoothgrad --noise-type var
expect_error "blur-ig on flat inputs" "blur-ig blurs images: the inputs must be [N, C, H, W]" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --method blur-ig
expect_error "blur-ig with a baseline" "--baseline: blur-ig uses no baseline" "$bin" explain "$data/cnn_f32.safetensors" "$data/cnn_f32_input.npy" -o "$work/out.npy" --method blur-ig --baseline 0.5
expect_error "blur-ig --max-sigma 0" "--max-sigma (an option of blur-ig) must be" "$bin" explain "$data/cnn_f32.safetensors" "$data/cnn_f32_input.npy" -o "$work/out.npy" --method blur-ig --max-sigma 0
expect_error "guided-ig --max-dist 1.5" "--max-dist (an option of guided-ig) must be" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --method guided-ig --max-dist 1.5
expect_error "guided-ig --fraction -0.1" "--fraction (an option of guided-ig) must be" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --method guided-ig --fraction -0.1
expect_error "an IG option given to saliency" "--steps is not an option of saliency" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --method saliency --steps 10
expect_error "adaptive 0" "--adaptive (an option of ig) must be a finite number" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --adaptive 0
for v in nan inf -1; do
  expect_error "--adaptive $v" "--adaptive (an option of ig) must be a finite number in [1e-12, 1]; got '$v'" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --adaptive "$v"
done
for v in nan inf; do
  expect_error "--stdev $v" "--stdev (an option of smoothgrad) must be a finite number" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --method smoothgrad --stdev "$v"
done
expect_error "--layer -1" "the model has no layer '-1'; its layers are 0, 1, 2" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --layer -1
expect_error "axioms --limit -1" "--limit" "$bin" axioms "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" --limit -1
expect_error "a baseline for a method without one" "--baseline: gradient uses no baseline" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --method gradient --baseline 0.5
expect_error "deltas for a method without them" "--deltas: saliency has no completeness delta" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --method saliency --deltas "$work/d.npy"
expect_error "evaluate: an unknown metric" "--metric: nope not in {deletion" "$bin" evaluate "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" --attributions "$data/mlp_f32_input.npy" --metric nope -o "$work/out.npy"
expect_error "evaluate: an unknown metric in --metrics" "unknown metric 'nope'" "$bin" evaluate "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" --methods ig --metrics deletion,nope -o "$work/out.npy"
expect_error "evaluate: a mask of the wrong shape" "has shape [3, 2, 9, 9]; expected the inputs' shape [5, 3, 4]" "$bin" evaluate "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" --attributions "$data/mlp_f32_input.npy" --metric relevance-mass --mask "$data/cnn_f32_input.npy" -o "$work/out.npy"
expect_error "evaluate: a mask option for deletion" "--mask is not an option of deletion" "$bin" evaluate "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" --attributions "$data/mlp_f32_input.npy" --metric deletion --mask "$data/mlp_f32_input.npy" -o "$work/out.npy"
expect_error "evaluate: sensitivity-max re-running an unknown method" "unknown method 'nope'" "$bin" evaluate "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" --attributions "$data/mlp_f32_input.npy" --metric sensitivity-max --method nope -o "$work/out.npy"
expect_error "evaluate: infidelity on token ids" "this model takes token ids" "$bin" evaluate "$data/text_f32.safetensors" "$data/text_f32_input.npy" --attributions "$data/text_f32_input.npy" --metric infidelity -o "$work/out.npy"
expect_error "evaluate -o onto its attributions" "is the same file as --attributions" "$bin" evaluate "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" --attributions "$work/out.npy" --metric sparseness -o "$work/out.npy"
cp "$data/mlp_f32.safetensors" "$work/model_copy.safetensors"
expect_error "explain -o onto its own model" "is the same file as MODEL" "$bin" explain "$work/model_copy.safetensors" "$data/mlp_f32_input.npy" -o "$work/model_copy.safetensors"
cmp -s "$data/mlp_f32.safetensors" "$work/model_copy.safetensors" || { echo "FAIL explain -o onto its model changed the model"; failures=$((failures + 1)); }
expect_error "axioms --limit 0" "--limit" "$bin" axioms "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" --limit 0
expect_error "axioms --baseline nan" "--baseline must be zero or a finite number" "$bin" axioms "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" --baseline nan
expect_error "axioms on a token-id model" "the axiom checks need continuous inputs" "$bin" axioms "$data/text_f32.safetensors" "$data/text_f32_input.npy"
expect_error "labels do not match inputs" "labels" "$bin" train --arch cnn --inputs "$work/images.npy" --labels "$data/ig_target.npy" -o "$work/out.safetensors"
expect_error "missing data set directory" "dataset-fashion-mnist" "$bin" train --arch mlp --data fashion-mnist --data-dir "$work/nowhere" -o "$work/out.safetensors"
expect_error "diverging training" "training stopped" "$bin" train --arch mlp --data synthetic-patches --limit 200 --lr 1e30 --optimizer sgd -o "$work/out.safetensors"
expect_error "unknown option" "frobnicate" "$bin" predict "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --frobnicate
expect_error "unwritable output" "cannot create" "$bin" predict "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o /nonexistent/dir/out.npy
expect_error "garbage image" "garbage.png: not a PNG image" "$bin" predict "$work/m.safetensors" "$work/garbage.png" -o "$work/out.npy"
expect_error "image for a model with 2 channels" "2 input channels" "$bin" predict "$data/cnn_f32.safetensors" "$images/gray28.png" -o "$work/out.npy"
expect_error "image for a vector model" "an image is one example" "$bin" predict "$data/mlp_f32.safetensors" "$images/gray28.png" -o "$work/out.npy"
expect_error "JPEG image" "JPEG images are not read" "$bin" predict "$work/m.safetensors" "$images/gray28.jpg" -o "$work/out.npy"
expect_error "image of the wrong size" "the model expects" "$bin" explain "$work/m.safetensors" "$images/rgb5x4.png" -o "$work/out.npy"

expect_error "dataset: masks of a set without ground truth" "--masks-out: fashion-mnist has no ground-truth masks" "$bin" dataset --data fashion-mnist --limit 2 -o "$work/out.npy" --masks-out "$work/gt.npy"
expect_error "train: an architecture for another kind of input" "--arch text does not fit --data synthetic-patches" "$bin" train --arch text --data synthetic-patches -o "$work/out.safetensors"
expect_error "negative --limit" "--limit: '-1' is not a whole number in [0, " "$bin" dataset --data synthetic-patches --limit -1 -o "$work/out.npy"
expect_error "negative train --limit" "--limit: '-5' is not a whole number in [0, " "$bin" train --arch mlp --data synthetic-patches --limit -5 -o "$work/out.safetensors"
expect_error "negative --seed" "--seed: '-1' is not a seed: expected an integer from 0 to 2^63-1" "$bin" train --arch mlp --data synthetic-patches --seed -1 -o "$work/out.safetensors"
expect_error "--seed 2^64" "'18446744073709551616' is not a seed" "$bin" train --arch mlp --data synthetic-patches --seed 18446744073709551616 -o "$work/out.safetensors"
expect_error "--seed 2^63" "'9223372036854775808' is not a seed" "$bin" train --arch mlp --data synthetic-patches --seed 9223372036854775808 -o "$work/out.safetensors"
expect_error "--seed 1e23" "'1e23' is not a seed" "$bin" train --arch mlp --data synthetic-patches --seed 1e23 -o "$work/out.safetensors"
expect_error "--val-limit 0" "--val-limit: '0' is not a whole number in [1, " "$bin" train --arch mlp --data synthetic-patches --val-limit 0 -o "$work/out.safetensors"

# --limit is "at most": a billion from a synthetic set takes the 10 000 test examples it holds,
# without allocating a billion first.
if "$bin" dataset --data synthetic-tokens --limit 1000000000 -o "$work/big.npy" >"$work/stdout" 2>"$work/stderr" && grep -qF "[10000, 16]" "$work/stdout"; then
  echo "ok   --limit above the set's size takes the whole set"
else
  echo "FAIL --limit 1000000000:"; sed 's/^/    /' "$work/stderr"; failures=$((failures + 1))
fi
rm -f "$work/big.npy"

# Zero examples: an empty input gives an empty output and exit 0, with a note.
python3 - "$work" <<'PY'
import sys
def npy(path, descr, shape):
    d = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    d += ' ' * ((64 - (10 + len(d) + 1) % 64) % 64) + '\n'
    open(path, 'wb').write(b'\x93NUMPY\x01\x00' + bytes([len(d) & 255, len(d) >> 8]) + d.encode())
npy(sys.argv[1] + '/empty.npy', '<f4', '(0, 1, 28, 28)')
npy(sys.argv[1] + '/empty_labels.npy', '<i8', '(0,)')
PY
if "$bin" predict "$work/m.safetensors" "$work/empty.npy" -o "$work/empty_out.npy" >"$work/stdout" 2>"$work/stderr" && grep -qF "[0, 10]" "$work/stdout" &&
  grep -qF "empty.npy holds no examples" "$work/stderr" && [ -s "$work/empty_out.npy" ] &&
  "$bin" eval "$work/m.safetensors" --inputs "$work/empty.npy" --labels "$work/empty_labels.npy" >"$work/stdout" 2>"$work/stderr" && grep -qF "no examples" "$work/stdout" &&
  "$bin" evaluate "$work/m.safetensors" "$work/empty.npy" --attributions "$work/empty.npy" --metric deletion -o "$work/empty_scores.npy" --json "$work/empty.json" \
    >"$work/stdout" 2>"$work/stderr" && grep -qF "empty.npy holds no examples" "$work/stderr" && [ -s "$work/empty_scores.npy" ] && grep -qF '"scores": []' "$work/empty.json"; then
  echo "ok   zero examples give an empty output"
else
  echo "FAIL zero examples:"; sed 's/^/    /' "$work/stdout" "$work/stderr"; failures=$((failures + 1))
fi

# A 3 KB model that needs gigabytes per image, 40 000 layers, and a tensor name that is a
# terminal escape sequence: refused from the metadata, the name shown escaped.
python3 - "$work" <<'PY'
import json, struct, sys
def model(path, arch, shape, tensors):
    header, data = {"__metadata__": {"architecture": arch, "input_shape": shape}}, b""
    for name, dims in tensors:
        n = 1
        for d in dims: n *= d
        header[name] = {"dtype": "F32", "shape": dims, "data_offsets": [len(data), len(data) + 4 * n]}
        data += b"\0" * (4 * n)
    text = json.dumps(header).encode()
    open(path, "wb").write(struct.pack("<Q", len(text)) + text + data)
model(sys.argv[1] + "/huge.safetensors", "Conv2d(1, 16, 1, padding=1024); ReLU(); Conv2d(16, 16, 1, padding=1024)", "1,28,28",
      [("0.weight", [16, 1, 1, 1]), ("0.bias", [16]), ("2.weight", [16, 16, 1, 1]), ("2.bias", [16])])
model(sys.argv[1] + "/deep.safetensors", "; ".join(["ReLU()"] * 40000), "4", [])
model(sys.argv[1] + "/escape.safetensors", "Linear(2, 1)", "2", [("0.weight", [1, 2]), ("0.bias", [1]), ("\x1b]0;owned\x07", [1])])
PY
expect_error "activations of gigabytes" "more than the limit of 2^22 values" "$bin" predict "$work/huge.safetensors" "$work/images.npy" -o "$work/out.npy"
expect_error "40 000 layers" "architecture has more than 4096 layers" "$bin" info "$work/deep.safetensors"
expect_error "escape sequence in a tensor name" 'tensor '"'"'\x1b]0;owned\x07'"'"' (shape [1]) belongs to no layer' "$bin" info "$work/escape.safetensors"
if grep -q $'\x1b' "$work/stderr"; then echo "FAIL a raw escape character reached stderr"; failures=$((failures + 1)); fi

# Outputs that name an input, through a symbolic or a hard link too, or another output.
cp "$work/images.npy" "$work/in.npy"
ln -s in.npy "$work/in_link.npy"
ln "$work/in.npy" "$work/in_hard.npy"
expect_error "-o onto the input" "-o $work/in.npy is the same file as INPUT" "$bin" predict "$work/m.safetensors" "$work/in.npy" -o "$work/in.npy"
expect_error "-o onto the input via a symlink" "the input would be overwritten" "$bin" predict "$work/m.safetensors" "$work/in.npy" -o "$work/in_link.npy"
expect_error "-o onto the input via a hard link" "the input would be overwritten" "$bin" predict "$work/m.safetensors" "$work/in.npy" -o "$work/in_hard.npy"
expect_error "-o onto the model" "is the same file as MODEL" "$bin" predict "$work/m.safetensors" "$work/in.npy" -o "$work/m.safetensors"
expect_error "train -o onto its starting model" "is the same file as MODEL" "$bin" train "$work/m.safetensors" --inputs "$work/in.npy" --labels "$work/labels.npy" -o "$work/m.safetensors"
expect_error "train -o onto its --labels" "is the same file as --labels" "$bin" train "$work/m.safetensors" --inputs "$work/in.npy" --labels "$work/labels.npy" -o "$work/labels.npy"
expect_error "dataset: both outputs one file" "are the same file" "$bin" dataset --data synthetic-patches --limit 2 -o "$work/out.npy" --labels-out "$work/./out.npy"
if cmp -s "$work/images.npy" "$work/in.npy"; then echo "ok   the inputs are unchanged"; else echo "FAIL an input was changed"; failures=$((failures + 1)); fi

# -o through a symbolic link writes its target (as cp does) and keeps the link; a FIFO is written into.
ln -s target.npy "$work/out_link.npy"
mkfifo "$work/fifo.npy"
cat "$work/fifo.npy" >"$work/from_fifo.npy" &
reader=$!
if "$bin" predict "$work/m.safetensors" "$work/in.npy" -o "$work/out_link.npy" >/dev/null 2>"$work/stderr" && [ -L "$work/out_link.npy" ] && [ -s "$work/target.npy" ] &&
  "$bin" predict "$work/m.safetensors" "$work/in.npy" -o "$work/fifo.npy" >/dev/null 2>>"$work/stderr" && wait "$reader" && [ -p "$work/fifo.npy" ] &&
  cmp -s "$work/target.npy" "$work/from_fifo.npy"; then
  echo "ok   -o through a symlink and into a FIFO"
else
  echo "FAIL -o through a symlink or into a FIFO:"; sed 's/^/    /' "$work/stderr"; failures=$((failures + 1))
fi
rm -f "$work/out_link.npy" "$work/target.npy" "$work/fifo.npy" "$work/from_fifo.npy"

# Devices, on private nodes in a private mount namespace (a bug that renamed over /dev/null would
# otherwise damage the machine): /dev/null takes the bytes, /dev/full is ENOSPC, /dev/stdout goes
# wherever the shell sent it, with the "wrote" line on stderr; the nodes stay nodes. (/dev/shm:
# LLVM's OpenMP runtime, in the clang sanitizer build, registers itself there and aborts without it.)
if unshare -m true 2>/dev/null; then
  if unshare -m bash -c '
    set -u
    mount -t tmpfs none /dev && mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/full c 1 7 && ln -s /proc/self/fd/1 /dev/stdout && mkdir /dev/shm || exit 2
    ok=0
    "$1" predict "$2" "$3" -o /dev/null >/dev/null 2>&1 && [ -c /dev/null ] || { echo "    -o /dev/null failed"; ok=1; }
    "$1" predict "$2" "$3" -o /dev/full >/dev/null 2>"$4/full.err"; rc=$?
    { [ "$rc" -eq 1 ] && grep -qF "/dev/full: write failed: No space left on device" "$4/full.err" && [ -c /dev/full ]; } || { echo "    -o /dev/full: exit $rc"; ok=1; }
    "$1" predict "$2" "$3" -o /dev/stdout >"$4/piped.npy" 2>"$4/piped.err" && [ -L /dev/stdout ] && head -c 6 "$4/piped.npy" | grep -q NUMPY &&
      grep -qF "wrote /dev/stdout" "$4/piped.err" || { echo "    -o /dev/stdout failed"; ok=1; }
    ls /dev/.integrad-tmp-* >/dev/null 2>&1 && { echo "    a temporary file was left in /dev"; ok=1; }
    exit $ok' _ "$bin" "$work/m.safetensors" "$work/in.npy" "$work"; then
    echo "ok   -o /dev/null, /dev/full, /dev/stdout"
  else
    echo "FAIL device outputs"; failures=$((failures + 1))
  fi
  rm -f "$work/piped.npy"
else
  echo "skip device outputs (unshare -m is not allowed here)"
fi

# Two `train -o` onto one file at once: the second is refused while the first holds the lock.
# (Polled until it holds the lock; its SIGTERM handler is in place by then, so it releases the lock.)
"$bin" train --arch mlp --data synthetic-patches --limit 2000 --val-limit 10 --epochs 1000 -q -o "$work/busy.safetensors" >"$work/first.out" 2>&1 &
first=$!
for _ in $(seq 100); do ls "$work"/.integrad-lock-* >/dev/null 2>&1 && break; sleep 0.1; done
busy_pid=$first
expect_error "a second train -o onto the same file" "is writing it" "$bin" train --arch mlp --data synthetic-patches --limit 64 -o "$work/busy.safetensors"
busy_pid=
kill -TERM "$first"; wait "$first"; status=$?
[ "$status" -eq 143 ] || { echo "FAIL the first train exited with $status after SIGTERM, not 143:"; sed 's/^/    /' "$work/first.out"; failures=$((failures + 1)); }
rm -f "$work"/busy*.safetensors
if ls "$work"/.integrad-lock-* >/dev/null 2>&1; then echo "FAIL the lock file was left behind"; failures=$((failures + 1)); else echo "ok   the lock is released"; fi

# An option's value holding an escape sequence reaches the message escaped by main, not raw.
expect_error "escape sequence in an option's value" "got '\\x1b[31mred'" "$bin" axioms "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" --baseline $'\x1b[31mred'
if grep -q $'\x1b' "$work/stderr"; then echo "FAIL a raw escape character reached stderr"; failures=$((failures + 1)); fi

# Zero examples, the commands that summarise: refused, naming the input.
expect_error "axioms on zero examples" "empty.npy holds no examples" "$bin" axioms "$work/m.safetensors" "$work/empty.npy"
expect_error "convergence on zero examples" "empty.npy holds no examples" "$bin" convergence "$work/m.safetensors" "$work/empty.npy"
expect_error "report on zero examples" "empty.npy holds no examples" "$bin" report "$work/m.safetensors" --inputs "$work/empty.npy" --labels "$work/empty_labels.npy" -o "$work/out.npy"
expect_error "train on zero examples" "the training set is empty" "$bin" train --arch mlp --inputs "$work/empty.npy" --labels "$work/empty_labels.npy" -o "$work/out.safetensors"
# ... and explain, every method, with --deltas: an empty output.
for m in ig saliency smoothgrad gradient exact_ig occlusion kernelshap; do
  extra=(); [ "$m" = occlusion ] && extra=(--window 1,4,4)
  if "$bin" explain "$work/m.safetensors" "$work/empty.npy" -o "$work/e.npy" --method "$m" "${extra[@]}" >"$work/stdout" 2>"$work/stderr" &&
     grep -qF "empty.npy holds no examples" "$work/stderr" && [ -s "$work/e.npy" ]; then echo "ok   explain --method $m on zero examples: empty output"
  else echo "FAIL explain --method $m on zero examples:"; sed 's/^/    /' "$work/stderr"; failures=$((failures + 1)); fi
done

# SmoothGrad with --relative-noise on a constant input: σ = stdev × range = 0, the plain gradient.
python3 - "$work" <<'PY'
import struct, sys
d = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1, 28, 28), }"
d += ' ' * ((64 - (10 + len(d) + 1) % 64) % 64) + '\n'
open(sys.argv[1] + '/constant.npy', 'wb').write(b'\x93NUMPY\x01\x00' + bytes([len(d) & 255, len(d) >> 8]) + d.encode() + struct.pack('<f', 0.5) * (2 * 784))
PY
if "$bin" explain "$work/m.safetensors" "$work/constant.npy" -o "$work/sg.npy" --method smoothgrad --relative-noise >/dev/null 2>"$work/stderr" &&
   "$bin" explain "$work/m.safetensors" "$work/constant.npy" -o "$work/g.npy" --method gradient >/dev/null 2>>"$work/stderr" && cmp -s "$work/sg.npy" "$work/g.npy"; then
  echo "ok   smoothgrad --relative-noise on a constant input is the gradient"
else
  echo "FAIL smoothgrad --relative-noise on a constant input:"; sed 's/^/    /' "$work/stderr"; failures=$((failures + 1))
fi

# A failing command leaves no output of any kind: every output (files, the PNG directory and its
# images) is staged and committed together when the command has finished (nn::OutputSet). Each
# case fails on its last output; none of the others may appear, nor a temporary file.
"$bin" train --arch cnn --data synthetic-patches --limit 32 --val-limit 4 -q -o "$work/c.safetensors" >/dev/null
touch "$work/a_file"
mkdir -p "$work/a_dir"
expect_nothing_left() {
  local what=$1 needle=$2
  shift 2
  rm -rf "$work/tx" && mkdir "$work/tx"
  "$@" >"$work/stdout" 2>"$work/stderr"
  local rc=$?
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 128 ]; then echo "FAIL $what: exit status $rc"; failures=$((failures + 1)); return; fi
  if ! grep -qF -- "$needle" "$work/stderr"; then
    echo "FAIL $what: stderr lacks '$needle':"; sed 's/^/    /' "$work/stderr"; failures=$((failures + 1)); return
  fi
  if [ -n "$(ls -A "$work/tx")" ]; then echo "FAIL $what: left behind: $(ls -A "$work/tx")"; failures=$((failures + 1)); return; fi
  echo "ok   $what: nothing left"
}
t="$work/tx"
expect_nothing_left "explain, --png onto a file" "a_file/sub: cannot create the directory" \
  "$bin" explain "$work/c.safetensors" "$work/images.npy" -o "$t/A.npy" --deltas "$t/D.npy" --png "$work/a_file/sub"
expect_nothing_left "explain, --deltas a directory" "a_dir: cannot create: it is a directory" \
  "$bin" explain "$work/c.safetensors" "$work/images.npy" -o "$t/A.npy" --png "$t/P" --deltas "$work/a_dir"
if [ -w /dev/full ]; then
  expect_nothing_left "explain, -o /dev/full with --png and --deltas" "No space left on device" \
    "$bin" explain "$work/c.safetensors" "$work/images.npy" -o /dev/full --png "$t/P/sub" --deltas "$t/D.npy"
  expect_nothing_left "predict, -o /dev/full" "No space left on device" "$bin" predict "$work/c.safetensors" "$work/images.npy" -o /dev/full
  expect_nothing_left "dataset, --labels-out /dev/full" "No space left on device" \
    "$bin" dataset --data synthetic-patches --limit 3 -o "$t/x.npy" --labels-out /dev/full
  expect_nothing_left "axioms --json, --markdown /dev/full" "No space left on device" \
    "$bin" axioms "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" --limit 1 --json "$t/m.json" --markdown /dev/full
  expect_nothing_left "convergence --csv, --svg /dev/full" "No space left on device" \
    "$bin" convergence "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" --max-steps 8 --csv "$t/c.csv" --svg /dev/full
  expect_nothing_left "evaluate -o, --json, --csv /dev/full" "No space left on device" \
    "$bin" evaluate "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" --attributions "$data/mlp_f32_input.npy" --metric deletion \
    -o "$t/s.npy" --json "$t/s.json" --csv /dev/full
  if [ -n "$sanitized" ]; then
    echo "skip report -o /dev/full: the release run checks it (a report takes 25 s here)"
  else
    expect_nothing_left "report -o /dev/full" "No space left on device" \
      "$bin" report "$work/c.safetensors" --data synthetic-patches --limit 8 --images 1 --steps 4 -o /dev/full
  fi
else
  echo "skip /dev/full cases: /dev/full is not writable here"
fi

# And the valid case: a PNG explained by a model trained on 28×28 images.
if "$bin" explain "$work/m.safetensors" "$images/gray28.png" -o "$work/ok.npy" >/dev/null 2>"$work/stderr" && [ -s "$work/ok.npy" ]; then
  echo "ok   a PNG is one example"
else
  echo "FAIL a valid PNG was not explained:"; sed 's/^/    /' "$work/stderr"; failures=$((failures + 1))
fi

# A NaN in one pixel of example 1: predict runs, warns about that example's inputs, and, since NaN
# propagates as in PyTorch (ReLU keeps it, max pooling picks it), about its outputs; not example 0.
python3 - "$data/cnn_f32_input.npy" "$work/nan_input.npy" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
start = 10 + struct.unpack('<H', d[8:10])[0]
shape = eval(d[10:start].decode())['shape']
per = 1
for s in shape[1:]: per *= s
d[start + 4 * (per + 5):start + 4 * (per + 6)] = struct.pack('<f', float('nan'))
open(sys.argv[2], 'wb').write(d)
PY
if "$bin" predict "$data/cnn_f32.safetensors" "$work/nan_input.npy" -o "$work/nan_out.npy" >/dev/null 2>"$work/stderr" &&
   grep -qF "integrad predict: warning: example 1 has non-finite inputs" "$work/stderr" &&
   grep -qF "integrad predict: warning: example 1 has non-finite outputs" "$work/stderr" &&
   ! grep -qF "example 0" "$work/stderr"; then
  echo "ok   a NaN input is warned about and reaches the outputs"
else
  echo "FAIL a NaN input:"; sed 's/^/    /' "$work/stderr"; failures=$((failures + 1))
fi

# And evaluate's valid cases: one metric writes a row per example and the mean to every output; a
# methods × metrics table marks one best per column and notes the method it cannot run by default.
"$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/ig.npy" >/dev/null 2>&1
if "$bin" evaluate "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" --attributions "$work/ig.npy" --metric insertion --steps 8 \
     --json "$work/ev.json" --csv "$work/ev.csv" -o "$work/ev.npy" >"$work/stdout" 2>"$work/stderr" &&
   [ "$(wc -l <"$work/ev.csv")" -eq 7 ] && grep -q '^mean,' "$work/ev.csv" && grep -qF '"higher_is_better": true' "$work/ev.json" &&
   [ -s "$work/ev.npy" ] && grep -q '^ *mean ' "$work/stdout"; then
  echo "ok   evaluate writes a row per example and the mean"
else
  echo "FAIL evaluate --attributions:"; sed 's/^/    /' "$work/stdout" "$work/stderr"; failures=$((failures + 1))
fi
if "$bin" evaluate "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" --methods ig,gradient,occlusion --metrics deletion,sparseness \
     >"$work/stdout" 2>"$work/stderr" && [ "$(grep -o ' \*' "$work/stdout" | wc -l)" -ge 2 ] &&
   grep -qF "note: skipping occlusion with default options: occlusion needs --window" "$work/stderr" && ! grep -q '^occlusion' "$work/stdout"; then
  echo "ok   evaluate --methods tabulates and skips what needs options"
else
  echo "FAIL evaluate --methods:"; sed 's/^/    /' "$work/stdout" "$work/stderr"; failures=$((failures + 1))
fi

if "$bin" evaluate "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" --methods ig,gradient --metrics deletion,insertion,faithfulness-correlation,randomisation \
     --subset-size 4 --svg "$work/curves" --json "$work/table.json" >"$work/stdout" 2>"$work/stderr" &&
   grep -q '<svg' "$work/curves/deletion.svg" && grep -q '<svg' "$work/curves/insertion.svg" && grep -qF '"deletion_curve": [' "$work/table.json" &&
   grep -q '^gradient ' "$work/stdout" && grep -qF 'randomisation (↓)' "$work/stdout"; then
  echo "ok   evaluate --svg writes the deletion and insertion curves"
else
  echo "FAIL evaluate --svg:"; sed 's/^/    /' "$work/stdout" "$work/stderr"; failures=$((failures + 1))
fi
expect_error "evaluate --svg without --methods" "--svg writes the curves of the --methods table" "$bin" evaluate "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" --attributions "$data/mlp_f32_input.npy" --metric deletion --svg "$work/curves2"
# Transformers: token ids outside the vocabulary, sequences longer than the positional table, a
# head count that does not divide the width, attention asked of a model without any.
python3 - "$work" <<'PY'
import json, struct, sys
def model(path, arch, shape, tensors):
    header, data = {"__metadata__": {"architecture": arch, "input_shape": shape, "input_dtype": "int64"}}, b""
    for name, dims in tensors:
        n = 1
        for d in dims: n *= d
        header[name] = {"dtype": "F32", "shape": dims, "data_offsets": [len(data), len(data) + 4 * n]}
        data += b"\0" * (4 * n)
    text = json.dumps(header).encode()
    open(path, "wb").write(struct.pack("<Q", len(text)) + text + data)
model(sys.argv[1] + "/long.safetensors", "Embedding(11, 8); PositionalEmbedding(7, 8)", "9", [("0.weight", [11, 8]), ("1.weight", [7, 8])])
model(sys.argv[1] + "/heads.safetensors", "Embedding(11, 10); TransformerEncoderLayer(10, 3)", "7", [("0.weight", [11, 10])])
d = "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 7), }"
d += ' ' * ((64 - (10 + len(d) + 1) % 64) % 64) + '\n'
open(sys.argv[1] + "/bad_ids.npy", 'wb').write(b'\x93NUMPY\x01\x00' + bytes([len(d) & 255, len(d) >> 8]) + d.encode() + struct.pack("<7q", 1, 2, 3, 20, 4, 5, 6))
PY
expect_error "token id outside the vocabulary" "token id 20 at position 3 is not an integer in [0, 11)" "$bin" predict "$data/transformer_select_f32.safetensors" "$work/bad_ids.npy" -o "$work/out.npy"
expect_error "token id outside the vocabulary (attention)" "token id 20" "$bin" attention "$data/transformer_select_f32.safetensors" "$work/bad_ids.npy" -o "$work/out.npy"
expect_error "sequence longer than the positional table" "a sequence of 9 tokens is longer than the positional table (7 positions)" "$bin" info "$work/long.safetensors"
expect_error "nhead not dividing d_model" "nhead 3 does not divide d_model 10" "$bin" info "$work/heads.safetensors"
expect_error "attention of a model without attention" "has no TransformerEncoderLayer" "$bin" attention "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy"
expect_error "attention method on a model without attention" "has no TransformerEncoderLayer" "$bin" explain "$data/text_f32.safetensors" "$data/text_f32_input.npy" -o "$work/out.npy" --method rollout

# Issue 29, round three. Every file a command writes passes one same-file check against every file
# it read: a merge onto a shard's sidecar, a shard's sidecar that is a link to the input, --png
# onto the image being explained.
"$bin" predict "$work/m.safetensors" "$work/in.npy" -o "$work/s0.npy" --shard 0/2 >/dev/null 2>&1
"$bin" predict "$work/m.safetensors" "$work/in.npy" -o "$work/s1.npy" --shard 1/2 >/dev/null 2>&1
cp "$work/s0.npy.range.json" "$work/sidecar_before"
expect_error "merge -o onto a shard's sidecar" "s0.npy.range.json" "$bin" merge "$work/s0.npy" "$work/s1.npy" -o "$work/s0.npy.range.json"
ln -s s0.npy.range.json "$work/sidecar_link.npy"
expect_error "merge -o onto a shard's sidecar through a link" "an input of this command" "$bin" merge "$work/s0.npy" "$work/s1.npy" -o "$work/sidecar_link.npy"
cmp -s "$work/s0.npy.range.json" "$work/sidecar_before" || { echo "FAIL merge -o changed a sidecar"; failures=$((failures + 1)); }
rm -f "$work/sidecar_link.npy"
ln -s in.npy "$work/linked.npy.range.json"
expect_error "a sidecar that is a link to the input" "an input of this command" "$bin" predict "$work/m.safetensors" "$work/in.npy" -o "$work/linked.npy" --shard 0/1
[ -e "$work/linked.npy" ] && { echo "FAIL a shard output was left"; failures=$((failures + 1)); }
rm -f "$work/linked.npy.range.json"
mkdir -p "$work/pngs" && cp "$images/gray28.png" "$work/pngs/0_saliency_heatmap.png" && cp "$images/gray28.png" "$work/heatmap_before.png"
expect_error "explain --png onto its own input image" "an input of this command" "$bin" explain "$work/m.safetensors" "$work/pngs/0_saliency_heatmap.png" -o "$work/out.npy" --method saliency --png "$work/pngs"
cmp -s "$work/pngs/0_saliency_heatmap.png" "$work/heatmap_before.png" || { echo "FAIL --png overwrote its input image"; failures=$((failures + 1)); }
if cmp -s "$work/images.npy" "$work/in.npy"; then echo "ok   the inputs are unchanged"; else echo "FAIL an input was changed"; failures=$((failures + 1)); fi

# merge refuses shards of different runs, and a sidecar that belongs to another shard's output.
"$bin" explain "$work/m.safetensors" "$work/in.npy" -o "$work/e0.npy" --method saliency --shard 0/2 >/dev/null 2>&1
"$bin" explain "$work/m.safetensors" "$work/in.npy" -o "$work/e1.npy" --method saliency --shard 1/2 >/dev/null 2>&1
"$bin" explain "$work/m.safetensors" "$work/in.npy" -o "$work/g1.npy" --method gradient --shard 1/2 >/dev/null 2>&1
"$bin" explain "$work/c.safetensors" "$work/in.npy" -o "$work/c1.npy" --method saliency --shard 1/2 >/dev/null 2>&1
expect_error "merge: shards of different methods" "with different options" "$bin" merge "$work/e0.npy" "$work/g1.npy" -o "$work/out.npy"
expect_error "merge: shards of different models" "computed from different files" "$bin" merge "$work/e0.npy" "$work/c1.npy" -o "$work/out.npy"
cp "$work/e0.npy.range.json" "$work/swap" && cp "$work/e1.npy.range.json" "$work/e0.npy.range.json" && cp "$work/swap" "$work/e1.npy.range.json"
expect_error "merge: sidecars swapped" "is not the file" "$bin" merge "$work/e0.npy" "$work/e1.npy" -o "$work/out.npy"

# Only provably stale temporaries are removed: one that names another host's pid (or carries no
# host at all, an older integrad's) may be a live job writing into a shared out/ directory.
mkdir -p "$work/shared"
printf 'live elsewhere' >"$work/shared/.integrad-tmp-999999999-abcdef"
"$bin" predict "$work/m.safetensors" "$work/in.npy" -o "$work/shared/p.npy" >/dev/null 2>&1
if [ -e "$work/shared/.integrad-tmp-999999999-abcdef" ]; then echo "ok   another host's temporary file is left alone"
else echo "FAIL another host's temporary file was removed"; failures=$((failures + 1)); fi
rm -rf "$work/shared"

# An existing output the user may not write (mode 0444, another user's file) is refused, as cp
# and '>' refuse it. As root, the command runs as nobody (root may write anything, as with cp).
mkdir -p "$work/ro" && printf 'keep' >"$work/ro/out.npy" && chmod 0444 "$work/ro/out.npy" && chmod 0777 "$work/ro" && chmod o+rx "$work"
as_user=(); [ "$(id -u)" -eq 0 ] && as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
if "${as_user[@]}" "$bin" predict "$work/m.safetensors" "$work/in.npy" -o "$work/ro/out.npy" >/dev/null 2>"$work/stderr"; then
  echo "FAIL a read-only output was replaced"; failures=$((failures + 1))
elif grep -qF "will not replace it: Permission denied (mode 0444" "$work/stderr" && [ "$(cat "$work/ro/out.npy")" = keep ]; then
  echo "ok   a read-only output is refused"
else echo "FAIL a read-only output:"; sed 's/^/    /' "$work/stderr"; failures=$((failures + 1)); fi
chmod 0700 "$work"; rm -rf "$work/ro"

# Every final name is checked before the first rename: a shard's sidecar name too long for the
# file system left the .npy in place.
long="$work/$(printf 'n%.0s' $(seq 250)).npy"
expect_error "a sidecar name too long" "the file system takes at most 255" "$bin" predict "$work/m.safetensors" "$work/in.npy" -o "$long" --shard 0/1
[ -e "$long" ] && { echo "FAIL the .npy of a refused shard was left"; failures=$((failures + 1)); rm -f "$long"; }

# SIGTERM while explain stages its --png images: no directory, no image and no temporary file left,
# exit 143 and a word on stderr (the default action left a partial directory and megabytes of
# temporaries).
"$bin" dataset --data synthetic-patches --limit 3000 -o "$work/many.npy" >/dev/null
"$bin" explain "$work/m.safetensors" "$work/many.npy" -o "$work/sig.npy" --method saliency --png "$work/sigpng" >/dev/null 2>"$work/sig.err" &
pid=$!
for _ in $(seq 300); do [ -d "$work/sigpng" ] && break; sleep 0.05; done
kill -TERM "$pid"; wait "$pid"; status=$?
if [ "$status" -eq 143 ] && [ ! -e "$work/sigpng" ] && [ ! -e "$work/sig.npy" ] && ! ls "$work"/.integrad-tmp-* >/dev/null 2>&1 && grep -qF "interrupted (signal 15)" "$work/sig.err"; then
  echo "ok   SIGTERM during explain --png leaves nothing"
else
  echo "FAIL SIGTERM during explain --png: exit $status, left: $(ls -A "$work/sigpng" 2>/dev/null | wc -l) images"; sed 's/^/    /' "$work/sig.err"; failures=$((failures + 1))
fi
rm -rf "$work/sigpng" "$work/many.npy"

# SIGTERM during predict's forward pass: it stops within a layer, not after the batch (the forward
# polls the stop flag between layers, predict between batches). 200 convolutions of 32 channels on
# 2048 examples in one batch take about 7 s on an idle 2-core machine (40 took 1.3 s, which a fast
# machine finished before the signal); the run must end within 2 s of the signal, exit 143, and
# leave no output and no temporary file.
python3 - "$work" <<'PY'
import json, struct, sys
layers = 200
header, offset = {"__metadata__": {"architecture": "; ".join(["Conv2d(32, 32, 3, padding=1)"] * layers), "input_shape": "32,8,8"}}, 0
for i in range(layers):
    for name, dims, n in ((f"{i}.weight", [32, 32, 3, 3], 32 * 32 * 9), (f"{i}.bias", [32], 32)):
        header[name] = {"dtype": "F32", "shape": dims, "data_offsets": [offset, offset + 4 * n]}
        offset += 4 * n
text = json.dumps(header).encode()
open(sys.argv[1] + "/slow.safetensors", "wb").write(struct.pack("<Q", len(text)) + text + b"\0" * offset)
d = "{'descr': '<f4', 'fortran_order': False, 'shape': (2048, 32, 8, 8), }"
d += " " * ((64 - (10 + len(d) + 1) % 64) % 64) + "\n"
open(sys.argv[1] + "/slow_x.npy", "wb").write(b"\x93NUMPY\x01\x00" + bytes([len(d) & 255, len(d) >> 8]) + d.encode() + b"\0" * (4 * 2048 * 32 * 64))
PY
"$bin" predict "$work/slow.safetensors" "$work/slow_x.npy" -o "$work/slow_out.npy" --batch-size 2048 >/dev/null 2>"$work/sig.err" &
pid=$!
sleep 1.5
signalled=${EPOCHREALTIME/./}; kill -TERM "$pid"; wait "$pid"; status=$?
took_ms=$(( (${EPOCHREALTIME/./} - signalled) / 1000 ))
if [ "$status" -eq 143 ] && [ "$took_ms" -lt 2000 ] && [ ! -e "$work/slow_out.npy" ] && ! ls "$work"/.integrad-tmp-* >/dev/null 2>&1 && grep -qF "interrupted (signal 15)" "$work/sig.err"; then
  echo "ok   SIGTERM during predict's forward stops it in ${took_ms} ms, leaving nothing"
else
  echo "FAIL SIGTERM during predict's forward: exit $status after ${took_ms} ms, output left: $([ -e "$work/slow_out.npy" ] && echo yes || echo no)"; sed 's/^/    /' "$work/sig.err"; failures=$((failures + 1))
fi
rm -f "$work/slow.safetensors" "$work/slow_x.npy" "$work/slow_out.npy"

# A report of a model with few input features (8x8 digits): occlusion, LIME and shapley-sampling
# enter its tables, and the report gave them options it does not take ("occlusion needs --window",
# then LIME's "25 sampled coalitions do not determine the 64 group coefficients").
if [ -n "$sanitized" ]; then
  echo "skip report of an 8x8 digits model: the release run checks it (a report takes a minute here)"
else
  "$bin" train --arch cnn --data digits --limit 64 --val-limit 8 --epochs 1 -q -o "$work/digits.safetensors" >/dev/null 2>&1
  if "$bin" report "$work/digits.safetensors" --limit 2 -o "$work/digits.html" >/dev/null 2>"$work/stderr" && grep -q "Occlusion" "$work/digits.html"; then
    echo "ok   report of an 8x8 digits model runs every method in its tables"
  else
    echo "FAIL report of an 8x8 digits model:"; tail -2 "$work/stderr" | sed 's/^/    /'; failures=$((failures + 1))
  fi
  rm -f "$work/digits.safetensors" "$work/digits.checkpoint.safetensors" "$work/digits.html"
fi

# train's lock covers its checkpoint: a second run whose -o is the first run's checkpoint is refused.
"$bin" train --arch mlp --data synthetic-patches --limit 2000 --val-limit 10 --epochs 1000 -q -o "$work/busy.safetensors" >"$work/first.out" 2>&1 &
first=$!
for _ in $(seq 100); do [ "$(ls "$work"/.integrad-lock-* 2>/dev/null | wc -l)" -ge 2 ] && break; sleep 0.1; done
busy_pid=$first
expect_error "train -o onto a running train's checkpoint" "is writing it" "$bin" train --arch mlp --data synthetic-patches --limit 64 -o "$work/busy.checkpoint.safetensors"
busy_pid=
kill -TERM "$first"; wait "$first"
rm -f "$work"/busy*.safetensors

# A model whose layers' outputs together need gigabytes per example (each layer within its own
# limit) is refused at load with the estimate.
python3 - "$work" <<'PY'
import json, struct, sys
arch = "; ".join(["ReLU()"] * 2000 + ["Linear(65536, 2)"])
header = {"__metadata__": {"architecture": arch, "input_shape": "65536"}, "2000.weight": {"dtype": "F32", "shape": [2, 65536], "data_offsets": [0, 524288]},
          "2000.bias": {"dtype": "F32", "shape": [2], "data_offsets": [524288, 524296]}}
text = json.dumps(header).encode()
open(sys.argv[1] + "/relus.safetensors", "wb").write(struct.pack("<Q", len(text)) + text + b"\0" * 524296)
PY
expect_error "activations of gigabytes over many layers" "more than the budget of 2^26 values" "$bin" info "$work/relus.safetensors"

# train: the optimizer's settings in range, and weights that diverge to inf are not written.
for opt in "--lr inf" "--lr nan" "--lr -1" "--momentum nan --optimizer sgd" "--momentum -1 --optimizer sgd" "--momentum 2 --optimizer sgd" "--weight-decay nan" "--weight-decay -0.1"; do
  # shellcheck disable=SC2086
  expect_error "train $opt" "must be" "$bin" train --arch mlp --data synthetic-patches --limit 64 $opt -o "$work/out.safetensors"
done
expect_error "train --lr 1e308" "training diverged" "$bin" train --arch mlp --data synthetic-patches --limit 64 --lr 1e308 --optimizer sgd -o "$work/out.safetensors"
expect_error "train --momentum with adam" "--momentum is an option of --optimizer sgd" "$bin" train --arch mlp --data synthetic-patches --limit 64 --momentum 0.9 -o "$work/out.safetensors"
expect_error "train MODEL --arch" "not both" "$bin" train "$work/m.safetensors" --arch cnn --data synthetic-patches --limit 64 -o "$work/out.safetensors"
expect_error "--data with --inputs" "give either --data" "$bin" train --arch mlp --data synthetic-patches --inputs "$work/in.npy" --labels "$work/labels.npy" -o "$work/out.safetensors"
expect_error "labels beyond the model's outputs" "but the model has 10 outputs" "$bin" train "$work/m.safetensors" --inputs "$work/in.npy" --labels "$work/big_labels.npy" -o "$work/out.safetensors"

# convergence shows a NaN pixel's NaN and warns, as explain does.
if "$bin" convergence "$data/cnn_f32.safetensors" "$work/nan_input.npy" --limit 2 --max-steps 4 >"$work/stdout" 2>"$work/stderr" &&
   grep -qF "warning: example 1 has non-finite inputs" "$work/stderr" && grep -q "nan" "$work/stdout"; then
  echo "ok   convergence shows NaN"
else
  echo "FAIL convergence hides NaN:"; sed 's/^/    /' "$work/stdout" "$work/stderr"; failures=$((failures + 1))
fi

# report --limit is obeyed: 0 examples is nothing to report.
expect_error "report --limit 0" "holds no examples" "$bin" report "$work/m.safetensors" --data synthetic-patches --limit 0 -o "$work/out.npy"

# An output on standard output gets the data alone; the text goes to stderr, for every command.
"$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o /dev/stdout >"$work/piped.npy" 2>"$work/stderr"
"$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/direct.npy" >/dev/null 2>&1
if cmp -s "$work/piped.npy" "$work/direct.npy" && grep -qF "wrote /dev/stdout" "$work/stderr"; then echo "ok   explain -o /dev/stdout holds the data alone"
else echo "FAIL explain -o /dev/stdout mixed text into the data"; failures=$((failures + 1)); fi
"$bin" convergence "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" --max-steps 4 --csv /dev/stdout >"$work/piped.csv" 2>/dev/null
if [ "$(head -1 "$work/piped.csv")" = "rule,steps,error,abs_delta" ]; then echo "ok   convergence --csv /dev/stdout holds the CSV alone"
else echo "FAIL convergence --csv /dev/stdout:"; head -3 "$work/piped.csv" | sed 's/^/    /'; failures=$((failures + 1)); fi

# evaluate --methods: -o has a row per requested method, NaN for one it skipped.
if "$bin" evaluate "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" --methods occlusion,gradient --metrics sparseness -o "$work/rows.npy" >/dev/null 2>"$work/stderr" &&
   python3 - "$work/rows.npy" <<'PY'
import math, struct, sys
d = open(sys.argv[1], 'rb').read()
start = 10 + struct.unpack('<H', d[8:10])[0]
header = eval(d[10:start].decode())
assert header['shape'] == (2, 1, 5), header
v = struct.unpack('<10f', d[start:start + 40])
assert all(math.isnan(x) for x in v[:5]) and all(not math.isnan(x) for x in v[5:]), v
PY
then echo "ok   evaluate --methods -o keeps a row per requested method"
else echo "FAIL evaluate --methods -o rows:"; sed 's/^/    /' "$work/stderr"; failures=$((failures + 1)); fi

# Options that would be ignored or contradict each other are refused.
expect_error "--html on an image model" "--html colours token inputs" "$bin" explain "$data/cnn_f32.safetensors" "$data/cnn_f32_input.npy" -o "$work/out.npy" --html "$work/x.html"
expect_error "--subset-size beyond the features" "--subset-size 1000000 must be below the" "$bin" evaluate "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" --attributions "$data/mlp_f32_input.npy" --metric faithfulness-correlation --subset-size 1000000 -o "$work/out.npy"
expect_error "--baseline 1e308 in float32" "--baseline 1e308 is beyond the range of float32" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --baseline 1e308
expect_error "--labels-out as .csv" "a name ending in .csv would hold .npy bytes" "$bin" dataset --data synthetic-patches --limit 2 -o "$work/out.npy" --labels-out "$work/y.csv"
expect_error "vargrad with one sample" "needs --samples 2 or more" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --method smoothgrad --noise-type vargrad --samples 1
expect_error "dataset --limit 2^63" "--limit: '9223372036854775808' is not a whole number in [0, 9223372036854775807]" "$bin" dataset --data synthetic-patches --limit 9223372036854775808 -o "$work/out.npy"
expect_error "train --val-limit 2^64-1" "--val-limit: '18446744073709551615' is not a whole number" "$bin" train --arch mlp --data synthetic-patches --val-limit 18446744073709551615 -o "$work/out.safetensors"

# Library internals do not reach the user: the checks name the user's file or option.
expect_error "axioms --twin of another shape" "a twin must take and give the same shapes" "$bin" axioms "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" --twin "$data/cnn_f32.safetensors"
expect_error "report --text-model of another kind" "--text-model" "$bin" report "$work/m.safetensors" --data synthetic-patches --limit 8 --text-model "$data/mlp_f32.safetensors" -o "$work/out.npy"
expect_error "evaluate --svg under a file" "cannot create the directory" "$bin" evaluate "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" --methods gradient --metrics deletion --svg "$work/a_file/sub"

# Messages: CLI11's errors with the usual prefix and status, escaped; a huge label named as such;
# an empty shard; pipes read as files.
expect_error "CLI11 error: escaped, usual prefix" "integrad explain: error: --dtype: \\x1b[31mred" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --dtype $'\x1b[31mred'
grep -q $'\x1b' "$work/stderr" && { echo "FAIL a raw escape character reached stderr"; failures=$((failures + 1)); }
"$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o /dev/null --dtype nope >/dev/null 2>&1
[ $? -eq 1 ] && echo "ok   CLI11 errors exit 1" || { echo "FAIL CLI11 errors do not exit 1"; failures=$((failures + 1)); }
if "$bin" predict "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/"$'\x1b]0;owned\x07.npy' >"$work/stdout" 2>&1 && ! grep -q $'\x1b' "$work/stdout" && grep -qF 'wrote' "$work/stdout"; then
  echo "ok   a file name with an escape sequence is shown escaped in 'wrote'"
else echo "FAIL a raw escape sequence in a success line"; failures=$((failures + 1)); fi
rm -f "$work/"$'\x1b]0;owned\x07.npy'
expect_error "a label of 2^62" "beyond the largest label" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --target "$work/huge_target.npy"
if cat "$data/mlp_f32_input.npy" | "$bin" predict "$data/mlp_f32.safetensors" /dev/stdin -o "$work/stdin_out.npy" >/dev/null 2>"$work/stderr" && [ -s "$work/stdin_out.npy" ]; then
  echo "ok   /dev/stdin is read"
else echo "FAIL /dev/stdin:"; sed 's/^/    /' "$work/stderr"; failures=$((failures + 1)); fi

if "$bin" predict "$work/m.safetensors" "$work/in.npy" -o "$work/empty_shard.npy" --shard 0/4 >/dev/null 2>"$work/stderr" &&
   grep -qF "this shard holds none of the 3 examples of" "$work/stderr"; then echo "ok   an empty shard is named as such"
else echo "FAIL an empty shard:"; sed 's/^/    /' "$work/stderr"; failures=$((failures + 1)); fi
expect_error "a 100 KB value is not echoed in full" "more bytes)" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --baseline "$(head -c 100000 /dev/zero | tr '\0' x)"
[ "$(wc -c <"$work/stderr")" -lt 5000 ] || { echo "FAIL a long value was echoed in full"; failures=$((failures + 1)); }
expect_error "occlusion on token ids: the reason" "reads token ids (an Embedding first), which have no gradient and no values between them" "$bin" explain "$data/text_f32.safetensors" "$data/text_f32_input.npy" -o "$work/out.npy" --method occlusion --window 1

# KernelSHAP over 2^15 single-feature groups: refused up front with the estimate (an 8 GB
# least-squares system); under an address-space limit, so that a regression fails fast.
python3 - "$work" <<'PY'
import json, struct, sys
n = 32768
header = {"__metadata__": {"architecture": "Linear(%d, 2)" % n, "input_shape": str(n)},
          "0.weight": {"dtype": "F32", "shape": [2, n], "data_offsets": [0, 8 * n]}, "0.bias": {"dtype": "F32", "shape": [2], "data_offsets": [8 * n, 8 * n + 8]}}
text = json.dumps(header).encode()
open(sys.argv[1] + "/wide.safetensors", "wb").write(struct.pack("<Q", len(text)) + text + b"\0" * (8 * n + 8))
d = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, %d), }" % n
d += ' ' * ((64 - (10 + len(d) + 1) % 64) % 64) + '\n'
open(sys.argv[1] + "/wide.npy", "wb").write(b'\x93NUMPY\x01\x00' + bytes([len(d) & 255, len(d) >> 8]) + d.encode() + b"\0" * (4 * n))
PY
# (An address-space limit cannot be set under AddressSanitizer, whose shadow memory needs terabytes
# of it: tools/sanitize.sh runs these cases without one.)
limited=(); command -v prlimit >/dev/null && [ -z "${ASAN_OPTIONS:-}" ] && limited=(prlimit --as=$((2 << 30)))
expect_error "kernelshap over 2^15 groups" "kernelshap over 32768 feature groups needs about" "${limited[@]}" "$bin" explain "$work/wide.safetensors" "$work/wide.npy" -o "$work/out.npy" --method kernelshap

# An allocation that fails says what to reduce, not "std::bad_alloc" (under an address-space limit).
if command -v prlimit >/dev/null && [ -z "${ASAN_OPTIONS:-}" ]; then
  "$bin" dataset --data synthetic-patches --limit 1 -o "$work/one.npy" >/dev/null
  expect_error "out of memory" "out of memory: this needs more memory than the machine gives it; reduce --batch-size" \
    prlimit --as=$((1 << 30)) "$bin" explain "$work/m.safetensors" "$work/one.npy" -o "$work/out.npy" --steps 1000000 --batch-size 1000000
fi
# A feature name holding an escape sequence, in explain's per-feature table: shown escaped.
printf 'a,\033[31mb,y\n1,2,0\n0,1,1\n' >"$work/esc.csv"
"$bin" train --arch mlp --inputs "$work/esc.csv" --labels-column y --epochs 1 -q -o "$work/esc.safetensors" >/dev/null 2>&1
printf 'a,\033[31mb\n1,2\n' >"$work/esc_x.csv"
if "$bin" explain "$work/esc.safetensors" "$work/esc_x.csv" -o "$work/esc_a.npy" --method saliency >"$work/stdout" 2>&1 && grep -qF '\x1b[31mb' "$work/stdout" &&
   ! grep -q $'\x1b' "$work/stdout"; then echo "ok   a feature name's escape sequence is shown escaped"
else echo "FAIL a feature name's escape sequence:"; sed 's/^/    /' "$work/stdout" | cat -v; failures=$((failures + 1)); fi

# integrad export (ONNX): never onto its input (here through a link named .onnx), a directory that
# does not exist or cannot be written, a layer kind nobody knows, an output that is not .onnx.
ln -s "$work/m.safetensors" "$work/m_alias.onnx"
before=$(sha256sum <"$work/m.safetensors")
expect_error "export onto its input" "is the same file as MODEL" "$bin" export "$work/m.safetensors" -o "$work/m_alias.onnx"
[ "$(sha256sum <"$work/m.safetensors")" = "$before" ] || { echo "FAIL export onto its input: the model file changed"; failures=$((failures + 1)); }
expect_error "export into a missing directory" "nodir" "$bin" export "$work/m.safetensors" -o "$work/nodir/m.onnx"
if [ "$(id -u)" -ne 0 ]; then
  mkdir "$work/readonly" && chmod 0555 "$work/readonly"
  expect_error "export into a read-only directory" "readonly" "$bin" export "$work/m.safetensors" -o "$work/readonly/m.onnx"
  [ -z "$(ls -A "$work/readonly")" ] || { echo "FAIL export into a read-only directory: it left a file"; failures=$((failures + 1)); }
  chmod 0755 "$work/readonly"
fi
python3 - "$work" <<'PY'
import json, struct, sys
header = {"__metadata__": {"architecture": "Linear(4, 2); Mystery()", "input_shape": "4"},
          "0.weight": {"dtype": "F32", "shape": [2, 4], "data_offsets": [0, 32]}, "0.bias": {"dtype": "F32", "shape": [2], "data_offsets": [32, 40]}}
text = json.dumps(header).encode()
open(sys.argv[1] + "/mystery.safetensors", "wb").write(struct.pack("<Q", len(text)) + text + b"\0" * 40)
PY
expect_error "export of an unknown layer kind" "unknown layer 'Mystery'" "$bin" export "$work/mystery.safetensors" -o "$work/mystery.onnx"
expect_error "export to a path that is not .onnx" "an ONNX model is written to a .onnx file" "$bin" export "$work/m.safetensors" -o "$work/out.npy"
expect_error "export with a bad --dtype" "--dtype" "$bin" export "$work/m.safetensors" -o "$work/m.onnx" --dtype float16
ls "$work"/*.onnx 2>/dev/null | grep -v m_alias.onnx && { echo "FAIL export: a refused export left a .onnx file"; failures=$((failures + 1)); }
"$bin" export "$work/m.safetensors" -o "$work/m.onnx" >/dev/null && [ -s "$work/m.onnx" ] && echo "ok   export writes a model that is refused nothing" ||
  { echo "FAIL export of a good model"; failures=$((failures + 1)); }
# ONNX files (nn/onnx/): truncated, an unknown op named with its node.
onnx_dir="$(dirname "$0")/../data/onnx"
head -c 300 "$onnx_dir/resnet_folded.onnx" >"$work/trunc.onnx"
expect_error "truncated ONNX" "not a valid ONNX model (the protobuf is truncated" \
  "$bin" predict "$work/trunc.onnx" "$onnx_dir/resnet_folded_input.npy" -o "$work/out.npy"
sed 's/GlobalAveragePool/GlobalAverageXool/g' "$onnx_dir/resnet_folded.onnx" >"$work/unknown.onnx"
expect_error "unknown ONNX op" "node '/avgpool/GlobalAverageXool' (GlobalAverageXool) is an operation integrad does not read" \
  "$bin" predict "$work/unknown.onnx" "$onnx_dir/resnet_folded_input.npy" -o "$work/out.npy"

# train MODEL.onnx -o OUT.onnx writes back into the file's graph, an LSTM's reordered gates too.
graph_dir="$(dirname "$0")/../data/graph"
"$bin" train "$onnx_dir/resnet_f64.onnx" --inputs "$graph_dir/train_x.npy" --labels "$graph_dir/train_y.npy" --epochs 1 --batch-size 4 -q \
  -o "$work/trained.onnx" >/dev/null && "$bin" predict "$work/trained.onnx" "$graph_dir/train_x.npy" -o "$work/trained_out.npy" >/dev/null &&
  echo "ok   train MODEL.onnx -o OUT.onnx writes a model that loads" || { echo "FAIL train MODEL.onnx -o OUT.onnx"; failures=$((failures + 1)); }
/usr/bin/python3 -c "import numpy as np, sys; np.save(sys.argv[1], np.zeros(len(np.load(sys.argv[2])), dtype=np.int64))" "$work/lstm_labels.npy" "$onnx_dir/lstm_input.npy"
"$bin" train "$onnx_dir/lstm.onnx" --inputs "$onnx_dir/lstm_input.npy" --labels "$work/lstm_labels.npy" -q -o "$work/lstm_trained.onnx" >/dev/null &&
  "$bin" predict "$work/lstm_trained.onnx" "$onnx_dir/lstm_input.npy" -o "$work/lstm_out.npy" >/dev/null &&
  echo "ok   train an ONNX LSTM -o OUT.onnx writes it back" || { echo "FAIL train an ONNX LSTM -o OUT.onnx"; failures=$((failures + 1)); }

if [ "$failures" -ne 0 ]; then echo "$failures bad-input cases misbehaved"; exit 1; fi
echo "all bad-input cases refused cleanly"
