#!/usr/bin/env python3
"""ONNX fixtures for the reader (nn/onnx/): small models exported by torch 1.13's torch.onnx.export,
their inputs and PyTorch's outputs (float32 and float64), so integrad's predictions can be held to
PyTorch's. The ResNet is make_graph_fixtures.py's (torchvision's BasicBlock), exported twice: in eval
(BatchNorm folded into the convolutions by the exporter) and with TrainingMode.PRESERVE (which, on a
model in eval(), keeps BatchNormalization nodes). Recurrent classifiers: embedding + LSTM/GRU + linear
on the last step. A transformer encoder layer (batch_first) at opset 13 and 17. Float64 copies of
the ResNet, the encoder and the recurrent classifiers. Dynamic batch except where the name says
fixed.
Layer IG by module path on the float64 ResNet is Captum 0.8's LayerIntegratedGradients (Gauss-Legendre,
32 steps, zero baseline), when Captum is importable (PYTHONPATH=/path/to/captum-0.8.0).
Run with Debian's python3-torch:  PYTHONPATH=<captum> /usr/bin/python3 tests/data/make_onnx_fixtures.py"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_graph_fixtures import RESNET, ResNet, randomise_statistics  # noqa: E402
from safetensors_writer import save_safetensors  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "onnx")
os.makedirs(HERE, exist_ok=True)
nn = torch.nn


class Recurrent(nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.emb = nn.Embedding(20, 6)
        self.rnn = cell(6, 5, batch_first=True)
        self.fc = nn.Linear(5, 3)

    def forward(self, x):
        out, _ = self.rnn(self.emb(x))
        return self.fc(out[:, -1])


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc(self.enc(x).mean(1))


def export(model, x, name, opset=13, dynamic=True, **kw):
    model.eval()
    path = os.path.join(HERE, name + ".onnx")
    axes = {"input": {0: "batch"}, "output": {0: "batch"}} if dynamic else None
    torch.onnx.export(model, x, path, input_names=["input"], output_names=["output"], dynamic_axes=axes, opset_version=opset, **kw)
    with torch.no_grad():
        y = model(x)
    np.save(os.path.join(HERE, name + "_input.npy"), x.numpy())
    np.save(os.path.join(HERE, name + "_output.npy"), y.numpy())
    assert os.path.getsize(path) < 200_000, path


class Stem(nn.Module):
    """torchvision's ResNet stem: a padded max pooling (MaxPool2d(3, 2, padding=1))."""
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 4, 3, padding=1)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, padding=1)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(self.maxpool(self.relu(self.conv1(x)))), 1))


def layer_ig(resnet, x):
    """Captum's LayerIntegratedGradients on modules named by path, targets 0, 1, 2, 0."""
    try:
        from captum.attr import LayerIntegratedGradients
    except ImportError:
        print("captum not importable: layer IG fixtures not written")
        return
    target = torch.tensor([0, 1, 2, 0])
    for path in ("layer1", "layer2.0.conv1"):
        lig = LayerIntegratedGradients(resnet, resnet.get_submodule(path))
        a = lig.attribute(x, baselines=torch.zeros_like(x), target=target, n_steps=32)
        np.save(os.path.join(HERE, f"resnet_f64_lig_{path}.npy"), a.detach().numpy())


def main():
    torch.manual_seed(7)
    resnet = ResNet()
    randomise_statistics(resnet)
    resnet.eval()
    x = torch.randn(4, 2, 8, 8)
    export(resnet, x, "resnet_folded")
    export(resnet, x, "resnet_fixed", dynamic=False)
    export(resnet, x, "resnet_bn", training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    export(resnet.double(), x.double(), "resnet_f64", do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE)
    layer_ig(resnet, x.double())
    # The same ResNet as integrad's own graph file: attributions through ONNX must equal these.
    meta = {"architecture": RESNET, "input_shape": "2,8,8", "input_dtype": "float64"}
    save_safetensors(os.path.join(HERE, "resnet_f64_native.safetensors"), resnet.state_dict(), meta, torch.float64)
    for cell, name in ((nn.LSTM, "lstm"), (nn.GRU, "gru")):
        m = Recurrent(cell)
        export(m, torch.randint(0, 20, (3, 5)), name)
    enc = Encoder()
    xe = torch.randn(3, 4, 8)
    export(enc, xe, "encoder13", opset=13)
    export(enc, xe, "encoder17", opset=17)
    export(enc.double(), xe.double(), "encoder17_f64", opset=17)
    stem = Stem().double()
    export(stem, torch.randn(3, 2, 7, 7, dtype=torch.float64), "stem_f64", opset=17)
    # Float64 copies of the recurrent classifiers (a seed of their own, so the files above stay as
    # they were): trained and written back into their graphs, they must predict as the model in
    # memory to 1e-12 (tests/nn/test_onnx_write_back.cpp).
    torch.manual_seed(11)
    for cell, name in ((nn.LSTM, "lstm_f64"), (nn.GRU, "gru_f64")):
        export(Recurrent(cell).double(), torch.randint(0, 20, (3, 5)), name)


if __name__ == "__main__":
    main()
