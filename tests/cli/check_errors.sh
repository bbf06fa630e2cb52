#!/usr/bin/env bash
# Bad input through the CLI: each case must exit non-zero, name the file or the problem on stderr,
# never crash (no signal, no sanitizer report), and leave no output file. Usage: check_errors.sh BUILD_DIR
set -uo pipefail
bin="$1/integrad"
data="$(cd "$(dirname "$0")/../data/torch" && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# expect_error "what" "text the message must contain" command...
expect_error() {
  local what=$1 needle=$2
  shift 2
  rm -f "$work/out.npy" "$work/out.safetensors"
  "$@" >"$work/stdout" 2>"$work/stderr"
  local rc=$?
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 128 ]; then
    echo "FAIL $what: exit status $rc"; failures=$((failures + 1)); return
  fi
  if ! grep -qF -- "$needle" "$work/stderr"; then
    echo "FAIL $what: stderr lacks '$needle':"; sed 's/^/    /' "$work/stderr"; failures=$((failures + 1)); return
  fi
  if [ -e "$work/out.npy" ] || [ -e "$work/out.safetensors" ] || ls "$work"/.integrad-tmp-* "$work"/.integrad-lock-* >/dev/null 2>&1; then
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
expect_error "vargrad of one sample" "--noise-type vargrad needs --samples 2 or more" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --method smoothgrad --noise-type vargrad --samples 1
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
expect_error "negative --limit" "--limit: Value -1 not in range 0" "$bin" dataset --data synthetic-patches --limit -1 -o "$work/out.npy"
expect_error "negative train --limit" "--limit: Value -5 not in range 0" "$bin" train --arch mlp --data synthetic-patches --limit -5 -o "$work/out.safetensors"
expect_error "negative --seed" "--seed: '-1' is not a seed: expected an integer from 0 to 2^63-1" "$bin" train --arch mlp --data synthetic-patches --seed -1 -o "$work/out.safetensors"
expect_error "--seed 2^64" "'18446744073709551616' is not a seed" "$bin" train --arch mlp --data synthetic-patches --seed 18446744073709551616 -o "$work/out.safetensors"
expect_error "--seed 2^63" "'9223372036854775808' is not a seed" "$bin" train --arch mlp --data synthetic-patches --seed 9223372036854775808 -o "$work/out.safetensors"
expect_error "--seed 1e23" "'1e23' is not a seed" "$bin" train --arch mlp --data synthetic-patches --seed 1e23 -o "$work/out.safetensors"
expect_error "--val-limit 0" "--val-limit: Value 0 not in range 1" "$bin" train --arch mlp --data synthetic-patches --val-limit 0 -o "$work/out.safetensors"

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
expect_error "a second train -o onto the same file" "is writing it" "$bin" train --arch mlp --data synthetic-patches --limit 64 -o "$work/busy.safetensors"
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
  expect_nothing_left "report -o /dev/full" "No space left on device" \
    "$bin" report "$work/c.safetensors" --data synthetic-patches --limit 8 --images 1 --steps 4 -o /dev/full
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

if [ "$failures" -ne 0 ]; then echo "$failures bad-input cases misbehaved"; exit 1; fi
echo "all bad-input cases refused cleanly"
