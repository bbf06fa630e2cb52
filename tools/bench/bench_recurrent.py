#!/usr/bin/env python3
"""Layer IG at the embedding of a recurrent text classifier, integrad against Captum, 2 threads
each: Embedding(32, 32) -> LSTM(32, 64, batch_first=True) (or GRU) -> last step -> Linear(64, 2),
1,000 sequences of 40 tokens, 50 Gauss-Legendre steps, baseline token 0, internal batch 512, the
predicted class as target. Both sides use the same weights (PyTorch's initialisation, seed 0,
exported to a safetensors model file) and the same tokens. integrad is timed as a process
(`integrad explain`, start-up and file I/O included), Captum in-process; each the best of
--repeats runs. The per-token attributions (sums over the embedding dimension) of both are
compared. When Captum cannot be imported, PyTorch autograd runs the same IG loop by hand (the
same path points and weights, one backward per chunk) and the row says so.
  /usr/bin/python3 tools/bench/bench_recurrent.py BUILD_DIR [--cell lstm|gru] [--repeats 3] [--threads 2] [--captum PATH]"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

parser = argparse.ArgumentParser()
parser.add_argument("build", nargs="?", default="build")
parser.add_argument("--cell", choices=["lstm", "gru"], default="lstm")
parser.add_argument("--repeats", type=int, default=3)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--captum", default=os.environ.get("CAPTUM_PATH", "/work/ref/captum"))
args = parser.parse_args()
sys.path.insert(0, args.captum)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "data"))
from safetensors_writer import save_safetensors  # noqa: E402  (the fixture scripts' writer)
torch.set_num_threads(args.threads)
env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
work = tempfile.mkdtemp()
V, D, H, L, N, STEPS, CHUNK = 32, 32, 64, 40, 1000, 50, 512
nn = torch.nn


class Last(nn.Module):
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        return self.rnn(x)[0][:, -1]


torch.manual_seed(0)
rnn = (nn.LSTM if args.cell == "lstm" else nn.GRU)(D, H, batch_first=True)
model = nn.Sequential(nn.Embedding(V, D), Last(rnn), nn.Linear(H, 2)).eval()
tokens = torch.randint(1, V, (N, L))

# The same weights in integrad's model file: layers are numbered as in its chain
# (Embedding; LSTM; Select(1, -1); Linear), so the Linear is layer 3.
state = {k.replace("1.rnn.", "1.").replace("2.", "3."): v for k, v in model.state_dict().items()}
cell = args.cell.upper()
meta = {"architecture": f"Embedding({V}, {D}); {cell}({D}, {H}, batch_first=True); Select(1, -1); Linear({H}, 2)",
        "input_shape": str(L), "input_dtype": "int64"}
save_safetensors(f"{work}/m.safetensors", state, meta, torch.float32)
np.save(f"{work}/t.npy", tokens.numpy().astype(np.int64))


def cpu_seconds():
    """This process's and its finished children's CPU time (user + system)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def best_of(fn):
    """The best wall-clock time of --repeats runs, and the CPU time of that run: on a machine
    shared with other work the wall clock measures the others too, CPU time much less so (with
    --threads 1 the two agree on an idle machine)."""
    best, best_cpu = float("inf"), float("inf")
    for _ in range(args.repeats):
        start, start_cpu = time.perf_counter(), cpu_seconds()
        out = fn()
        wall, cpu = time.perf_counter() - start, cpu_seconds() - start_cpu
        if wall < best:
            best, best_cpu = wall, cpu
    return best, best_cpu, out


def ours():
    subprocess.run([os.path.join(args.build, "integrad"), "explain", f"{work}/m.safetensors", f"{work}/t.npy", "--method", "ig", "--layer", "0",
                    "--baseline", "0", "--steps", str(STEPS), "--batch-size", str(CHUNK), "-o", f"{work}/a.npy"],
                   check=True, stdout=subprocess.DEVNULL, env=env)
    return np.load(f"{work}/a.npy")


def by_hand():
    """IG at the embedding's output with PyTorch autograd: Gauss-Legendre points on [0, 1],
    chunks of CHUNK path points, the gradient of the target logit summed with the weights."""
    x_nodes, w_nodes = np.polynomial.legendre.leggauss(STEPS)
    alphas, weights = (x_nodes + 1) / 2, w_nodes / 2
    with torch.no_grad():
        emb = model[0](tokens)
        base = model[0](torch.zeros_like(tokens))
        target = model(tokens).argmax(1)
    total = torch.zeros_like(emb)
    rows = [(i, k) for i in range(N) for k in range(STEPS)]
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        ex = torch.tensor([i for i, _ in chunk])
        a = torch.tensor([alphas[k] for _, k in chunk], dtype=torch.float32)[:, None, None]
        w = torch.tensor([weights[k] for _, k in chunk], dtype=torch.float32)[:, None, None]
        point = (base[ex] + a * (emb[ex] - base[ex])).requires_grad_(True)
        logits = model[2](model[1](point))
        (grad,) = torch.autograd.grad(logits.gather(1, target[ex][:, None]).sum(), point)
        total.index_add_(0, ex, w * grad)
    return (total * (emb - base)).sum(-1).detach().numpy()


try:
    from captum.attr import LayerIntegratedGradients

    def theirs():
        lig = LayerIntegratedGradients(model, model[0])
        target = model(tokens).argmax(1)
        a = lig.attribute(tokens, baselines=torch.zeros_like(tokens), target=target, n_steps=STEPS, method="gausslegendre", internal_batch_size=CHUNK)
        return a.sum(-1).detach().numpy()
    name = "Captum 0.8 LayerIntegratedGradients"
except ImportError:
    theirs, name = by_hand, "PyTorch autograd by hand (Captum not importable)"

t_ours, cpu_ours, a_ours = best_of(ours)
t_theirs, cpu_theirs, a_theirs = best_of(theirs)
if a_ours.shape != a_theirs.shape:  # integrad writes [N, L, D] at an embedding unless asked for per-token totals
    a_ours = a_ours.reshape(a_theirs.shape + (-1,)).sum(-1)
diff = np.abs(a_ours - a_theirs).max() / max(1e-12, np.abs(a_theirs).max())
print(f"{args.cell}: layer IG at the embedding, {N} sequences of {L} tokens, {cell}({D} -> {H}), {args.threads} threads; reference: {name}")
print(f"{'':<10} {'integrad':>9} {'reference':>10} {'ratio':>6}")
print(f"{'wall':<10} {t_ours:>8.2f}s {t_theirs:>9.2f}s {t_ours / t_theirs:>6.3f}")
print(f"{'CPU':<10} {cpu_ours:>8.2f}s {cpu_theirs:>9.2f}s {cpu_ours / cpu_theirs:>6.3f}")
print(f"per-token attributions differ by {diff:.1e} of the largest")
