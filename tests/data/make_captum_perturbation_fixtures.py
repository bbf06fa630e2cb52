#!/usr/bin/env python3
"""Fixtures that pin integrad's perturbation methods to Captum's: Occlusion (several windows and
strides, the last window clipped at the edge), FeatureAblation and
ShapleyValues (a feature mask and a baseline), on a small CNN over 1x8x8 inputs and an MLP over 6
features, all in float64. Needs PyTorch and Captum 0.8 (not committed): point to Captum's source with

    CAPTUM_PATH=/path/to/captum /usr/bin/python3 make_captum_perturbation_fixtures.py
    /usr/bin/python3 make_captum_perturbation_fixtures.py /path/to/captum

Writes tests/data/captum/: the models as safetensors (the format integrad reads), the inputs,
baselines, targets and masks as .npy, and Captum's attributions as <case>_attr.npy (float64; see
Occlusion64 below for Occlusion and ShapleyValues, whose stock results are float32 and are kept
as <case>_captum.npy); the cases and
their options are listed in cases.json, read by tests/attribution/test_captum_perturbation.cpp.
Captum takes masks with ids 0..M-1; integrad's mask for the same groups (<case>_mask.npy) uses
other, non-contiguous ids (7·id + 3), which must not change the result."""
import json
import os
import sys

import numpy as np
import torch

captum_path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CAPTUM_PATH")
if captum_path:
    sys.path.insert(0, captum_path)
import captum  # noqa: E402
import captum.attr._core.shapley_value as captum_shapley  # noqa: E402
from captum.attr import FeatureAblation, Occlusion, ShapleyValues  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_writer import save_safetensors  # noqa: E402


# Captum 0.8 returns float32 attributions from a float64 model for two of the three methods:
# Occlusion divides by the window counts after `.float()` (FeatureAblation._generate_result), and
# ShapleyValues accumulates its marginals in tensors made with `dtype=torch.float`. So each case is
# recorded twice: as Captum returns it (<case>_captum.npy, float32) and with those two casts
# lifted to float64 (<case>_attr.npy), by the two small overrides below; the algorithm is
# Captum's own code either way.
class Occlusion64(Occlusion):
    def _generate_result(self, total_attrib, weights, is_inputs_tuple):
        return tuple(a / w for a, w in zip(total_attrib, weights))[0]


class _TorchFloat64:
    """torch, with torch.float meaning float64: stands for `torch` inside Captum's shapley_value module."""

    def __getattr__(self, name):
        return torch.float64 if name == "float" else getattr(torch, name)


def shapley64(net, *args, **kwargs):
    saved = captum_shapley.torch
    captum_shapley.torch = _TorchFloat64()
    try:
        return ShapleyValues(net).attribute(*args, **kwargs)
    finally:
        captum_shapley.torch = saved

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "captum")
os.makedirs(HERE, exist_ok=True)
torch.manual_seed(13)
nn = torch.nn


def save(name, array):
    np.save(os.path.join(HERE, name), array)


def model(name, arch, net, input_shape, x, baseline, target):
    net = net.double().eval()
    save_safetensors(os.path.join(HERE, f"{name}.safetensors"), net.state_dict(),
                     {"architecture": arch, "input_shape": ",".join(map(str, input_shape)), "input_dtype": "float64"})
    save(f"{name}_input.npy", x.numpy())
    save(f"{name}_baseline.npy", baseline.numpy())
    save(f"{name}_target.npy", target.numpy())
    return net


cases = []


def record(case, net_name, net, x, baseline, target, method, options, attr, mask=None, stock=None):
    entry = {"case": case, "model": net_name, "method": method, "options": options}
    if mask is not None:
        save(f"{case}_mask.npy", (7 * mask + 3).astype(np.int64))
        entry["options"] = dict(options, **{"feature-mask": f"{case}_mask.npy"})
    assert attr.dtype == torch.float64, case
    save(f"{case}_attr.npy", attr.detach().numpy())
    if stock is not None:
        save(f"{case}_captum.npy", stock.detach().numpy())
        entry["stock_dtype"] = str(stock.dtype).replace("torch.", "")
    cases.append(entry)


# --- a small CNN on 1x8x8 images ------------------------------------------------------------
cnn_arch = "Conv2d(1, 3, 3, padding=1); ReLU(); MaxPool2d(2); Conv2d(3, 4, 2); Tanh(); Flatten(); Linear(36, 4)"
cnn = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(3, 4, 2), nn.Tanh(), nn.Flatten(),
                    nn.Linear(36, 4))
x_img = torch.randn(3, 1, 8, 8, dtype=torch.float64)
b_img = 0.2 * torch.randn(3, 1, 8, 8, dtype=torch.float64)
t_img = torch.tensor([0, 3, 1])
cnn = model("cnn", cnn_arch, cnn, [1, 8, 8], x_img, b_img, t_img)

# window, stride: 3x3 by 2 (4 positions per dim, the last clipped to 2 rows), 4x4 by 3 (the last
# clipped), 2x2 by 1, 5x3 by 2x3 (3x3 positions, the last clipped in both dims), 8x8 (one window: everything).
for k, (window, stride) in enumerate([((1, 3, 3), (1, 2, 2)), ((1, 4, 4), (1, 3, 3)), ((1, 2, 2), (1, 1, 1)),
                                      ((1, 5, 3), (1, 2, 3)), ((1, 8, 8), (1, 1, 1))]):
    kw = dict(sliding_window_shapes=window, strides=stride, baselines=b_img, target=t_img, perturbations_per_eval=7)
    record(f"cnn_occlusion_{k}", "cnn", cnn, x_img, b_img, t_img, "occlusion",
           {"window": ",".join(map(str, window)), "stride": ",".join(map(str, stride))},
           Occlusion64(cnn).attribute(x_img, **kw), stock=Occlusion(cnn).attribute(x_img, **kw))

# 4x4 quadrants of 2x2 blocks (16 groups) for ablation; 6 groups (columns of 3x... blocks) for Shapley.
rows, cols = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
quad = ((rows // 2) * 4 + cols // 2).reshape(1, 8, 8)
a = FeatureAblation(cnn).attribute(x_img, baselines=b_img, target=t_img, feature_mask=torch.from_numpy(quad).unsqueeze(0))
record("cnn_ablation_blocks", "cnn", cnn, x_img, b_img, t_img, "ablation", {}, a, quad)
a = FeatureAblation(cnn).attribute(x_img, baselines=b_img, target=t_img)
record("cnn_ablation_pixels", "cnn", cnn, x_img, b_img, t_img, "ablation", {}, a)
six = ((rows // 3) * 2 + cols // 4).reshape(1, 8, 8)  # 3 bands of rows (3, 3, 2) x 2 halves
kw = dict(baselines=b_img, target=t_img, feature_mask=torch.from_numpy(six).unsqueeze(0), perturbations_per_eval=16)
record("cnn_shapley_six", "cnn", cnn, x_img, b_img, t_img, "shapley", {}, shapley64(cnn, x_img, **kw), six,
       stock=ShapleyValues(cnn).attribute(x_img, **kw))

# --- an MLP on 6 features -------------------------------------------------------------------
mlp_arch = "Linear(6, 8); Tanh(); Linear(8, 5); ReLU(); Linear(5, 3)"
mlp = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 5), nn.ReLU(), nn.Linear(5, 3))
x_tab = torch.randn(4, 6, dtype=torch.float64)
b_tab = 0.3 * torch.randn(4, 6, dtype=torch.float64)
t_tab = torch.tensor([2, 0, 1, 2])
mlp = model("mlp", mlp_arch, mlp, [6], x_tab, b_tab, t_tab)

for k, (window, stride) in enumerate([((2,), (1,)), ((4,), (3,)), ((3,), (2,))]):
    kw = dict(sliding_window_shapes=window, strides=stride, baselines=b_tab, target=t_tab)
    record(f"mlp_occlusion_{k}", "mlp", mlp, x_tab, b_tab, t_tab, "occlusion",
           {"window": ",".join(map(str, window)), "stride": ",".join(map(str, stride))},
           Occlusion64(mlp).attribute(x_tab, **kw), stock=Occlusion(mlp).attribute(x_tab, **kw))
pairs = np.array([2, 0, 1, 2, 3, 0])  # 4 groups: {1, 5}, {2}, {0, 3}, {4}
a = FeatureAblation(mlp).attribute(x_tab, baselines=b_tab, target=t_tab, feature_mask=torch.from_numpy(pairs).unsqueeze(0))
record("mlp_ablation_groups", "mlp", mlp, x_tab, b_tab, t_tab, "ablation", {}, a, pairs)
kw = dict(baselines=b_tab, target=t_tab, feature_mask=torch.from_numpy(pairs).unsqueeze(0))
record("mlp_shapley_groups", "mlp", mlp, x_tab, b_tab, t_tab, "shapley", {}, shapley64(mlp, x_tab, **kw), pairs,
       stock=ShapleyValues(mlp).attribute(x_tab, **kw))
kw = dict(baselines=b_tab, target=t_tab)
record("mlp_shapley_features", "mlp", mlp, x_tab, b_tab, t_tab, "shapley", {}, shapley64(mlp, x_tab, **kw),
       stock=ShapleyValues(mlp).attribute(x_tab, **kw))

# Captum refuses a stride larger than the window (an assertion); integrad accepts it and gives the
# elements no window covers 0 (interfaces.md): not a Captum case.

with open(os.path.join(HERE, "cases.json"), "w") as f:
    json.dump({"captum_version": captum.__version__, "torch_version": torch.__version__, "cases": cases}, f, indent=1)
    f.write("\n")
print(f"{len(cases)} cases from Captum {captum.__version__} written to", HERE)
