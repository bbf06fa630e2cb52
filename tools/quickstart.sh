#!/usr/bin/env bash
# The main job, on a fresh Debian machine: install what is missing, build, train the CNN on
# Fashion-MNIST (or, when the data set cannot be installed, on a built-in synthetic set) and the
# small models beside it (a ResNet, text, tabular, synthetic-patches, transformer, LSTM), explain test images with
# every method, check the axioms, and write out/report.html with the PNGs.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${INTEGRAD_OUT:-out}
epochs=${INTEGRAD_EPOCHS:-2}

echo "== setup and build"
bash tools/setup.sh
bin=./build/integrad
mkdir -p "$out"

data=fashion-mnist
if [ ! -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]; then
  echo "Fashion-MNIST is not installed (Debian package dataset-fashion-mnist): using the synthetic patch images instead"
  data=synthetic-patches
fi

echo "== train the CNN on $data ($epochs epochs, Adam, lr 1e-3, batch 64)"
$bin train --arch cnn --data "$data" --epochs "$epochs" --seed 0 -o "$out/cnn.safetensors"
echo "== train a residual network with BatchNorm (a graph of named layers) on 6000 images of $data"
$bin train --arch resnet --data "$data" --limit 6000 --epochs 1 --seed 0 -q -o "$out/resnet.safetensors"
$bin info "$out/resnet.safetensors" | sed -n '4,8p'
echo "== train a small text classifier on synthetic tokens"
$bin train --arch text --epochs 3 --lr 0.01 --seed 0 -q -o "$out/text.safetensors"
echo "== train a tabular MLP on synthetic-tabular (features of known roles)"
$bin train --arch tabular --epochs 30 --seed 0 -q -o "$out/tabular.safetensors"
echo "== train a CNN on synthetic-patches, whose masks are the ground truth for the report's localisation metrics"
$bin train --arch cnn --data synthetic-patches --limit 2000 --epochs 1 --seed 0 -q -o "$out/patches.safetensors"
$bin eval "$out/patches.safetensors" --data synthetic-patches --limit 1000 |
  awk 'NR == 1 { print "   patches model: test " $0; if ($2 < 0.95) bad = 1 } END { if (bad) { print "   expected an accuracy of at least 0.95"; exit 1 } }'
echo "== train a small transformer on synthetic-order (which of two markers comes first)"
$bin train --arch transformer --epochs 3 --lr 0.003 --seed 0 -q -o "$out/transformer.safetensors"
echo "== train an LSTM on the same task (Embedding, LSTM(32 -> 64), its last step, Linear)"
$bin train --arch lstm --epochs 3 --lr 0.003 --seed 0 -q -o "$out/lstm.safetensors"
echo "== train on the shortcut sets: a watermark that agrees with the label in training only, a zip code that stands in for a protected attribute"
$bin train --arch mlp --data synthetic-watermark --limit 2000 --epochs 3 --seed 0 -q -o "$out/watermark.safetensors"
$bin train --arch tabular --data synthetic-loan --limit 3000 --epochs 30 --lr 3e-3 --seed 0 -q -o "$out/loan.safetensors"

echo "== explain 8 test images with every method"
$bin dataset --data "$data" --limit 8 -o "$out/test_images.npy" --labels-out "$out/test_labels.npy"
$bin explain "$out/cnn.safetensors" "$out/test_images.npy" -o "$out/ig.npy" --method ig --deltas "$out/ig_deltas.npy" --png "$out/png"
for method in gradient saliency gradxinput smoothgrad; do
  $bin explain "$out/cnn.safetensors" "$out/test_images.npy" -o "$out/$method.npy" --method "$method" --png "$out/png" >/dev/null
done

echo "== explain them with the ResNet: IG on the input, and layer IG at the first residual block (its module path)"
$bin explain "$out/resnet.safetensors" "$out/test_images.npy" -o "$out/resnet_ig.npy" --png "$out/png_resnet" | tail -1
$bin explain "$out/resnet.safetensors" "$out/test_images.npy" -o "$out/resnet_layer1_ig.npy" --layer layer1 | tail -1

echo "== explain 8 test sequences with the LSTM: layer IG at its embedding (node 0), per-token sums"
$bin dataset --data synthetic-order --limit 8 -o "$out/test_sequences.npy"
$bin explain "$out/lstm.safetensors" "$out/test_sequences.npy" -o "$out/lstm_layer_ig.npy" --layer 0 --baseline 0 | tail -1

echo "== the axioms: the paper's examples, then the trained model"
$bin axioms --example paper --json "$out/axioms_paper.json" --markdown "$out/axioms_paper.md"
$bin axioms "$out/cnn.safetensors" "$out/test_images.npy" --limit 2 --json "$out/axioms.json" --markdown "$out/axioms.md"

echo "== the report"
$bin report "$out/cnn.safetensors" --data "$data" --text-model "$out/text.safetensors" -o "$out/report.html" \
  --tabular-model "$out/tabular.safetensors" --patches-model "$out/patches.safetensors" --transformer-model "$out/transformer.safetensors" \
  --recurrent-model "$out/lstm.safetensors" \
  --graph-model "$out/resnet.safetensors" --watermark-model "$out/watermark.safetensors" --loan-model "$out/loan.safetensors"
echo "done: open $out/report.html in a browser; PNGs in $out/png"
