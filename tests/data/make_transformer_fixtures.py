#!/usr/bin/env python3
"""Fixtures that pin integrad's transformer layers to PyTorch: a small token classifier
(Embedding; PositionalEmbedding; TransformerEncoderLayer x2; Select or Mean; Linear) exported as
safetensors, its inputs, logits and first layer's attention weights, and its weights after one
epoch of Adam in float64 with dropout 0. Run with Debian's python3-torch:
    /usr/bin/python3 tests/data/make_transformer_fixtures.py
PositionalEmbedding and Select are integrad's own layers: written here as tiny nn.Modules.
The export helpers are make_torch_fixtures.py's (save_safetensors), repeated so that running this
script does not rewrite the other fixtures."""
import os
import sys

import numpy as np
import torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_writer import save_safetensors  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch")
os.makedirs(HERE, exist_ok=True)
torch.manual_seed(0)
nn = torch.nn


class PositionalEmbedding(nn.Module):
    """integrad's PositionalEmbedding(max_len, d): adds a learned [max_len, d] table to [N, T, d]."""
    def __init__(self, max_len, d):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(max_len, d))

    def forward(self, x):
        return x + self.weight[: x.shape[1]]


class Select(nn.Module):
    def __init__(self, dim, index):
        super().__init__()
        self.dim, self.index = dim, index

    def forward(self, x):
        return x.select(self.dim, self.index)


class Mean(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return x.mean(dim=self.dim)


V, T, D, C = 11, 7, 8, 3
ARCH = ("Embedding(11, 8); PositionalEmbedding(7, 8); TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0); "
        "TransformerEncoderLayer(8, 2, dim_feedforward=12, dropout=0.0, activation=gelu, norm_first=True); {pool}; Linear(8, 3)")


def build(pool):
    return nn.Sequential(
        nn.Embedding(V, D), PositionalEmbedding(T, D),
        nn.TransformerEncoderLayer(D, 2, dim_feedforward=16, dropout=0.0, batch_first=True),
        nn.TransformerEncoderLayer(D, 2, dim_feedforward=12, dropout=0.0, activation="gelu", batch_first=True, norm_first=True),
        Select(1, 0) if pool == "Select(1, 0)" else Mean(1), nn.Linear(D, C))


def perturb(model):
    # Norm weights and attention biases away from PyTorch's 1 and 0, so that every parameter matters.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name or "bias" in name:
                p.add_(0.2 * torch.randn_like(p))
    return model


x = torch.randint(0, V, (5, T))
np.save(os.path.join(HERE, "transformer_input.npy"), x.numpy())
for pool, tag in [("Select(1, 0)", "select"), ("Mean(1)", "mean")]:
    base = perturb(build(pool)).double()
    for dtype, dt in [(torch.float64, "f64"), (torch.float32, "f32")]:
        model = build(pool).to(dtype)
        model.load_state_dict(base.state_dict())
        model.eval()
        meta = {"architecture": ARCH.format(pool=pool), "input_shape": str(T), "input_dtype": "int64"}
        save_safetensors(os.path.join(HERE, f"transformer_{tag}_{dt}.safetensors"), model.state_dict(), meta, dtype)
        with torch.no_grad():
            np.save(os.path.join(HERE, f"transformer_{tag}_{dt}_output.npy"), model(x).numpy())
            if tag == "select":
                # Every layer's attention weights [N, layers, heads, T, T], as need_weights=True,
                # average_attn_weights=False gives them, on each layer's own input.
                h, maps = model[1](model[0](x)), []
                for layer in (model[2], model[3]):
                    src = layer.norm1(h) if layer.norm_first else h
                    maps.append(layer.self_attn(src, src, src, need_weights=True, average_attn_weights=False)[1])
                    h = layer(h)
                np.save(os.path.join(HERE, f"transformer_attention_{dt}.npy"), torch.stack(maps, dim=1).numpy())

# --- one epoch of Adam in float64, batches of 4 in order (4, 4, 2), dropout 0 ------------------
X = torch.randint(0, V, (10, T))
Y = torch.randint(0, C, (10,))
np.save(os.path.join(HERE, "transformer_train_x.npy"), X.numpy())
np.save(os.path.join(HERE, "transformer_train_y.npy"), Y.numpy())
model = perturb(build("Select(1, 0)")).double()
meta = {"architecture": ARCH.format(pool="Select(1, 0)"), "input_shape": str(T), "input_dtype": "int64"}
save_safetensors(os.path.join(HERE, "transformer_train_start.safetensors"), model.state_dict(), meta, torch.float64)
model.train()
opt = torch.optim.Adam(model.parameters(), lr=0.01)
for i in range(0, 10, 4):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(X[i:i + 4]), Y[i:i + 4])
    loss.backward()
    opt.step()
save_safetensors(os.path.join(HERE, "transformer_train_adam.safetensors"), model.state_dict(), meta, torch.float64)
print("transformer fixtures written to", HERE)
