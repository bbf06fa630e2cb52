#!/usr/bin/env python3
"""The PyTorch side of the benchmark (Debian's python3-torch, 2 threads). Prints the same GEMM
and conv figures as integrad_bench, and with --job runs one whole-job workload and exits, so that
compare.sh can time it as a process:
  train-mlp | train-cnn   one epoch of Fashion-MNIST, Adam lr 1e-3, batch 64, no shuffle
  ig                      IG, 50 Gauss-Legendre steps, 100 test images, the CNN (Captum's algorithm;
                          Captum itself is used when importable)
  saliency                |gradient| on the same 100 images
Run with /usr/bin/python3."""
import argparse
import gzip
import time

import numpy as np
import torch

torch.set_num_threads(2)
DATA = "/usr/share/datasets/fashion-mnist"


def idx(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def fashion(train, limit=None):
    p = "train" if train else "t10k"
    x = idx(f"{DATA}/{p}-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28).astype(np.float32) / 255
    y = idx(f"{DATA}/{p}-labels-idx1-ubyte.gz", 8).astype(np.int64)
    return torch.from_numpy(x[:limit]), torch.from_numpy(y[:limit])


def mlp():
    nn = torch.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def cnn():
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(1568, 10))


def train(model):
    x, y = fashion(True)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for i in range(0, len(x), 64):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x[i:i + 64]), y[i:i + 64]).backward()
        opt.step()


def integrated_gradients(model, x, target, n_steps=50):
    try:
        from captum.attr import IntegratedGradients
        return IntegratedGradients(model).attribute(x, target=target, n_steps=n_steps, method="gausslegendre")
    except ImportError:  # Captum's algorithm, as IntegratedGradients._attribute does it
        nodes, weights = np.polynomial.legendre.leggauss(n_steps)
        alphas, steps = 0.5 * (1 + nodes), 0.5 * weights
        base = torch.zeros_like(x)
        scaled = torch.cat([base + float(a) * (x - base) for a in alphas]).requires_grad_()
        out = model(scaled).gather(1, target.repeat(n_steps).unsqueeze(1))
        grads = torch.autograd.grad(out.sum(), scaled)[0]
        total = (grads.view(n_steps, *x.shape) * torch.tensor(steps, dtype=x.dtype).view(n_steps, 1, 1, 1, 1)).sum(0)
        return total * (x - base)


def job(name):
    if name == "train-mlp":
        train(mlp())
    elif name == "train-cnn":
        train(cnn())
    else:
        model = cnn().eval()
        x, _ = fashion(False, 100)
        target = model(x).argmax(1)
        if name == "ig":
            integrated_gradients(model, x, target)
        else:
            x = x.clone().requires_grad_()
            model(x).gather(1, target.unsqueeze(1)).sum().backward()
            x.grad.abs()


def best(fn, repeats):
    t = 1e30
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        t = min(t, time.perf_counter() - t0)
    return t


def kernels():
    print(f"{'workload':<34} {'time (best)':>13} {'throughput':>17}")
    for dtype, name, sizes in [(torch.float32, "sgemm", [256, 512, 1024]), (torch.float64, "dgemm", [256, 512])]:
        for s in sizes:
            a, b = torch.rand(s, s, dtype=dtype), torch.rand(s, s, dtype=dtype)
            t = best(lambda: torch.mm(a, b), 5 if s >= 1024 else 20)
            print(f"{name + f' {s}x{s}x{s}':<34} {t * 1e3:>10.3f} ms {2 * s ** 3 / t * 1e-9:>9.1f} GFLOP/s")
    for c, o, hw in [(1, 16, 28), (16, 32, 14)]:
        x, conv = torch.rand(64, c, hw, hw, requires_grad=True), torch.nn.Conv2d(c, o, 3, padding=1, bias=False)
        t = best(lambda: conv(x).sum().backward(), 10)
        print(f"{f'conv2d fwd+bwd 64x{c}->{o} {hw}x{hw}':<34} {t * 1e3:>10.3f} ms {6 * 64 * o * c * 9 * hw * hw / t * 1e-9:>9.1f} GFLOP/s")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--job")
    args = ap.parse_args()
    job(args.job) if args.job else kernels()
