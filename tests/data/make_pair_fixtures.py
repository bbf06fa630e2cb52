#!/usr/bin/env python3
"""Fixtures that pin integrad's blur-ig and guided-ig to PAIR saliency's BlurIG and GuidedIG
(github:PAIR-code/saliency, saliency/core, version 0.2.1), all in float64. Needs NumPy, SciPy and
PyTorch; PAIR's source is not committed: point to a checkout with

    SALIENCY_SRC=/path/to/saliency /usr/bin/python3 make_pair_fixtures.py

(SALIENCY_SRC is the directory holding the `saliency` package). Only the two modules are imported
(saliency/core/blur_ig.py, guided_ig.py and their base.py), not the package's __init__, which
pulls in scikit-image for XRAI and Grad-CAM.

PAIR's models are callbacks that return the gradient of the explained output for a batch; here
they are PyTorch models in float64 and the callback returns ∂ logit[target] / ∂ input.
BlurIG blurs images laid out W x H x C (sigma [s, s, 0]); integrad's images are C x H x W, so
the callback and the result are transposed (the blur is symmetric in the two spatial axes).
GuidedIG works on any shape (its steps are element-wise, its quantile and L1 distance over the
whole example), so it gets C x H x W directly.

Writes tests/data/pair/: models (safetensors), inputs, baselines, targets (.npy), PAIR's
attributions as <case>_attr.npy, and cases.json listing each case's method and options, read by
tests/attribution/test_pair_match.cpp (tolerance 1e-8 relative to each case's largest value)."""
import importlib
import json
import os
import sys
import types

import numpy as np
import torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_writer import save_safetensors  # noqa: E402

src = os.environ.get("SALIENCY_SRC") or (sys.argv[1] if len(sys.argv) > 1 else None)
if not src:
    sys.exit("set SALIENCY_SRC to the directory holding PAIR's `saliency` package")
core = types.ModuleType("pair_saliency_core")
core.__path__ = [os.path.join(src, "saliency", "core")]
sys.modules["pair_saliency_core"] = core
blur_ig = importlib.import_module("pair_saliency_core.blur_ig")
guided_ig = importlib.import_module("pair_saliency_core.guided_ig")
base = importlib.import_module("pair_saliency_core.base")

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pair")
os.makedirs(HERE, exist_ok=True)
torch.manual_seed(29)
rng = np.random.default_rng(29)
nn = torch.nn


def save(name, array):
    np.save(os.path.join(HERE, name), array)


def model(name, arch, net, input_shape, x, baseline, target):
    net = net.double().eval()
    save_safetensors(os.path.join(HERE, f"{name}.safetensors"), net.state_dict(),
                     {"architecture": arch, "input_shape": ",".join(map(str, input_shape)), "input_dtype": "float64"})
    save(f"{name}_input.npy", x)
    save(f"{name}_baseline.npy", baseline)
    save(f"{name}_target.npy", np.asarray(target, dtype=np.int64))
    return net


def gradient_callback(net, target, channels_last):
    """PAIR's call_model_function: ∂ logit[target] / ∂ x for a batch, in PAIR's layout."""
    def call(batch, call_model_args=None, expected_keys=None):
        x = torch.tensor(np.asarray(batch, dtype=np.float64))
        if channels_last:
            x = x.permute(0, 3, 1, 2)
        x = x.contiguous().requires_grad_(True)
        net(x)[:, target].sum().backward()
        g = x.grad.detach()
        if channels_last:
            g = g.permute(0, 2, 3, 1)
        return {base.INPUT_OUTPUT_GRADIENTS: g.numpy()}
    return call


cases = []


def record(case, net_name, method, options, attr):
    assert attr.dtype == np.float64, case
    save(f"{case}_attr.npy", attr)
    cases.append({"case": case, "model": net_name, "method": method, "options": options})


def blur_case(case, net_name, net, x, target, max_sigma, steps):
    out = []
    for xi, t in zip(x, target):
        hwc = np.ascontiguousarray(xi.transpose(1, 2, 0))
        a = blur_ig.BlurIG().GetMask(hwc, gradient_callback(net, int(t), True), max_sigma=max_sigma, steps=steps, batch_size=1)
        out.append(a.transpose(2, 0, 1))
    record(case, net_name, "blur-ig", {"max-sigma": repr(max_sigma), "steps": str(steps)}, np.stack(out))


def guided_case(case, net_name, net, x, baseline, target, steps, fraction, max_dist):
    out = []
    for xi, bi, t in zip(x, baseline, target):
        out.append(guided_ig.GuidedIG().GetMask(xi, gradient_callback(net, int(t), False), x_baseline=bi, x_steps=steps,
                                                fraction=fraction, max_dist=max_dist))
    record(case, net_name, "guided-ig", {"steps": str(steps), "fraction": repr(fraction), "max-dist": repr(max_dist)}, np.stack(out))


# --- a one-channel CNN on 1x8x8 images (smooth: Tanh, average pooling) -----------------------
cnn_arch = "Conv2d(1, 3, 3, padding=1); Tanh(); AvgPool2d(2); Conv2d(3, 4, 2); Tanh(); Flatten(); Linear(36, 4)"
cnn = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(3, 4, 2), nn.Tanh(), nn.Flatten(),
                    nn.Linear(36, 4))
x_cnn = rng.normal(size=(3, 1, 8, 8))
b_cnn = 0.2 * rng.normal(size=(3, 1, 8, 8))
t_cnn = [0, 3, 1]
cnn = model("cnn", cnn_arch, cnn, [1, 8, 8], x_cnn, b_cnn, t_cnn)

# --- a three-channel ReLU CNN on 3x8x8 images (kinks, max pooling) ---------------------------
rgb_arch = "Conv2d(3, 4, 3, padding=1); ReLU(); MaxPool2d(2); Flatten(); Linear(64, 3)"
rgb = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 3))
x_rgb = rng.uniform(0, 1, size=(2, 3, 8, 8))
b_rgb = np.zeros_like(x_rgb)
t_rgb = [2, 0]
rgb = model("rgb", rgb_arch, rgb, [3, 8, 8], x_rgb, b_rgb, t_rgb)

# --- an MLP on 6 features --------------------------------------------------------------------
mlp_arch = "Linear(6, 8); Tanh(); Linear(8, 5); ReLU(); Linear(5, 3)"
mlp = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 5), nn.ReLU(), nn.Linear(5, 3))
x_mlp = rng.normal(size=(4, 6))
b_mlp = 0.3 * rng.normal(size=(4, 6))
b_mlp[1, 2] = x_mlp[1, 2]  # a feature equal to its baseline: GuidedIG never moves it
t_mlp = [2, 0, 1, 2]
mlp = model("mlp", mlp_arch, mlp, [6], x_mlp, b_mlp, t_mlp)

# PAIR's blur alone (scipy.ndimage.gaussian_filter, sigma [s, s, 0], mode "constant", truncate 4)
# of the rgb images, laid out C x H x W: a sigma below 0.125 (radius 0: unchanged), a kernel that
# fits the image, one wider than it.
blurs = {}
for sigma in (0.1, 0.7, 1.3, 7.0):
    blurs[repr(sigma)] = f"rgb_blur_sigma_{sigma}.npy"
    save(blurs[repr(sigma)], np.stack([blur_ig.gaussian_blur(xi.transpose(1, 2, 0), sigma).transpose(2, 0, 1) for xi in x_rgb]))

# Blur IG: sigmas below 0.125 blur nothing (scipy's radius int(4σ + 0.5) is 0), a sigma whose
# kernel is wider than the image (radius 4·6 = 24 > 8), a non-integer max sigma.
blur_case("cnn_blur_3_20", "cnn", cnn, x_cnn, t_cnn, 3.0, 20)
blur_case("cnn_blur_6_25", "cnn", cnn, x_cnn, t_cnn, 6.0, 25)
blur_case("rgb_blur_2.5_16", "rgb", rgb, x_rgb, t_rgb, 2.5, 16)

# Guided IG: PAIR's defaults on the MLP; the bound max_dist near 0 (IG's straight path), large
# (unbounded: 1), and in between; several fractions.
guided_case("mlp_guided_default", "mlp", mlp, x_mlp, b_mlp, t_mlp, 200, 0.25, 0.02)
guided_case("mlp_guided_free", "mlp", mlp, x_mlp, b_mlp, t_mlp, 40, 0.5, 1.0)
guided_case("mlp_guided_straight", "mlp", mlp, x_mlp, b_mlp, t_mlp, 25, 0.3, 0.0)
guided_case("cnn_guided_0.1", "cnn", cnn, x_cnn, b_cnn, t_cnn, 30, 0.1, 0.1)
guided_case("rgb_guided_0.05", "rgb", rgb, x_rgb, b_rgb, t_rgb, 50, 0.25, 0.05)

with open(os.path.join(HERE, "cases.json"), "w") as f:
    json.dump({"reference": "PAIR saliency 0.2.1, saliency/core (BlurIG, GuidedIG)", "torch_version": torch.__version__,
               "numpy_version": np.__version__, "blurs": blurs, "cases": cases}, f, indent=1)
    f.write("\n")
print(f"{len(cases)} cases written to", HERE)
