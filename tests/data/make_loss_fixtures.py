#!/usr/bin/env python3
"""Fixtures for `integrad train --loss bce|mse`: one epoch of Adam in float64, batches of 4 in
order (the last one smaller), on a one-output model, with PyTorch's BCEWithLogitsLoss and MSELoss.
Run with Debian's python3-torch:  /usr/bin/python3 make_loss_fixtures.py"""
import json
import os
import struct

import numpy as np
import torch


def save_safetensors(path, state, metadata, dtype):
    """The safetensors format by hand, as make_torch_fixtures.py writes it (importing that script
    would regenerate its fixtures)."""
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in state.items():
        data = t.detach().to(dtype).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F64" if dtype == torch.float64 else "F32", "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


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
