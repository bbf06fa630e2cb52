#!/usr/bin/env python3
"""Fixtures for models of several inputs: a two-input model (numeric features through a small MLP,
a second input through another, joined by Concat, then a linear head), in float64, with Captum's
IntegratedGradients (riemann_middle, 64 steps) on the tuple of inputs, and on the numeric input
alone with the other held fixed (additional_forward_args). A second copy with a one-logit head
([N, 1]) gives IG without a target. Needs Captum (not committed; v0.8.0, commit faac0877):
    CAPTUM_PATH=/path/to/captum /usr/bin/python3 tests/data/make_two_input_fixtures.py
Writes tests/data/inputs/: two_input.safetensors, one_output.safetensors, inputs.npz (num, cat),
baseline_num.npy, baseline_cat.npy, target.npy, and the attributions *_attr_{num,cat}.npy; and
tests/data/onnx/two_input_{f64,f32}.onnx (torch.onnx.export, opset 17, dynamic batch) with their
inputs (.npz) and PyTorch's outputs."""
import os
import sys

import numpy as np
import torch

captum_path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CAPTUM_PATH")
if captum_path:
    sys.path.insert(0, captum_path)
from captum.attr import IntegratedGradients  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_writer import save_safetensors  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "inputs")
os.makedirs(HERE, exist_ok=True)
torch.manual_seed(3)
# Captum rounds its quadrature weights to float32 (`torch.tensor(step_sizes).float()`), which
# moves Gauss-Legendre results by about 1e-8; riemann_middle with 64 steps has weights 1/64, exact
# in float32, so Captum's own numbers are exact to float64 rounding.
METHOD, STEPS = "riemann_middle", 64
nn = torch.nn


class Branch(nn.Module):
    def __init__(self, cin, cout, act):
        super().__init__()
        self.fc = nn.Linear(cin, cout)
        self.act = act

    def forward(self, x):
        return self.act(self.fc(x))


class TwoInput(nn.Module):
    def __init__(self, outputs):
        super().__init__()
        self.num = Branch(5, 8, nn.ReLU())
        self.cat = Branch(3, 4, nn.Tanh())
        self.head = nn.Linear(12, outputs)

    def forward(self, num, cat):
        return self.head(torch.cat([self.num(num), self.cat(cat)], dim=1))


def architecture(outputs):
    return ("num.fc = Linear(5, 8)(num)\nnum.act = ReLU()\ncat.fc = Linear(3, 4)(cat)\ncat.act = Tanh()\n"
            f"join = Concat(dim=1)(num.act, cat.act)\nhead = Linear(12, {outputs})")


def save(model, name, outputs):
    meta = {"architecture": architecture(outputs), "input_names": "num,cat", "input_shape": "5;3", "input_dtype": "float64",
            "format": "pt"}
    save_safetensors(os.path.join(HERE, name), model.state_dict(), meta, torch.float64)


model = TwoInput(3).double().eval()
one = TwoInput(1).double().eval()
save(model, "two_input.safetensors", 3)
save(one, "one_output.safetensors", 1)

n = 4
num = torch.randn(n, 5, dtype=torch.float64)
cat = torch.randn(n, 3, dtype=torch.float64)
base_num = 0.1 * torch.randn(5, dtype=torch.float64)  # one example's shape, shared
base_cat = 0.1 * torch.randn(3, dtype=torch.float64)
target = torch.tensor([0, 2, 1, 2])
np.savez(os.path.join(HERE, "inputs.npz"), num=num.numpy(), cat=cat.numpy())
np.save(os.path.join(HERE, "baseline_num.npy"), base_num.numpy())
np.save(os.path.join(HERE, "baseline_cat.npy"), base_cat.numpy())
np.save(os.path.join(HERE, "target.npy"), target.numpy())
np.save(os.path.join(HERE, "logits.npy"), model(num, cat).detach().numpy())


def write(prefix, attrs, names):
    for a, name in zip(attrs, names):
        np.save(os.path.join(HERE, f"{prefix}_attr_{name}.npy"), a.detach().numpy())


ig = IntegratedGradients(model)
# Both inputs, zero baselines; then per-input baselines.
write("both_zero", ig.attribute((num, cat), target=target, n_steps=STEPS, method=METHOD), ["num", "cat"])
bn, bc = base_num.expand(n, 5), base_cat.expand(n, 3)
attrs, delta = ig.attribute((num, cat), baselines=(bn, bc), target=target, n_steps=STEPS, method=METHOD, return_convergence_delta=True)
write("both_base", attrs, ["num", "cat"])
np.save(os.path.join(HERE, "both_base_delta.npy"), delta.detach().numpy())
# The numeric input alone, cat held fixed as alibi's forward_kwargs / Captum's additional_forward_args.
a = ig.attribute(num, baselines=bn, target=target, additional_forward_args=(cat,), n_steps=STEPS, method=METHOD)
write("num_only", [a], ["num"])
# One output per example: no target.
ig1 = IntegratedGradients(one)
write("one_output", ig1.attribute((num, cat), n_steps=STEPS, method=METHOD), ["num", "cat"])
print("wrote", HERE, "captum", __import__("captum").__version__)

# The same model as ONNX (torch.onnx.export, opset 17, dynamic batch), in float64 and float32, with
# PyTorch's outputs: the reader builds its two graph inputs as the model's named inputs.
ONNX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "onnx")
for suffix, dtype in (("f64", torch.float64), ("f32", torch.float32)):
    net = TwoInput(3)
    net.load_state_dict(model.state_dict())
    net = net.to(dtype).eval()
    x = (num.to(dtype), cat.to(dtype))
    path = os.path.join(ONNX, f"two_input_{suffix}.onnx")
    torch.onnx.export(net, x, path, input_names=["num", "cat"], output_names=["output"], opset_version=17,
                      dynamic_axes={"num": {0: "batch"}, "cat": {0: "batch"}, "output": {0: "batch"}})
    np.savez(os.path.join(ONNX, f"two_input_{suffix}_input.npz"), num=x[0].numpy(), cat=x[1].numpy())
    with torch.no_grad():
        np.save(os.path.join(ONNX, f"two_input_{suffix}_output.npy"), net(*x).numpy())
print("wrote", ONNX, "torch", torch.__version__)
