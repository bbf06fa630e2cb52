#!/usr/bin/env python3
"""The PyTorch/Captum side of the benchmark (Debian's python3-torch 1.13, BENCH_THREADS threads,
default 2; Captum 0.8
from CAPTUM_PATH or PYTHONPATH). Run with /usr/bin/python3.

  bench_torch.py                 GEMM and conv figures, as integrad_bench prints them
  bench_torch.py peak            the best float32 torch.mm rate (GFLOP/s)
  bench_torch.py job NAME ...    one workload of tools/bench/compare.py, timed in-process: torch,
                                 Captum, the model (integrad's safetensors, read by the loader below)
                                 and the data are loaded before the clock starts; prints compute_s.

Jobs (the integrad side is `integrad_bench job`, same arguments):
  ig MODEL X                 Captum IntegratedGradients, 50 Gauss-Legendre steps,
                             internal_batch_size = number of images (one step of all per pass)
  saliency MODEL X           Captum Saliency (abs=True), 1000 images per call
  occlusion MODEL X          Captum Occlusion, window (1,4,4), strides (1,2,2), perturbations_per_eval=16
  blur-ig MODEL X            PAIR saliency's BlurIG (saliency/core/blur_ig.py from SALIENCY_SRC), max_sigma 50,
                             100 steps, per image, batch_size 100 (all of an image's steps in one
                             PyTorch pass; PAIR's default of 1 would make 100 passes an image)
  kernelshap MODEL X MASK    Captum KernelShap, n_samples=200, perturbations_per_eval=50, per image
  deletion MODEL X ATTR      the deletion metric (20 steps, zero baseline, softmax probability of the
                             target, trapezoid area), written here in PyTorch, 50 images per pass
  sensitivity MODEL X ATTR   Captum sensitivity_max of IG (50 GL steps), 10 samples, radius 0.02
  gradcam RESNET X           Captum LayerGradCam at layer2[0] (integrad's layer2.0.relu2), then
                             LayerAttribution.interpolate to 28x28 bilinear, 512 images per call
                             (integrad's chunk); RESNET is an `--arch resnet` model
  lrp RESNET X               Zennit 0.5.1 (ZENNIT_PATH) EpsilonPlusFlat with ResNetCanonizer, the
                             Gradient attributor with one-hot targets, 512 images per call
  ig-resnet RESNET X         as ig, on an `--arch resnet` model
  forward-resnet RESNET X    the model in eval mode under no_grad, in parts of 256 images
  predict1 MODEL X           model(x[i:i+1]) for every image, no_grad
  train-mlp | train-cnn DIR  one epoch of Fashion-MNIST, Adam lr 1e-3, batch 64, no shuffle
  train-resnet DIR           the same on the first 20,000 images, `--arch resnet` in train mode
Targets are the predicted classes, resolved before the clock."""
import gzip
import os
import sys
import time

import numpy as np
import torch

torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "data"))
from safetensors_writer import load_safetensors  # noqa: E402  (the fixture scripts' reader)
from torch_models import ResNet  # noqa: E402  (`--arch resnet` as torchvision BasicBlocks)

if os.environ.get("CAPTUM_PATH"):
    sys.path.insert(0, os.environ["CAPTUM_PATH"])


def idx(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def fashion(directory, train):
    p = "train" if train else "t10k"
    x = idx(f"{directory}/{p}-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28).astype(np.float32) / 255
    y = idx(f"{directory}/{p}-labels-idx1-ubyte.gz", 8).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


def mlp():
    nn = torch.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def cnn():
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(1568, 10))


def load_resnet(path):
    """integrad's `--arch resnet` as torchvision BasicBlocks (the same state_dict names)."""
    model = ResNet()
    model.load_state_dict(load_safetensors(path)[0])
    return model.eval()


def load_cnn(path):
    model = cnn()
    model.load_state_dict(load_safetensors(path)[0])  # integrad names tensors as Sequential's state_dict does
    return model.eval()


def train(model, directory, limit=None):
    x, y = fashion(directory, True)
    x, y = x[:limit], y[:limit]
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    t0 = time.perf_counter()
    for i in range(0, len(x), 64):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x[i:i + 64]), y[i:i + 64]).backward()
        opt.step()
    return time.perf_counter() - t0


def deletion(model, x, attributions, target, steps=20, per_pass=50):
    """Deletion (Petsiuk et al.) as integrad computes it: for k = 0..K, the top round(k·D/K)
    features by attribution (stable order, descending) set to the zero baseline; the target's
    softmax probability at each k; the score is the trapezoid area over k/K."""
    n, d = x.shape[0], x[0].numel()
    flat_x, flat_a = x.reshape(n, d), attributions.reshape(n, d)
    tops = torch.tensor([round(k * d / steps) for k in range(steps + 1)])
    scores = []
    with torch.no_grad():
        for s in range(0, n, per_pass):
            xs, a_s, ts = flat_x[s:s + per_pass], flat_a[s:s + per_pass], target[s:s + per_pass]
            b = xs.shape[0]
            order = torch.argsort(-a_s, dim=1, stable=True)
            rank = torch.empty_like(order)
            rank.scatter_(1, order, torch.arange(d).expand(b, d))
            keep = rank.unsqueeze(1) >= tops.view(1, -1, 1)  # [b, K+1, d]: still present at step k
            batch = (xs.unsqueeze(1) * keep).reshape(b * (steps + 1), *x.shape[1:])
            p = torch.softmax(model(batch), dim=1).reshape(b, steps + 1, -1)
            p = p.gather(2, ts.view(b, 1, 1).expand(b, steps + 1, 1)).squeeze(2)
            scores.append(torch.trapz(p, dx=1.0 / steps, dim=1))
    return torch.cat(scores)


def job(name, args):
    if name in ("train-mlp", "train-cnn"):
        return train(mlp() if name == "train-mlp" else cnn(), args[0])
    if name == "train-resnet":
        return train(ResNet().train(), args[0], 20000)
    from captum.attr import IntegratedGradients, KernelShap, Occlusion, Saliency
    model = load_resnet(args[0]) if name in ("gradcam", "lrp", "ig-resnet", "forward-resnet") else load_cnn(args[0])
    x = torch.from_numpy(np.load(args[1]))
    with torch.no_grad():
        target = model(x).argmax(1)
    if name in ("ig", "ig-resnet"):
        t0 = time.perf_counter()
        IntegratedGradients(model).attribute(x, target=target, n_steps=50, method="gausslegendre", internal_batch_size=len(x))
    elif name == "saliency":
        t0 = time.perf_counter()
        for s in range(0, len(x), 1000):
            Saliency(model).attribute(x[s:s + 1000], target=target[s:s + 1000], abs=True)
    elif name == "occlusion":
        t0 = time.perf_counter()
        Occlusion(model).attribute(x, sliding_window_shapes=(1, 4, 4), strides=(1, 2, 2), target=target, baselines=0, perturbations_per_eval=16)
    elif name == "blur-ig":
        import importlib
        import types
        core = types.ModuleType("pair_saliency_core")
        core.__path__ = [os.path.join(os.environ["SALIENCY_SRC"], "saliency", "core")]
        sys.modules["pair_saliency_core"] = core
        blur_ig = importlib.import_module("pair_saliency_core.blur_ig")

        def gradients(t):
            def call(batch, call_model_args=None, expected_keys=None):
                b = torch.from_numpy(np.ascontiguousarray(batch)).permute(0, 3, 1, 2).requires_grad_(True)
                model(b)[:, t].sum().backward()
                return {"INPUT_OUTPUT_GRADIENTS": b.grad.permute(0, 2, 3, 1).numpy()}
            return call
        images = [np.ascontiguousarray(x[i].numpy().transpose(1, 2, 0)) for i in range(len(x))]
        t0 = time.perf_counter()
        for i in range(len(x)):
            blur_ig.BlurIG().GetMask(images[i], gradients(int(target[i])), max_sigma=50, steps=100, batch_size=100)
    elif name == "kernelshap":
        mask = torch.from_numpy(np.load(args[2])).reshape(1, 1, 28, 28)
        ks = KernelShap(model)
        t0 = time.perf_counter()
        for i in range(len(x)):
            ks.attribute(x[i:i + 1], target=int(target[i]), baselines=0, feature_mask=mask, n_samples=200, perturbations_per_eval=50)
    elif name == "deletion":
        a = torch.from_numpy(np.load(args[2]))
        t0 = time.perf_counter()
        deletion(model, x, a, target)
    elif name == "sensitivity":
        from captum.metrics import sensitivity_max
        ig = IntegratedGradients(model)
        t0 = time.perf_counter()
        sensitivity_max(ig.attribute, x, n_perturb_samples=10, max_examples_per_batch=100, target=target, n_steps=50, method="gausslegendre")
    elif name == "gradcam":
        from captum.attr import LayerAttribution, LayerGradCam
        gc = LayerGradCam(model, model.layer2[0])
        t0 = time.perf_counter()
        for s in range(0, len(x), 512):
            cam = gc.attribute(x[s:s + 512], target=target[s:s + 512], relu_attributions=True)
            LayerAttribution.interpolate(cam, (28, 28), "bilinear")
    elif name == "lrp":
        if os.environ.get("ZENNIT_PATH"):
            sys.path.insert(0, os.environ["ZENNIT_PATH"])
        from zennit.attribution import Gradient
        from zennit.composites import EpsilonPlusFlat
        from zennit.torchvision import ResNetCanonizer
        t0 = time.perf_counter()
        with Gradient(model=model, composite=EpsilonPlusFlat(canonizers=[ResNetCanonizer()])) as attributor:
            for s in range(0, len(x), 512):
                attributor(x[s:s + 512], torch.nn.functional.one_hot(target[s:s + 512], 10).to(x.dtype))
    elif name == "forward-resnet":  # in parts of 256, integrad's predict batch
        t0 = time.perf_counter()
        with torch.no_grad():
            for s in range(0, len(x), 256):
                model(x[s:s + 256])
    elif name == "predict1":
        t0 = time.perf_counter()
        with torch.no_grad():
            for i in range(len(x)):
                model(x[i:i + 1])
    else:
        raise SystemExit(f"unknown job {name}")
    return time.perf_counter() - t0


def best(fn, repeats):
    t = 1e30
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        t = min(t, time.perf_counter() - t0)
    return t


def peak():
    rate = 0
    for s in (1024, 2048):
        a, b = torch.rand(s, s), torch.rand(s, s)
        rate = max(rate, 2 * s ** 3 / best(lambda: torch.mm(a, b), 5) * 1e-9)
    print(f"sgemm_peak_gflops {rate:.1f}")


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
    if len(sys.argv) >= 3 and sys.argv[1] == "job":
        seconds = job(sys.argv[2], sys.argv[3:])
        import resource
        print(f"compute_s {seconds:.4f}\npeak_mib {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
    elif len(sys.argv) >= 2 and sys.argv[1] == "peak":
        peak()
    else:
        kernels()
