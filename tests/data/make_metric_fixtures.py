#!/usr/bin/env python3
"""Reference values for every metric of `integrad evaluate`, computed in PyTorch (float64) on a
small CNN and fixed attribution maps, written to tests/data/metrics/. Run with Debian's
python3-torch and Captum's source (for infidelity and sensitivity_max):

    CAPTUM_PATH=/work/captum /usr/bin/python3 tests/data/make_metric_fixtures.py

The random metrics get their draws from this script, which saves them: Captum's infidelity and
sensitivity_max are called with a perturb_func that returns the saved noise, the faithfulness
correlation (Quantus' FaithfulnessCorrelation loop, written out) with the saved subsets, and the
randomisation metric with a saved re-initialised model. tests/attribution/test_metric_fixtures.cpp
feeds the same draws to integrad's given-perturbation entry points (given_perturbations.h) and the
deterministic metrics through the registry, within 1e-10 relative. (PyTorch's own float64 results
can differ in the last bit from one run of this script to the next: far below that tolerance.)"""
import json
import os
import struct
import sys

import numpy as np
import scipy.stats
import torch

sys.path.insert(0, os.environ.get("CAPTUM_PATH", "/work/captum"))
from captum.metrics import infidelity, sensitivity_max  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "metrics")
os.makedirs(HERE, exist_ok=True)
torch.manual_seed(0)
rng = np.random.RandomState(0)
nn = torch.nn


def save_safetensors(path, model, arch, input_shape):
    """The safetensors format by hand (8-byte LE header length, JSON header, raw data), float64."""
    header = {"__metadata__": {"architecture": arch, "input_shape": ",".join(map(str, input_shape)), "input_dtype": "float64"}}
    blobs, offset = [], 0
    for name, t in model.state_dict().items():
        data = t.detach().double().contiguous().numpy().tobytes()
        header[name] = {"dtype": "F64", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def save(name, array):
    np.save(os.path.join(HERE, name + ".npy"), np.asarray(array))


ARCH = "Conv2d(1, 3, 3, padding=1); ReLU(); MaxPool2d(2); Flatten(); Linear(48, 4)"
SHAPE = [1, 8, 8]


def make_model():
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(48, 4)).double()


model, random_model = make_model(), make_model()  # the second: the "fully re-initialised" model
save_safetensors(os.path.join(HERE, "model.safetensors"), model, ARCH, SHAPE)
save_safetensors(os.path.join(HERE, "random_model.safetensors"), random_model, ARCH, SHAPE)

N, D = 4, 64
x = torch.rand(N, *SHAPE, dtype=torch.float64)
a = torch.randn(N, *SHAPE, dtype=torch.float64)  # fixed maps, unrelated to the model
mask = (torch.rand(N, *SHAPE) < 0.3).double()
mask.view(N, D)[[0, 2], a.view(N, D).argmax(1)[[0, 2]]] = 1  # examples 0 and 2 win the pointing game
with torch.no_grad():
    classes = model(x).argmax(1)
save("x", x), save("attributions", a), save("mask", mask), save("classes", classes)


def gradient(m, inputs, target):
    if isinstance(inputs, tuple):  # Captum passes its inputs as a tuple
        return (gradient(m, inputs[0], target),)
    with torch.enable_grad():
        inputs = inputs.detach().clone().requires_grad_(True)
        out = m(inputs).gather(1, target.view(-1, 1)).sum()
        return torch.autograd.grad(out, inputs)[0]


grad = gradient(model, x, classes)
save("gradients", grad)

# --- deletion and insertion: K = 5, zero baseline, ties by lower flat index (a stable sort) -----
K = 5
flat = a.view(N, D)
order = torch.sort(flat, dim=1, descending=True, stable=True).indices
for kind in ["deletion", "insertion"]:
    curves = torch.zeros(N, K + 1, dtype=torch.float64)
    for i in range(N):
        for k in range(K + 1):
            top = order[i, : int(round(k * D / K))]
            row = x[i].reshape(D).clone() if kind == "deletion" else torch.zeros(D, dtype=torch.float64)
            row[top] = 0.0 if kind == "deletion" else x[i].reshape(D)[top]
            with torch.no_grad():
                curves[i, k] = torch.softmax(model(row.view(1, *SHAPE)), 1)[0, classes[i]]
    save(kind + "_curves", curves)
    save(kind, ((curves[:, 1:] + curves[:, :-1]) / (2 * K)).sum(1))

# --- infidelity (Captum), noise N(0, 0.1²), 6 samples: the perturb_func returns the saved noise -
S = 6
noise = torch.randn(N * S, *SHAPE, dtype=torch.float64) * 0.1  # repeat_interleave order: example-major
save("infidelity_noise", noise.view(N, S, *SHAPE))
save("infidelity", infidelity(model, lambda inputs: (noise, inputs - noise), x, a, target=classes, n_perturb_samples=S))

# --- sensitivity-max (Captum), the gradient as Φ, noise U[−0.05, 0.05], 5 samples ---------------
S2 = 5
unoise = (torch.rand(N * S2, *SHAPE, dtype=torch.float64) * 2 - 1) * 0.05
save("sensitivity_noise", unoise.view(N, S2, *SHAPE))
save("sensitivity_max", sensitivity_max(lambda inputs, target: gradient(model, inputs, target), x, perturb_func=lambda inputs: inputs + unoise,
                                        n_perturb_samples=S2, target=classes))

# --- faithfulness correlation: Quantus' loop with the logit, 30 subsets of 20 at the zero baseline
RUNS, SIZE = 30, 20
subsets = np.stack([np.stack([rng.choice(D, SIZE, replace=False) for _ in range(RUNS)]) for _ in range(N)])
save("faithfulness_subsets", subsets.astype(np.int64))
scores = []
for i in range(N):
    with torch.no_grad():
        y = float(model(x[i : i + 1])[0, classes[i]])
        drops, sums = [], []
        for s in subsets[i]:
            xp = x[i].reshape(D).clone()
            xp[s] = 0.0
            drops.append(y - float(model(xp.view(1, *SHAPE))[0, classes[i]]))
            sums.append(float(flat[i, s].sum()))
    scores.append(scipy.stats.pearsonr(sums, drops)[0])
save("faithfulness_correlation", scores)

# --- relevance mass, pointing game, sparseness ---------------------------------------------------
pos = a.clamp(min=0).view(N, D)
save("relevance_mass", (pos * mask.view(N, D)).sum(1) / pos.sum(1))
save("pointing_game", mask.view(N, D).gather(1, flat.argmax(1, keepdim=True)).view(N))
v = torch.sort(a.abs().view(N, D), dim=1).values
i = torch.arange(1, D + 1, dtype=torch.float64)
save("sparseness", ((2 * i - D - 1) * v).sum(1) / (D * v.sum(1)))

# --- randomisation: Spearman (ties averaged) of the trained gradient with the saved random model's
rgrad = gradient(random_model, x, classes)
save("randomisation", [scipy.stats.spearmanr(grad[j].abs().flatten(), rgrad[j].abs().flatten())[0] for j in range(N)])
save("randomisation_signed", [scipy.stats.spearmanr(grad[j].flatten(), rgrad[j].flatten())[0] for j in range(N)])
print("wrote", HERE)
