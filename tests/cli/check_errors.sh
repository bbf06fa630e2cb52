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
  if [ -e "$work/out.npy" ] || [ -e "$work/out.safetensors" ] || ls "$work"/*.tmp.* >/dev/null 2>&1; then
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
expect_error "an IG option given to saliency" "--steps is not an option of saliency" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --method saliency --steps 10
expect_error "adaptive 0" "--adaptive (an option of ig) must be a finite number" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --adaptive 0
expect_error "a baseline for a method without one" "--baseline: gradient uses no baseline" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --method gradient --baseline 0.5
expect_error "deltas for a method without them" "--deltas: saliency has no completeness delta" "$bin" explain "$data/mlp_f32.safetensors" "$data/mlp_f32_input.npy" -o "$work/out.npy" --method saliency --deltas "$work/d.npy"
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

if [ "$failures" -ne 0 ]; then echo "$failures bad-input cases misbehaved"; exit 1; fi
echo "all bad-input cases refused cleanly"
