#!/usr/bin/env python3
"""Fixtures that pin integrad's LSTM and GRU to PyTorch, in float64. Run with Debian's python3-torch:
    /usr/bin/python3 tests/data/make_recurrent_fixtures.py

For each cell (LSTM, GRU), num_layers (1, 2) and batch_first (True, False), one safetensors file
recurrent_{cell}_l{layers}_{bf|tf}.safetensors holds, under these names:
  weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, ...  the module's state_dict
  input           x, [N, L, I] or [L, N, I]
  output          the module's `output` (h at every step of the last layer)
  grad_output     a random seed for the backward
  grad.input      d(sum(output * grad_output))/dx
  grad.<param>    the same for every parameter
and its metadata names the architecture as integrad writes it. Biases are moved away from their
initial range so that each of them matters.

recurrent_model_{lstm,gru}.safetensors is a whole classifier (Embedding; LSTM/GRU with 2 layers,
batch_first; Select(1, -1); Linear) as integrad's model files hold it, with its token inputs and
logits in recurrent_model_input.npy and recurrent_model_{lstm,gru}_output.npy.
"""
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


def architecture(cell, i, h, layers, batch_first):
    s = f"{cell}({i}, {h}"
    if layers != 1:
        s += f", num_layers={layers}"
    if batch_first:
        s += ", batch_first=True"
    return s + ")"


N, L, I, H = 3, 6, 4, 5
for cell in ("LSTM", "GRU"):
    for layers in (1, 2):
        for batch_first in (True, False):
            module = getattr(nn, cell)(I, H, num_layers=layers, batch_first=batch_first).double()
            with torch.no_grad():
                for name, p in module.named_parameters():
                    if "bias" in name:
                        p.add_(0.3 * torch.randn_like(p))
            x = torch.randn((N, L, I) if batch_first else (L, N, I), dtype=torch.float64, requires_grad=True)
            out, _ = module(x)
            seed = torch.randn_like(out)
            (out * seed).sum().backward()
            tensors = {k: v for k, v in module.state_dict().items()}
            tensors.update({"input": x, "output": out, "grad_output": seed, "grad.input": x.grad})
            for name, p in module.named_parameters():
                tensors["grad." + name] = p.grad
            tag = f"recurrent_{cell.lower()}_l{layers}_{'bf' if batch_first else 'tf'}"
            save_safetensors(os.path.join(HERE, tag + ".safetensors"), tensors,
                             {"architecture": architecture(cell, I, H, layers, batch_first)})


class Select(nn.Module):
    def forward(self, x):
        return x[:, -1]


class Last(nn.Module):
    """The recurrent module's `output`, without the final state."""
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        return self.rnn(x)[0]


V, T, D, K = 11, 7, 4, 3
tokens = torch.randint(0, V, (5, T))
np.save(os.path.join(HERE, "recurrent_model_input.npy"), tokens.numpy())
for cell in ("LSTM", "GRU"):
    model = nn.Sequential(nn.Embedding(V, D), Last(getattr(nn, cell)(D, H, num_layers=2, batch_first=True)), Select(), nn.Linear(H, K)).double()
    model.eval()
    # integrad names a layer's parameters by its index in the chain: 1.weight_ih_l0, not 1.rnn.weight_ih_l0.
    state = {k.replace("rnn.", ""): v for k, v in model.state_dict().items()}
    meta = {"architecture": f"Embedding({V}, {D}); {cell}({D}, {H}, num_layers=2, batch_first=True); Select(1, -1); Linear({H}, {K})",
            "input_shape": str(T), "input_dtype": "int64"}
    save_safetensors(os.path.join(HERE, f"recurrent_model_{cell.lower()}.safetensors"), state, meta)
    with torch.no_grad():
        np.save(os.path.join(HERE, f"recurrent_model_{cell.lower()}_output.npy"), model(tokens).numpy())
print("recurrent fixtures written to", HERE)
