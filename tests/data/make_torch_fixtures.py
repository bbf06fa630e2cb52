#!/usr/bin/env python3
"""Fixtures that pin integrad to PyTorch: small models exported as PyTorch users export them,
their inputs and outputs, weights after one epoch of training, and Integrated Gradients computed
with Captum's algorithm. Run with Debian's python3-torch:  /usr/bin/python3 make_torch_fixtures.py

Captum is not packaged for Debian, so `captum_ig` below follows Captum 0.8's
IntegratedGradients.attribute line by line (points and step sizes from
captum/attr/_utils/approximation_methods.py, the batched forward/backward, the sum of the
weighted gradients, the multiplication by (input - baseline), and the convergence delta)."""
import os

import numpy as np
import torch

from safetensors_writer import save_safetensors

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch")
os.makedirs(HERE, exist_ok=True)
torch.manual_seed(0)


def export(name, model, arch, input_shape, x, dtype, input_dtype=None):
    model = model.to(dtype)
    meta = {"architecture": arch, "input_shape": ",".join(map(str, input_shape)),
            "input_dtype": input_dtype or ("float64" if dtype == torch.float64 else "float32")}
    save_safetensors(os.path.join(HERE, f"{name}.safetensors"), model.state_dict(), meta, dtype)
    np.save(os.path.join(HERE, f"{name}_input.npy"), x.numpy())
    with torch.no_grad():
        xin = x if x.dtype == torch.int64 else x.to(dtype)
        np.save(os.path.join(HERE, f"{name}_output.npy"), model(xin).numpy())
    return model


class Mean(torch.nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return x.mean(dim=self.dim)


nn = torch.nn
for dtype, tag in [(torch.float64, "f64"), (torch.float32, "f32")]:
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.Sigmoid(), nn.Linear(8, 6), nn.Tanh(), nn.Linear(6, 5), nn.ReLU(),
                        nn.Linear(5, 4), nn.Softmax(dim=-1))
    export(f"mlp_{tag}", mlp, "Flatten(); Linear(12, 8); Sigmoid(); Linear(8, 6); Tanh(); Linear(6, 5); ReLU(); Linear(5, 4); Softmax(dim=-1)",
           [3, 4], torch.randn(5, 3, 4, dtype=torch.float64).to(dtype), dtype)
    cnn = nn.Sequential(nn.Conv2d(2, 4, 3, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 3, 2, bias=False),
                        nn.AvgPool2d(1), nn.Flatten(), nn.Linear(3, 3))
    export(f"cnn_{tag}", cnn, "Conv2d(2, 4, 3, stride=2, padding=1); ReLU(); MaxPool2d(2); Conv2d(4, 3, 2, bias=False); AvgPool2d(1); Flatten(); Linear(3, 3)",
           [2, 9, 9], torch.randn(3, 2, 9, 9, dtype=torch.float64).to(dtype), dtype)
    text = nn.Sequential(nn.Embedding(10, 4), Mean(1), nn.Linear(4, 2))
    export(f"text_{tag}", text, "Embedding(10, 4); Mean(1); Linear(4, 2)", [6], torch.randint(0, 10, (3, 6)), dtype, "int64")

# --- one epoch of training in float64, batches in order, the last one smaller ------------------
X = torch.randn(10, 6, dtype=torch.float64)
Y = torch.randint(0, 3, (10,))
np.save(os.path.join(HERE, "train_x.npy"), X.numpy())
np.save(os.path.join(HERE, "train_y.npy"), Y.numpy())
start = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3)).double()
arch = "Linear(6, 5); Tanh(); Linear(5, 3)"
meta = {"architecture": arch, "input_shape": "6", "input_dtype": "float64"}
save_safetensors(os.path.join(HERE, "train_start.safetensors"), start.state_dict(), meta, torch.float64)
runs = {
    "sgd": lambda p: torch.optim.SGD(p, lr=0.1),
    "sgd_momentum": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
    "sgd_nesterov": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True),
    "adam": lambda p: torch.optim.Adam(p, lr=0.01),
    "adam_wd": lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1),
    "adamw": lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1),
}
for name, make in runs.items():
    model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3)).double()
    model.load_state_dict(start.state_dict())
    opt = make(model.parameters())
    for i in range(0, 10, 4):  # batch size 4: 4, 4, 2
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(X[i:i + 4]), Y[i:i + 4])
        loss.backward()
        opt.step()
    save_safetensors(os.path.join(HERE, f"train_{name}.safetensors"), model.state_dict(), meta, torch.float64)


# --- Integrated Gradients with Captum 0.8's algorithm ---------------------------------------
def captum_alphas_and_steps(method, n):
    # approximation_methods.approximation_parameters
    if method == "gausslegendre":
        x, w = np.polynomial.legendre.leggauss(n)
        return list(0.5 * (1 + x)), list(0.5 * w)
    step = [1 / n] * n
    if method == "riemann_trapezoid":
        step = [1 / (2 * n)] + [1 / n] * (n - 2) + [1 / (2 * n)]   # Captum's weights: they sum to (n-1)/n
    alphas = {"riemann_left": np.linspace(0, 1 - 1 / n, n), "riemann_right": np.linspace(1 / n, 1, n),
              "riemann_middle": np.linspace(1 / (2 * n), 1 - 1 / (2 * n), n), "riemann_trapezoid": np.linspace(0, 1, n)}[method]
    return list(alphas), step


def captum_ig(model, inputs, baselines, target, method, n_steps):
    alphas, step_sizes = captum_alphas_and_steps(method, n_steps)
    # _attribute: scaled features, step-major
    scaled = torch.cat([baselines + a * (inputs - baselines) for a in alphas], dim=0).requires_grad_()
    out = model(scaled)
    tgt = target.repeat(n_steps)
    selected = out.gather(1, tgt.unsqueeze(1)).squeeze(1)
    grads = torch.autograd.grad(torch.unbind(selected), scaled)[0]
    scaled_grads = grads.view(n_steps, -1) * torch.tensor(step_sizes, dtype=grads.dtype).view(n_steps, 1)
    total = scaled_grads.reshape(n_steps, *inputs.shape).sum(dim=0)
    attributions = total * (inputs - baselines)
    with torch.no_grad():
        fx = model(inputs).gather(1, target.unsqueeze(1)).squeeze(1)
        fb = model(baselines).gather(1, target.unsqueeze(1)).squeeze(1)
    delta = attributions.reshape(inputs.shape[0], -1).sum(1) - (fx - fb)   # compute_convergence_delta
    return attributions.detach(), delta.detach()


for dtype, tag in [(torch.float64, "f64"), (torch.float32, "f32")]:
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 7), nn.Tanh(), nn.Linear(7, 5), nn.ReLU(), nn.Linear(5, 3)).to(dtype)
    x = torch.randn(4, 6, dtype=torch.float64).to(dtype)
    base = (0.1 * torch.randn(4, 6, dtype=torch.float64)).to(dtype)
    target = torch.tensor([0, 2, 1, 2])
    arch = "Flatten(); Linear(6, 7); Tanh(); Linear(7, 5); ReLU(); Linear(5, 3)"
    meta = {"architecture": arch, "input_shape": "6", "input_dtype": "float64" if tag == "f64" else "float32"}
    save_safetensors(os.path.join(HERE, f"ig_model_{tag}.safetensors"), model.state_dict(), meta, dtype)
    np.save(os.path.join(HERE, f"ig_input_{tag}.npy"), x.numpy())
    np.save(os.path.join(HERE, f"ig_baseline_{tag}.npy"), base.numpy())
    np.save(os.path.join(HERE, "ig_target.npy"), target.numpy())
    for method in ["gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid"]:
        a, d = captum_ig(model, x, base, target, method, 16)
        np.save(os.path.join(HERE, f"ig_{method}_{tag}_attr.npy"), a.numpy())
        np.save(os.path.join(HERE, f"ig_{method}_{tag}_delta.npy"), d.numpy())
print("fixtures written to", HERE)
