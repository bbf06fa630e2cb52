#!/usr/bin/env python3
"""Fixtures for `integrad train --loss bce|mse`: one epoch of Adam in float64, batches of 4 in
order (the last one smaller), on a one-output model, with PyTorch's BCEWithLogitsLoss and MSELoss.
Run with Debian's python3-torch:  /usr/bin/python3 make_loss_fixtures.py"""
import os
import sys

import numpy as np
import torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_writer import save_safetensors  # noqa: E402


HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch")
torch.manual_seed(27)
nn = torch.nn
X = torch.randn(10, 6, dtype=torch.float64)
labels = torch.randint(0, 2, (10,))
values = 3 * X[:, 0] - X[:, 1] + 0.5 * torch.randn(10, dtype=torch.float64)
np.save(os.path.join(HERE, "loss_x.npy"), X.numpy())
np.save(os.path.join(HERE, "loss_y_binary.npy"), labels.numpy())
np.save(os.path.join(HERE, "loss_y_values.npy"), values.numpy())
start = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 1)).double()
meta = {"architecture": "Linear(6, 5); Tanh(); Linear(5, 1)", "input_shape": "6", "input_dtype": "float64"}
save_safetensors(os.path.join(HERE, "loss_start.safetensors"), start.state_dict(), meta, torch.float64)
for name, loss_fn, target in [("bce", nn.BCEWithLogitsLoss(), labels.double()), ("mse", nn.MSELoss(), values)]:
    model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 1)).double()
    model.load_state_dict(start.state_dict())
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for i in range(0, 10, 4):  # batch size 4: 4, 4, 2
        opt.zero_grad()
        loss = loss_fn(model(X[i:i + 4]), target[i:i + 4].unsqueeze(1))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    save_safetensors(os.path.join(HERE, f"loss_{name}.safetensors"), model.state_dict(), meta, torch.float64)
    print(name, "batch losses", losses)
