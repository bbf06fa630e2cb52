#!/bin/bash
# integrad export against onnxruntime (npm's onnxruntime-node): each named architecture (trained
# for one short epoch, so BatchNorm's running statistics are not the identity) and the models of
# make_models.py, which hold every layer kind, and a model of two named inputs, are exported as ONNX
# in float32 and float64, run by onnxruntime (run_onnx.js) and by `integrad predict` on the same
# inputs; the outputs must agree to
# max|ort − integrad| / max|integrad| ≤ 1e-5 in float32 and 1e-12 in float64.
# onnxruntime's CPU provider has no float64 Conv, LSTM, GRU or Erf (GELU): those models are reported, not run,
# in float64 (their float32 graphs are the same nodes).
#   check_parity.sh BUILD_DIR        exit 77 (skip) when node or onnxruntime-node is not installed
set -u
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
integrad=$build/integrad
python=/usr/bin/python3
if ! command -v node > /dev/null || [ ! -d "$here/node_modules/onnxruntime-node" ]; then
  echo "SKIP: onnxruntime-node is not installed (cd tests/onnx_runtime && ONNXRUNTIME_NODE_INSTALL=skip npm ci)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

"$integrad" dataset --data synthetic-watermark --limit 32 -o images.npy > /dev/null || fail "dataset synthetic-watermark"
"$integrad" dataset --data synthetic-order --limit 32 -o tokens.npy > /dev/null || fail "dataset synthetic-order"
models=()
for arch in mlp cnn resnet text transformer lstm gru; do
  case $arch in mlp | cnn | resnet) data=(--data synthetic-watermark) ;; *) data=() ;; esac
  if "$integrad" train --arch "$arch" "${data[@]}" --limit 64 --val-limit 16 --epochs 1 --seed 3 -o "$arch.safetensors" > /dev/null; then
    models+=("$arch")
  else
    fail "train --arch $arch"
  fi
done
inputs_of() {
  case $1 in
    mlp | cnn | resnet) echo images.npy ;;
    zoo_*) echo "$1_inputs.npy" ;;
    *) echo tokens.npy ;;
  esac
}

for dtype in float32 float64; do
  tolerance=$([ $dtype = float32 ] && echo 1e-5 || echo 1e-12)
  mkdir -p zoo_$dtype && "$python" "$here/make_models.py" zoo_$dtype $dtype || fail "make_models.py $dtype"
  for model in "${models[@]}" zoo_image zoo_tokens zoo_dense; do
    file=$model.safetensors
    input=$(inputs_of "$model")
    case $model in zoo_*) file=zoo_$dtype/$model.safetensors input=zoo_$dtype/$input ;; esac
    case $model in text | transformer | lstm | gru | zoo_tokens | zoo_dense) feed=int64 ;; *) feed=$dtype ;; esac
    if [ $dtype = float64 ]; then
      case $model in cnn | resnet | lstm | gru | zoo_image | zoo_tokens)
        echo "$model float64: not run (onnxruntime's CPU provider has no float64 Conv, LSTM, GRU or Erf)"
        continue ;;
      esac
    fi
    "$integrad" export --dtype $dtype "$file" -o $model.$dtype.onnx > /dev/null || { fail "export $model $dtype"; continue; }
    "$integrad" predict --dtype $dtype "$file" "$input" -o $model.$dtype.integrad.npy > /dev/null || { fail "predict $model $dtype"; continue; }
    node "$here/run_onnx.js" $model.$dtype.onnx "$input" $model.$dtype.ort.npy $feed || { fail "onnxruntime $model $dtype"; continue; }
    "$python" - $model $dtype $tolerance <<'PY' || failures=$((failures + 1))
import sys
import numpy as np
model, dtype, tolerance = sys.argv[1], sys.argv[2], float(sys.argv[3])
ours, ort = np.load(f"{model}.{dtype}.integrad.npy"), np.load(f"{model}.{dtype}.ort.npy")
if ours.shape != ort.shape or ours.dtype != ort.dtype:
    print(f"FAIL: {model} {dtype}: integrad {ours.dtype}{ours.shape}, onnxruntime {ort.dtype}{ort.shape}")
    sys.exit(1)
error = float(np.abs(ours - ort).max() / max(np.abs(ours).max(), np.finfo(ours.dtype).tiny))
verdict = "ok" if error <= tolerance else "FAIL"
print(f"{verdict}: {model} {dtype}: outputs {list(ours.shape)}, relative difference {error:.3g} (tolerance {tolerance:g})")
sys.exit(0 if error <= tolerance else 1)
PY
  done
done
# A model of two named inputs (tests/data/inputs/two_input.safetensors): one graph input each.
two=$(cd "$here/../data/inputs" && pwd)
"$python" -c "import numpy as np; d = np.load('$two/inputs.npz'); [np.save(k + '.npy', d[k]) for k in d]" || fail "split inputs.npz"
for dtype in float32 float64; do
  tolerance=$([ $dtype = float32 ] && echo 1e-5 || echo 1e-12)
  "$integrad" export --dtype $dtype "$two/two_input.safetensors" -o two_input.$dtype.onnx > /dev/null || { fail "export two_input $dtype"; continue; }
  "$integrad" predict --dtype $dtype "$two/two_input.safetensors" "$two/inputs.npz" -o two_input.$dtype.integrad.npy > /dev/null || { fail "predict two_input $dtype"; continue; }
  node "$here/run_onnx.js" two_input.$dtype.onnx num=num.npy,cat=cat.npy two_input.$dtype.ort.npy $dtype || { fail "onnxruntime two_input $dtype"; continue; }
  "$python" - two_input $dtype $tolerance <<'PY' || failures=$((failures + 1))
import sys
import numpy as np
model, dtype, tolerance = sys.argv[1], sys.argv[2], float(sys.argv[3])
ours, ort = np.load(f"{model}.{dtype}.integrad.npy"), np.load(f"{model}.{dtype}.ort.npy")
error = float(np.abs(ours - ort).max() / max(np.abs(ours).max(), np.finfo(ours.dtype).tiny)) if ours.shape == ort.shape else float("inf")
print(f"{'ok' if error <= tolerance else 'FAIL'}: {model} {dtype}: outputs {list(ort.shape)}, relative difference {error:.3g} (tolerance {tolerance:g})")
sys.exit(0 if error <= tolerance else 1)
PY
done
[ $failures -eq 0 ] && echo "onnxruntime parity: all models agree" || echo "onnxruntime parity: $failures failures"
[ $failures -eq 0 ]
