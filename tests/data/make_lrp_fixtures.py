#!/usr/bin/env python3
"""Fixtures that pin integrad's lrp to Zennit 0.5.1 (its rules, composites and canonizers), in
float64, on the CNN and the ResNet of make_gradcam_fixtures.py (read from tests/data/gradcam/, not
regenerated: run this script again after that one). Needs PyTorch, torchvision and Zennit 0.5.1's
source (not committed; later Zennit versions need torch 2):

    ZENNIT_PATH=/path/to/zennit-0.5.1/src /usr/bin/python3 make_lrp_fixtures.py

Composites: Zennit's EpsilonPlus, EpsilonPlusFlat, EpsilonGammaBox and EpsilonAlpha2Beta1, and
"epsilon" (Zennit has no composite of that name: its base layer map with the Epsilon rule on
convolutions and dense layers alike). Canonizers: ResNetCanonizer on the ResNet (BatchNorm merged
into the convolution before it, each BasicBlock's residual sum as a Sum module), SequentialMerge-
BatchNorm on the CNN. The relevance at the output is the one-hot of the target.

One deliberate difference: Zennit 0.5.1's MergeBatchNorm turns the BatchNorm into "identity" by
setting its statistics to mean 0, variance 1, but keeps its eps, so the canonized model scales each
merged BatchNorm's output by 1/sqrt(1 + eps) and no longer computes the original function (about
5e-6 relative on this ResNet). integrad merges exactly, so here eps is set to 0 while the
canonizer is in place (and restored after); the gap to unmodified Zennit is written to cases.json
as `zennit_eps_gap` per case.

Writes tests/data/lrp/<case>_attr.npy and cases.json."""
import json
import os
import sys

import numpy as np
import torch

zennit_path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("ZENNIT_PATH")
if zennit_path:
    sys.path.insert(0, zennit_path)
import zennit  # noqa: E402
from zennit.attribution import Gradient  # noqa: E402
from zennit.canonizers import SequentialMergeBatchNorm  # noqa: E402
from zennit.composites import EpsilonAlpha2Beta1, EpsilonGammaBox, EpsilonPlus, EpsilonPlusFlat, LayerMapComposite, layer_map_base  # noqa: E402
from zennit.rules import Epsilon  # noqa: E402
from zennit.torchvision import ResNetCanonizer  # noqa: E402
from zennit.types import Convolution  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_writer import load_safetensors  # noqa: E402
from torch_models import ResNet  # noqa: E402


SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gradcam")
HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lrp")
os.makedirs(HERE, exist_ok=True)
nn = torch.nn


def load(name, net):
    state, _ = load_safetensors(os.path.join(SOURCE, f"{name}.safetensors"))
    net = net.double().eval()
    net.load_state_dict(state)
    x = torch.from_numpy(np.load(os.path.join(SOURCE, f"{name}_input.npy")))
    t = torch.from_numpy(np.load(os.path.join(SOURCE, f"{name}_target.npy")))
    return net, x, t


models = {
    "cnn": load("cnn", nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(),
                                     nn.MaxPool2d(2), nn.Flatten(), nn.Linear(54, 5))),
    "resnet": load("resnet", ResNet()),
}


def composite_of(name, options, canonizers):
    eps, gamma = float(options.get("epsilon", 1e-6)), float(options.get("gamma", 0.25))
    if name == "epsilon":
        return LayerMapComposite(layer_map=layer_map_base() + [(Convolution, Epsilon(epsilon=eps)), (nn.Linear, Epsilon(epsilon=eps))],
                                 canonizers=canonizers)
    if name == "epsilon-plus":
        return EpsilonPlus(epsilon=eps, canonizers=canonizers)
    if name == "epsilon-plus-flat":
        return EpsilonPlusFlat(epsilon=eps, canonizers=canonizers)
    if name == "epsilon-gamma-box":
        return EpsilonGammaBox(low=float(options["low"]), high=float(options["high"]), epsilon=eps, gamma=gamma, canonizers=canonizers)
    if name == "epsilon-alpha2-beta1":
        return EpsilonAlpha2Beta1(epsilon=eps, canonizers=canonizers)
    raise ValueError(name)


def zennit_lrp(model_name, composite_name, options, exact_merge):
    net, x, t = models[model_name]
    canonizers = [ResNetCanonizer()] if model_name == "resnet" else [SequentialMergeBatchNorm()]
    composite = composite_of(composite_name, options, canonizers)
    one_hot = torch.nn.functional.one_hot(t, net(x).shape[1]).to(torch.float64)
    batch_norms = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    with Gradient(model=net, composite=composite) as attributor:
        saved = [m.eps for m in batch_norms]
        if exact_merge:
            for m in batch_norms:
                m.eps = 0.0
        _, relevance = attributor(x.clone(), one_hot)
        for m, eps in zip(batch_norms, saved):
            m.eps = eps
    return relevance


cases = []
settings = [("epsilon", {}), ("epsilon", {"epsilon": "0.1"}), ("epsilon-plus", {}), ("epsilon-plus-flat", {}),
            ("epsilon-gamma-box", {"low": "-3", "high": "3"}), ("epsilon-gamma-box", {"low": "-2.5", "high": "4", "gamma": "0.5"}),
            ("epsilon-alpha2-beta1", {})]
for model_name in ("cnn", "resnet"):
    for k, (composite_name, options) in enumerate(settings):
        case = f"{model_name}_{composite_name.replace('-', '_')}_{k}"
        r = zennit_lrp(model_name, composite_name, options, exact_merge=True)
        plain = zennit_lrp(model_name, composite_name, options, exact_merge=False)
        gap = float((r - plain).abs().max() / r.abs().max())
        np.save(os.path.join(HERE, f"{case}_attr.npy"), r.detach().numpy())
        cases.append({"case": case, "model": model_name, "options": dict(options, composite=composite_name), "zennit_eps_gap": gap})

with open(os.path.join(HERE, "cases.json"), "w") as f:
    json.dump({"zennit_version": "0.5.1", "torch_version": torch.__version__, "models_from": "tests/data/gradcam", "cases": cases}, f, indent=1)
    f.write("\n")
print(f"{len(cases)} cases from Zennit written to", HERE)
