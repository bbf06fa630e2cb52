#!/usr/bin/env bash
# Training models of several inputs through the CLI (docs/inputs.md, "Training"; fixtures from
# tests/data/make_two_input_training_fixtures.py): `integrad train MODEL --inputs X.npz --labels
# Y.npy` ends on PyTorch's weights for every optimizer and loss, shuffles with one permutation and the
# same bits at any thread count, resumes, runs in float32, reads a one-input model's .npz as its
# .npy, and refuses bad data naming the file and the array, writing nothing.
# Usage: check_train_inputs.sh BUILD_DIR
set -uo pipefail
bin="$1/integrad"
data="$(cd "$(dirname "$0")/../data/inputs/train" && pwd)"
torch="$(cd "$(dirname "$0")/../data/torch" && pwd)"
onnx="$(cd "$(dirname "$0")/../data/onnx" && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
py=/usr/bin/python3
run=(--batch-size 4 --no-shuffle -q)

# The parameters of a safetensors file (F32 or F64) as float64 arrays, for the checks below.
cat >"$work/weights.py" <<'EOF'
import json, struct
import numpy as np
def weights(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(data[8 + n + a:8 + n + b], dtype={"F32": "<f4", "F64": "<f8"}[info["dtype"]]).astype(np.float64).reshape(info["shape"])
    return out
def gap(a, b):  # the largest difference relative to max(|b|, 1e-6), over every parameter; the names must agree
    wa, wb = weights(a), weights(b)
    assert sorted(wa) == sorted(wb), (sorted(wa), sorted(wb))
    return max(float((np.abs(wa[k] - wb[k]) / np.maximum(np.abs(wb[k]), 1e-6)).max()) for k in wb)
def same(a, b):
    wa, wb = weights(a), weights(b)
    return sorted(wa) == sorted(wb) and all(np.array_equal(wa[k], wb[k]) for k in wb)
EOF

train() { "$bin" train "$@" >/dev/null; }

check() {
  local what=$1 expr=$2
  if PYTHONPATH="$work" $py -c "import numpy as np, sys; from weights import gap, same; sys.exit(0 if ($expr) else 1)"; then echo "ok   $what"
  else echo "FAIL $what"; failures=$((failures + 1)); fi
}

expect_error() {
  local what=$1 needle=$2
  shift 2
  rm -f "$work/out.safetensors"
  "$@" >"$work/stdout" 2>"$work/stderr"
  local rc=$?
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 128 ]; then echo "FAIL $what: exit status $rc"; failures=$((failures + 1)); return; fi
  if ! grep -qF -- "$needle" "$work/stderr"; then
    echo "FAIL $what: stderr lacks '$needle':"; sed 's/^/    /' "$work/stderr"; failures=$((failures + 1)); return
  fi
  if [ -e "$work/out.safetensors" ]; then echo "FAIL $what: an output file was left behind"; failures=$((failures + 1)); return; fi
  echo "ok   $what"
}

tokens="$data/tokens_start.safetensors"
# PyTorch's epoch, in order, batches of 4, 4 and 2: each optimizer and loss.
train "$tokens" --inputs "$data/tokens.npz" --labels "$data/labels.npy" --optimizer sgd --lr 0.1 --dtype float64 "${run[@]}" -o "$work/sgd.safetensors"
check "numbers and token ids, SGD, cross-entropy: PyTorch's weights (1e-10)" "gap('$work/sgd.safetensors', '$data/tokens_sgd.safetensors') < 1e-10"
train "$tokens" --inputs "$data/tokens.npz" --labels "$data/labels.npy" --optimizer adam --lr 0.01 --dtype float64 "${run[@]}" -o "$work/adam.safetensors"
check "numbers and token ids, Adam, cross-entropy: PyTorch's weights (1e-10)" "gap('$work/adam.safetensors', '$data/tokens_adam.safetensors') < 1e-10"
train "$data/tokens_one_start.safetensors" --inputs "$data/tokens.npz" --labels "$data/labels01.npy" --loss bce --optimizer adam --lr 0.01 \
  --dtype float64 "${run[@]}" -o "$work/bce.safetensors"
check "one logit, Adam, BCE: PyTorch's weights (1e-10)" "gap('$work/bce.safetensors', '$data/tokens_one_bce_adam.safetensors') < 1e-10"
train "$data/numeric_one_start.safetensors" --inputs "$data/numeric.npz" --labels "$data/targets.npy" --loss mse --optimizer sgd --lr 0.1 \
  --dtype float64 "${run[@]}" -o "$work/mse.safetensors"
check "two numeric inputs, SGD, MSE: PyTorch's weights (1e-10)" "gap('$work/mse.safetensors', '$data/numeric_one_mse_sgd.safetensors') < 1e-10"
train "$tokens" --inputs "$data/tokens.npz" --labels "$data/labels.npy" --optimizer adam --lr 0.01 "${run[@]}" -o "$work/f32.safetensors"
check "float32 (the default dtype): PyTorch's float64 weights to 1e-5" "gap('$work/f32.safetensors', '$data/tokens_adam.safetensors') < 1e-5"
check "the trained model keeps its inputs' names and dtypes" "b'\"input_names\":\"num,tok\"' in open('$work/sgd.safetensors', 'rb').read(4096) and b'float64;int64' in open('$work/sgd.safetensors', 'rb').read(4096)"

# Shuffled: the same seed gives the same bits at 1 and 2 threads; another seed other weights.
shuffled=(--batch-size 3 --epochs 2 --optimizer adam --lr 0.01 --dtype float64 -q)
OMP_NUM_THREADS=1 train "$tokens" --inputs "$data/tokens.npz" --labels "$data/labels.npy" "${shuffled[@]}" --seed 7 -o "$work/t1.safetensors"
OMP_NUM_THREADS=2 train "$tokens" --inputs "$data/tokens.npz" --labels "$data/labels.npy" "${shuffled[@]}" --seed 7 -o "$work/t2.safetensors"
train "$tokens" --inputs "$data/tokens.npz" --labels "$data/labels.npy" "${shuffled[@]}" --seed 8 -o "$work/t3.safetensors"
check "shuffled, same seed: the same bits at 1 and 2 threads" "same('$work/t1.safetensors', '$work/t2.safetensors')"
check "shuffled, another seed: other weights" "not same('$work/t1.safetensors', '$work/t3.safetensors')"
# The arrays are found by name, not by their place in the file; a row is one example across them
# (the rows of one array alone permuted is another data set). nn/test_train_several_inputs.cpp
# checks that a shuffled epoch takes one permutation for every input.
$py - "$data" "$work" <<'EOF'
import sys, numpy as np
data, work = sys.argv[1:]
d = np.load(data + "/tokens.npz")
np.savez(work + "/reversed.npz", tok=d["tok"], num=d["num"])
np.savez(work + "/num_permuted.npz", num=d["num"][[3, 7, 0, 9, 1, 5, 2, 8, 6, 4]], tok=d["tok"])
EOF
train "$tokens" --inputs "$work/reversed.npz" --labels "$data/labels.npy" --optimizer sgd --lr 0.1 --dtype float64 "${run[@]}" -o "$work/p1.safetensors"
train "$tokens" --inputs "$work/num_permuted.npz" --labels "$data/labels.npy" --optimizer sgd --lr 0.1 --dtype float64 "${run[@]}" -o "$work/p2.safetensors"
check "arrays in another order in the .npz: the same bits" "same('$work/p1.safetensors', '$work/sgd.safetensors')"
check "one array's rows permuted: other weights" "not same('$work/p2.safetensors', '$work/sgd.safetensors')"

# --limit N: the first N rows of every array (and of the labels).
printf 'import numpy as np\nd = np.load("%s")\nnp.savez("%s", num=d["num"][:6], tok=d["tok"][:6])\nnp.save("%s", np.load("%s")[:6])\n' \
  "$data/tokens.npz" "$work/first6.npz" "$work/first6_labels.npy" "$data/labels.npy" | $py
train "$tokens" --inputs "$data/tokens.npz" --labels "$data/labels.npy" --limit 6 --seed 2 --batch-size 4 --dtype float64 -q -o "$work/l1.safetensors"
train "$tokens" --inputs "$work/first6.npz" --labels "$work/first6_labels.npy" --seed 2 --batch-size 4 --dtype float64 -q -o "$work/l2.safetensors"
check "--limit 6: the first 6 rows of every array" "same('$work/l1.safetensors', '$work/l2.safetensors') and not same('$work/l1.safetensors', '$work/t1.safetensors')"

# --resume: one epoch, then on to two, is the two-epoch run.
train "$tokens" --inputs "$data/tokens.npz" --labels "$data/labels.npy" --batch-size 3 --seed 7 --epochs 1 --optimizer adam --lr 0.01 --dtype float64 -q -o "$work/r.safetensors"
train "$tokens" --inputs "$data/tokens.npz" --labels "$data/labels.npy" "${shuffled[@]}" --seed 7 --resume -o "$work/r.safetensors"
check "--resume after one epoch: the two-epoch run's bits" "same('$work/r.safetensors', '$work/t1.safetensors')"

# A one-input model: an .npz of its one array trains to the .npy's bits (a safetensors and an ONNX model alike).
printf 'import numpy as np\nx = np.load("%s")\nnp.savez("%s", pixels=x)\nnp.save("%s", np.arange(len(x)) %% 2)\n' "$torch/cnn_f64_input.npy" "$work/cnn.npz" "$work/cnn_labels.npy" | $py
train "$torch/cnn_f64.safetensors" --inputs "$torch/cnn_f64_input.npy" --labels "$work/cnn_labels.npy" --dtype float64 --seed 3 --batch-size 2 -q -o "$work/c1.safetensors"
train "$torch/cnn_f64.safetensors" --inputs "$work/cnn.npz" --labels "$work/cnn_labels.npy" --dtype float64 --seed 3 --batch-size 2 -q -o "$work/c2.safetensors"
check "one-input model: .npz of one array = .npy, bit for bit" "same('$work/c1.safetensors', '$work/c2.safetensors') and not same('$work/c1.safetensors', '$torch/cnn_f64.safetensors')"
printf 'import numpy as np\nx = np.load("%s")\nnp.savez("%s", x=x)\nnp.save("%s", np.arange(len(x)) %% 2)\n' "$onnx/stem_f64_input.npy" "$work/stem.npz" "$work/stem_labels.npy" | $py
train "$onnx/stem_f64.onnx" --inputs "$onnx/stem_f64_input.npy" --labels "$work/stem_labels.npy" --dtype float64 --seed 3 -q -o "$work/s1.safetensors"
train "$onnx/stem_f64.onnx" --inputs "$work/stem.npz" --labels "$work/stem_labels.npy" --dtype float64 --seed 3 -q -o "$work/s2.safetensors"
check "one-input ONNX model: .npz of one array = .npy, bit for bit" "same('$work/s1.safetensors', '$work/s2.safetensors')"

# An ONNX file of the same two-input model trains to PyTorch's weights, as its safetensors does
# (compared through predict: the ONNX model's parameters carry the graph's names). Needs the ONNX
# reader of several inputs; without it, the refusal is checked to be that one.
if "$bin" info "$data/tokens_start.onnx" >"$work/info" 2>&1; then
  train "$data/tokens_start.onnx" --inputs "$data/tokens.npz" --labels "$data/labels.npy" --optimizer sgd --lr 0.1 --dtype float64 "${run[@]}" -o "$work/onnx.safetensors"
  "$bin" predict "$work/onnx.safetensors" "$data/tokens.npz" --dtype float64 -o "$work/onnx_logits.npy" >/dev/null
  "$bin" predict "$data/tokens_sgd.safetensors" "$data/tokens.npz" --dtype float64 -o "$work/torch_logits.npy" >/dev/null
  check "MODEL.onnx of two inputs: PyTorch's trained outputs (1e-10)" \
    "np.abs(np.load('$work/onnx_logits.npy') - np.load('$work/torch_logits.npy')).max() < 1e-10 * max(1, np.abs(np.load('$work/torch_logits.npy')).max())"
  # Written back into its own graph (-o OUT.onnx): the same outputs when read again.
  train "$data/tokens_start.onnx" --inputs "$data/tokens.npz" --labels "$data/labels.npy" --optimizer sgd --lr 0.1 --dtype float64 "${run[@]}" -o "$work/trained.onnx"
  "$bin" predict "$work/trained.onnx" "$data/tokens.npz" --dtype float64 -o "$work/back_logits.npy" >/dev/null
  check "MODEL.onnx of two inputs, -o OUT.onnx: PyTorch's trained outputs (1e-10)" \
    "np.abs(np.load('$work/back_logits.npy') - np.load('$work/torch_logits.npy')).max() < 1e-10 * max(1, np.abs(np.load('$work/torch_logits.npy')).max())"
elif grep -qF "2 inputs besides its initializers" "$work/info"; then
  echo "skip MODEL.onnx of two inputs: this build's ONNX reader takes one input"
else
  echo "FAIL info on the two-input ONNX file:"; sed 's/^/    /' "$work/info"; failures=$((failures + 1))
fi

# Bad data: the file and the array named, nothing written.
$py - "$data" "$work" <<'EOF'
import sys, numpy as np
data, work = sys.argv[1:]
d = np.load(data + "/tokens.npz")
np.savez(work + "/missing.npz", num=d["num"])
np.savez(work + "/extra.npz", num=d["num"], tok=d["tok"], age=d["num"])
np.savez(work + "/shape.npz", num=d["num"][:, :4], tok=d["tok"])
np.savez(work + "/short.npz", num=d["num"], tok=d["tok"][:9])
np.save(work + "/labels9.npy", np.load(data + "/labels.npy")[:9])
np.save(work + "/labels_bad.npy", np.array([0, 1, 2, 3, 0, 1, 2, 0, 1, 2]))
EOF
l=(--labels "$data/labels.npy" -o "$work/out.safetensors" -q)
expect_error "missing array" "missing.npz: no array 'tok'; the model reads num, tok" "$bin" train "$tokens" --inputs "$work/missing.npz" "${l[@]}"
expect_error "extra array" "extra.npz: array 'age' is no input of the model; its inputs are num, tok" "$bin" train "$tokens" --inputs "$work/extra.npz" "${l[@]}"
expect_error "wrong per-example shape" "shape.npz: input 'num' has shape [10, 4]; the model reads [N, 5]" "$bin" train "$tokens" --inputs "$work/shape.npz" "${l[@]}"
expect_error "arrays of different N" "short.npz: input 'tok' holds 9 examples, input 'num' 10" "$bin" train "$tokens" --inputs "$work/short.npz" "${l[@]}"
expect_error "labels of another N" "labels9.npy holds 9 labels, but $data/tokens.npz holds 10 examples (array 'num' has shape [10, 5])" \
  train "$tokens" --inputs "$data/tokens.npz" --labels "$work/labels9.npy" -o "$work/out.safetensors" -q
expect_error "a label beyond the outputs" "the label of example 3 is 3, but the model has 3 outputs" \
  train "$tokens" --inputs "$data/tokens.npz" --labels "$work/labels_bad.npy" -o "$work/out.safetensors" -q
expect_error "an .npy for two inputs" "the model reads several inputs (num, tok); give them as an .npz" "$bin" train "$tokens" --inputs "$torch/cnn_f64_input.npy" "${l[@]}"
expect_error "--data for two inputs" "--data synthetic-tabular holds examples of one input: give --inputs X.npz (arrays named num, tok)" \
  train "$tokens" --data synthetic-tabular -o "$work/out.safetensors" -q
expect_error "no --labels" "--inputs $data/tokens.npz needs --labels Y.npy" "$bin" train "$tokens" --inputs "$data/tokens.npz" -o "$work/out.safetensors" -q
expect_error "--arch with an .npz" "--arch builds a model of one input" "$bin" train --arch tabular --inputs "$data/tokens.npz" "${l[@]}"
expect_error "bce on three outputs" "--loss bce trains one logit; this model has 3 outputs" "$bin" train "$tokens" --inputs "$data/tokens.npz" --loss bce "${l[@]}"

[ "$failures" -eq 0 ] && echo "all passed" || { echo "$failures failed"; exit 1; }
