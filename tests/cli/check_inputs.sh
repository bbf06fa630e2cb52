#!/usr/bin/env bash
# Models of several inputs through the CLI (tests/data/inputs, made by make_two_input_fixtures.py):
# explain and predict on an .npz of named inputs agree with Captum and PyTorch, a one-input model
# takes an .npz of one array with the same bits as its .npy, and bad input is a clear error that
# names the input, leaving no output. The same model as ONNX (torch.onnx.export) explains and predicts
# the same, and integrad's two-input model exports to ONNX and reads back. Usage: check_inputs.sh BUILD_DIR
set -uo pipefail
bin="$1/integrad"
data="$(cd "$(dirname "$0")/../data/inputs" && pwd)"
torch="$(cd "$(dirname "$0")/../data/torch" && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
py=/usr/bin/python3
ig=(--dtype float64 --steps 64 --quadrature riemann_middle -q)

expect_error() {
  local what=$1 needle=$2
  shift 2
  rm -f "$work/out.npz" "$work/out.npy" "$work/out.onnx"
  "$@" >"$work/stdout" 2>"$work/stderr"
  local rc=$?
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 128 ]; then echo "FAIL $what: exit status $rc"; failures=$((failures + 1)); return; fi
  if ! grep -qF -- "$needle" "$work/stderr"; then
    echo "FAIL $what: stderr lacks '$needle':"; sed 's/^/    /' "$work/stderr"; failures=$((failures + 1)); return
  fi
  if [ -e "$work/out.npz" ] || [ -e "$work/out.npy" ] || [ -e "$work/out.onnx" ]; then echo "FAIL $what: an output file was left behind"; failures=$((failures + 1)); return; fi
  echo "ok   $what"
}

# check "what" python-expression-that-must-hold (arrays loaded as np)
check() {
  local what=$1 expr=$2
  if $py -c "import numpy as np, sys; sys.exit(0 if ($expr) else 1)"; then echo "ok   $what"; else echo "FAIL $what"; failures=$((failures + 1)); fi
}

"$bin" explain "$data/two_input.safetensors" "$data/inputs.npz" -o "$work/both.npz" --target "$data/target.npy" "${ig[@]}" >/dev/null
check "explain .npz: Captum's IG on the tuple, num (1e-10)" "np.abs(np.load('$work/both.npz')['num'] - np.load('$data/both_zero_attr_num.npy')).max() < 1e-10"
check "explain .npz: Captum's IG on the tuple, cat (1e-10)" "np.abs(np.load('$work/both.npz')['cat'] - np.load('$data/both_zero_attr_cat.npy')).max() < 1e-10"
printf 'import numpy as np\nnp.savez("%s", num=np.load("%s"), cat=np.load("%s"))\n' "$work/base.npz" "$data/baseline_num.npy" "$data/baseline_cat.npy" | $py
"$bin" explain "$data/two_input.safetensors" "$data/inputs.npz" -o "$work/base.npz.out.npz" --target "$data/target.npy" --baseline "$work/base.npz" --deltas "$work/d.npy" "${ig[@]}" >/dev/null
check "per-input baselines from an .npz; the deltas" "np.abs(np.load('$work/base.npz.out.npz')['num'] - np.load('$data/both_base_attr_num.npy')).max() < 1e-10 and np.abs(np.load('$work/d.npy') - np.load('$data/both_base_delta.npy')).max() < 1e-10"
"$bin" explain "$data/two_input.safetensors" "$data/inputs.npz" -o "$work/num.npy" --target "$data/target.npy" --attribute-to num --baseline "$data/baseline_num.npy" "${ig[@]}" >/dev/null
check "--attribute-to num, cat held (Captum's additional_forward_args)" "np.abs(np.load('$work/num.npy') - np.load('$data/num_only_attr_num.npy')).max() < 1e-10"
"$bin" explain "$data/one_output.safetensors" "$data/inputs.npz" -o "$work/one.npz" "${ig[@]}" >/dev/null
check "one output per example: no --target" "np.abs(np.load('$work/one.npz')['cat'] - np.load('$data/one_output_attr_cat.npy')).max() < 1e-10"
"$bin" predict "$data/two_input.safetensors" "$data/inputs.npz" -o "$work/logits.npy" --dtype float64 >/dev/null
check "predict .npz: PyTorch's outputs" "np.abs(np.load('$work/logits.npy') - np.load('$data/logits.npy')).max() < 1e-12"

# A one-input model: an .npz of its one array gives the .npy's bits.
printf 'import numpy as np\nnp.savez("%s", x=np.load("%s"))\n' "$work/mlp.npz" "$torch/mlp_f32_input.npy" | $py
"$bin" explain "$torch/mlp_f32.safetensors" "$torch/mlp_f32_input.npy" -o "$work/a.npy" -q >/dev/null
"$bin" explain "$torch/mlp_f32.safetensors" "$work/mlp.npz" -o "$work/b.npy" -q >/dev/null
check "one-input model: .npz of one array = .npy, bit for bit" "np.array_equal(np.load('$work/a.npy'), np.load('$work/b.npy'))"

printf 'import numpy as np\nd=np.load("%s")\nnp.savez("%s", num=d["num"])\nnp.savez("%s", num=d["num"], cat=d["cat"][:, :2])\nnp.savez("%s", num=d["num"], cat=d["cat"], age=d["num"])\n' \
  "$data/inputs.npz" "$work/missing.npz" "$work/shape.npz" "$work/extra.npz" | $py
m="$data/two_input.safetensors"
expect_error "missing input" "no array 'cat'; the model reads num, cat" "$bin" explain "$m" "$work/missing.npz" -o "$work/out.npz"
expect_error "wrong shape" "input 'cat' has shape [4, 2]; the model reads [N, 3]" "$bin" explain "$m" "$work/shape.npz" -o "$work/out.npz"
expect_error "unknown array" "array 'age' is no input of the model" "$bin" predict "$m" "$work/extra.npz" -o "$work/out.npy"
expect_error "--attribute-to unknown name" "the model has no input 'nums'; its inputs are num, cat" "$bin" explain "$m" "$data/inputs.npz" -o "$work/out.npz" --attribute-to nums
expect_error "an .npy for two inputs" "give them as an .npz" "$bin" explain "$m" "$data/baseline_num.npy" -o "$work/out.npz"
expect_error "two arrays into an .npy" "write them to an .npz" "$bin" explain "$m" "$data/inputs.npz" -o "$work/out.npy"
expect_error ".npy baseline for two inputs" "one array for 2 explained inputs" "$bin" explain "$m" "$data/inputs.npz" -o "$work/out.npz" --baseline "$data/baseline_num.npy"
expect_error "baseline of a held input" "'cat' is not an explained input" "$bin" explain "$m" "$data/inputs.npz" -o "$work/out.npz" --attribute-to num --baseline "$work/base.npz"
expect_error "evaluate refuses several inputs" "the model reads several inputs (num, cat)" "$bin" evaluate "$m" "$data/inputs.npz" --methods ig --metric sparseness
expect_error "axioms refuse several inputs" "several inputs" "$bin" axioms "$m" "$data/inputs.npz"
expect_error "--attribute-to on one input" "--attribute-to" "$bin" explain "$torch/mlp_f32.safetensors" "$torch/mlp_f32_input.npy" -o "$work/out.npy" --attribute-to x

# The same model as ONNX (torch.onnx.export of two inputs, make_two_input_fixtures.py): its graph
# inputs are the .npz's names; explain, predict and export as for integrad's own file.
onnx="$(cd "$(dirname "$0")/../data/onnx" && pwd)"
"$bin" explain "$onnx/two_input_f64.onnx" "$data/inputs.npz" -o "$work/onnx_num.npz" --target "$data/target.npy" --attribute-to num --baseline "$data/baseline_num.npy" "${ig[@]}" >/dev/null
check "ONNX: explain --attribute-to num -o .npz: Captum's (1e-10)" "list(np.load('$work/onnx_num.npz').keys()) == ['num'] and np.abs(np.load('$work/onnx_num.npz')['num'] - np.load('$data/num_only_attr_num.npy')).max() < 1e-10"
"$bin" explain "$onnx/two_input_f64.onnx" "$data/inputs.npz" -o "$work/onnx_both.npz" --target "$data/target.npy" "${ig[@]}" >/dev/null
"$bin" explain "$data/two_input.safetensors" "$data/inputs.npz" -o "$work/native_both.npz" --target "$data/target.npy" "${ig[@]}" >/dev/null
check "ONNX: IG on both inputs = the native model's (1e-10)" "all(np.abs(np.load('$work/onnx_both.npz')[k] - np.load('$work/native_both.npz')[k]).max() < 1e-10 for k in ('num', 'cat'))"
"$bin" predict "$onnx/two_input_f32.onnx" "$onnx/two_input_f32_input.npz" -o "$work/onnx_f32.npy" >/dev/null
check "ONNX float32: predict = PyTorch (1e-5)" "np.abs(np.load('$work/onnx_f32.npy') - np.load('$onnx/two_input_f32_output.npy')).max() < 1e-5"
"$bin" export "$data/two_input.safetensors" -o "$work/exported.onnx" >/dev/null
"$bin" predict "$work/exported.onnx" "$data/inputs.npz" -o "$work/exported.npy" --dtype float64 >/dev/null
check "export of two inputs, read back: PyTorch's outputs (1e-12)" "np.abs(np.load('$work/exported.npy') - np.load('$data/logits.npy')).max() < 1e-12"
expect_error "ONNX: train refuses several inputs" "several inputs" "$bin" train "$onnx/two_input_f64.onnx" --data iris -o "$work/out.onnx"

[ "$failures" -eq 0 ] && echo "all passed" || { echo "$failures failed"; exit 1; }
