#!/usr/bin/env python3
"""The cascading randomisation check of docs/axioms.md ("Sanity checks") redone with PyTorch and
Captum on integrad's trained ResNet weights: PyTorch's own re-initialisation (reset_parameters and
reset_running_stats, top down in integrad's node order), Captum's Saliency, GuidedBackprop,
LayerGradCam (+ interpolate, bilinear) and GuidedGradCam at layer2[0], and scipy's spearmanr of |A|
per image, averaged. Prints the curves; writes no fixture (the random draws are PyTorch's, not
integrad's, so only the shape of the curves compares).

    integrad train --arch resnet --data fashion-mnist --limit 3000 --seed 1 -o r.safetensors
    integrad dataset --data fashion-mnist --limit 16 -o x.npy
    CAPTUM_PATH=/path/to/captum /usr/bin/python3 sanity_with_captum.py r.safetensors x.npy 8
"""
import json
import os
import struct
import sys

import numpy as np
import torch
from scipy.stats import spearmanr

if os.environ.get("CAPTUM_PATH"):
    sys.path.insert(0, os.environ["CAPTUM_PATH"])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from captum.attr import GuidedBackprop, GuidedGradCam, LayerAttribution, LayerGradCam, Saliency  # noqa: E402
from torch_models import ResNet  # noqa: E402


def load(path):
    """The tensors of a safetensors file as integrad writes it (F32, F64 or I64)."""
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    kinds = {"F64": "<f8", "F32": "<f4", "I64": "<i8"}
    return {k: torch.from_numpy(np.frombuffer(data[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]], dtype=kinds[v["dtype"]])
                                .reshape(v["shape"]).copy()) for k, v in header.items()}


torch.manual_seed(int(os.environ.get("SEED", "0")))
net = ResNet().double().eval()
net.load_state_dict({k: v.double() if v.is_floating_point() else v for k, v in load(sys.argv[1]).items()})
x = torch.from_numpy(np.load(sys.argv[2])).double()[: int(sys.argv[3])]
t = net(x).argmax(1)


def maps(m):
    cam = LayerGradCam(m, m.layer2[0]).attribute(x, target=t, relu_attributions=True)
    return {"gradient": Saliency(m).attribute(x, target=t, abs=False), "guided_backprop": GuidedBackprop(m).attribute(x, target=t),
            "gradcam": LayerAttribution.interpolate(cam, tuple(x.shape[2:]), "bilinear"),
            "guided_gradcam": GuidedGradCam(m, m.layer2[0]).attribute(x, target=t)}


def mean_spearman(a, b):
    rows = [spearmanr(a[i].abs().flatten().detach().numpy(), b[i].abs().flatten().detach().numpy())[0] for i in range(a.shape[0])]
    return float(np.mean([0.0 if np.isnan(r) else r for r in rows]))


trained = maps(net)
order = ["fc", "layer2.0.downsample.1", "layer2.0.downsample.0", "layer2.0.bn2", "layer2.0.conv2", "layer2.0.bn1", "layer2.0.conv1",
         "layer1.0.bn2", "layer1.0.conv2", "layer1.0.bn1", "layer1.0.conv1", "bn1", "conv1"]
modules = dict(net.named_modules())
curves = {k: [] for k in trained}
for name in order:
    modules[name].reset_parameters()
    if isinstance(modules[name], torch.nn.BatchNorm2d):
        modules[name].reset_running_stats()
    now = maps(net)
    for k in trained:
        curves[k].append(mean_spearman(trained[k], now[k]))
print(" " * 16 + "".join(f"{n[-9:]:>10}" for n in order))
for k, v in curves.items():
    print(f"{k:<16}" + "".join(f"{r:10.3f}" for r in v))
