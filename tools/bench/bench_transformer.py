#!/usr/bin/env python3
"""The transformer against PyTorch / Captum on this machine (2 threads each): one epoch of
`--arch transformer` on synthetic-order (10,000 sequences, Adam lr 0.003, batch 64, no shuffle),
and layer IG on the embedding for 1000 sequences (50 Gauss-Legendre steps, padding baseline).
integrad is timed as a process (`integrad train`, `integrad explain`, start-up and file I/O
included); PyTorch and Captum in-process. Prints one row per workload and the ratio.
  /usr/bin/python3 tools/bench/bench_transformer.py BUILD_DIR [CAPTUM_PATH]"""
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

torch.set_num_threads(2)
build = sys.argv[1] if len(sys.argv) > 1 else "build"
captum_path = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("CAPTUM_PATH", "/work/captum")
sys.path.insert(0, captum_path)
bin_ = os.path.join(build, "integrad")
work = tempfile.mkdtemp()
env = dict(os.environ, OMP_NUM_THREADS="2")


def run(*args):
    start = time.perf_counter()
    subprocess.run([bin_, *args], check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


run("dataset", "--data", "synthetic-order", "--split", "train", "-o", f"{work}/x.npy", "--labels-out", f"{work}/y.npy")
run("dataset", "--data", "synthetic-order", "--limit", "1000", "-o", f"{work}/t.npy")
X = torch.from_numpy(np.load(f"{work}/x.npy")).long()
Y = torch.from_numpy(np.load(f"{work}/y.npy")).long()
T = torch.from_numpy(np.load(f"{work}/t.npy")).long()


class PositionalEmbedding(torch.nn.Module):
    def __init__(self, max_len, d):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(max_len, d))

    def forward(self, x):
        return x + self.weight[: x.shape[1]]


class Select(torch.nn.Module):
    def forward(self, x):
        return x.select(1, 0)


nn = torch.nn
model = nn.Sequential(nn.Embedding(32, 32), PositionalEmbedding(16, 32),
                      nn.TransformerEncoderLayer(32, 2, dim_feedforward=64, dropout=0.0, batch_first=True),
                      nn.TransformerEncoderLayer(32, 2, dim_feedforward=64, dropout=0.0, batch_first=True), Select(), nn.Linear(32, 2))
opt = torch.optim.Adam(model.parameters(), lr=0.003)
start = time.perf_counter()
for i in range(0, len(X), 64):
    opt.zero_grad()
    nn.functional.cross_entropy(model(X[i:i + 64]), Y[i:i + 64]).backward()
    opt.step()
torch_train = time.perf_counter() - start
ours_train = run("train", "--arch", "transformer", "--epochs", "1", "--lr", "0.003", "--no-shuffle", "--val-limit", "1", "-q", "-o", f"{work}/m.safetensors")

model.eval()
try:
    from captum.attr import LayerIntegratedGradients
    lig = LayerIntegratedGradients(model, model[0])
    start = time.perf_counter()
    target = model(T).argmax(1)
    lig.attribute(T, baselines=torch.zeros_like(T), target=target, n_steps=50, method="gausslegendre", internal_batch_size=512)
    captum_ig = time.perf_counter() - start
    captum_name = "Captum LayerIntegratedGradients"
except ImportError:
    captum_ig, captum_name = float("nan"), "Captum (not importable)"
ours_ig = run("explain", f"{work}/m.safetensors", f"{work}/t.npy", "--method", "ig", "--layer", "0", "--baseline", "0", "-o", f"{work}/a.npy")

print(f"{'workload':<44} {'integrad':>9} {'PyTorch/Captum':>15} {'ratio':>6}")
print(f"{'transformer: train 1 epoch (10k sequences)':<44} {ours_train:>8.2f}s {torch_train:>14.2f}s {ours_train / torch_train:>6.2f}")
print(f"{'transformer: layer IG, 1000 sequences, 50 steps':<44} {ours_ig:>8.2f}s {captum_ig:>14.2f}s {ours_ig / captum_ig:>6.2f}   ({captum_name})")
