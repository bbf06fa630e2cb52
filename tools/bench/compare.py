#!/usr/bin/env python3
"""integrad against PyTorch/Captum, each workload timed the same way on both sides.

  compute  in-process: model, data and given inputs loaded first, then the clock
           (integrad: `build/integrad_bench job ...`; PyTorch/Captum: `bench_torch.py job ...`)
  job      the whole process, start-up and loading included (integrad: the CLI command a user
           runs; PyTorch: the same bench_torch.py process, `import torch` and Captum included)

Both sides use the same trained CNN (integrad trains it; bench_torch.py reads its safetensors), the
same images and the same targets (the predicted classes). For each workload: the FLOP count,
estimated from the architecture (a multiply-add is 2 FLOP), and the fraction of this machine's
float32 GEMM peak (integrad_bench peak) that integrad's compute time reaches.
Run: python3 tools/bench/compare.py [--captum PATH] [--only ig,saliency,...] [--repeats N]
(blur-ig's reference is PAIR saliency's BlurIG: set SALIENCY_SRC to the directory holding `saliency`;
lrp's is Zennit 0.5.1: set ZENNIT_PATH to its `src` directory)
Needs a build (cmake --build build --target integrad integrad_bench) and Fashion-MNIST."""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, "build", "integrad")
BENCH = os.path.join(ROOT, "build", "integrad_bench")
TORCH = os.path.join(ROOT, "tools", "bench", "bench_torch.py")
DATA = "/usr/share/datasets/fashion-mnist"

# Multiply-adds per image of the CNN (Conv2d(1,16,3,p=1) 28x28, Conv2d(16,32,3,p=1) 14x14,
# Linear(1568,10)) and of the MLP (784-256-128-10).
CNN_CONV1, CNN_CONV2, CNN_FC = 16 * 1 * 9 * 28 * 28, 32 * 16 * 9 * 14 * 14, 1568 * 10
CNN_FWD = CNN_CONV1 + CNN_CONV2 + CNN_FC                  # 1.03 M
CNN_FWD_BWD_INPUT = 2 * CNN_FWD                           # forward, then dX through every layer
CNN_TRAIN = CNN_FWD + CNN_FWD + (CNN_CONV2 + CNN_FC)      # forward, dW, dX (not into the image)
MLP_FWD = 784 * 256 + 256 * 128 + 128 * 10
MLP_TRAIN = 2 * MLP_FWD + (256 * 128 + 128 * 10)
# `--arch resnet`: the stem, layer1's two 16-channel convolutions at 28x28, layer2's at 14x14 and
# its 1x1 downsample, the Linear.
RESNET_FWD = 16 * 9 * 784 + 2 * 16 * 16 * 9 * 784 + (32 * 16 * 9 + 32 * 32 * 9 + 32 * 16) * 196 + 32 * 10
OCCLUSION_WINDOWS = ((28 - 4) // 2 + 1) ** 2              # 13 x 13 positions of a 4x4 window, stride 2

# name: (label, integrad CLI arguments, FLOP, target ratio)
def workloads(w):
    return {
        "ig": ("IG, 50 GL steps, 1,000 images", ["explain", w["cnn"], w["x1000"], "-o", w["out"]],
               2 * 1000 * (50 * CNN_FWD_BWD_INPUT + 2 * CNN_FWD), 0.2),
        "saliency": ("saliency, 10,000 images", ["explain", w["cnn"], w["x10000"], "-o", w["out"], "--method", "saliency"],
                     2 * 10000 * CNN_FWD_BWD_INPUT, 0.5),
        "train-mlp": ("train `mlp`, 1 epoch (60,000)", ["train", "--arch", "mlp", "--data", "fashion-mnist", "--epochs", "1", "--no-shuffle", "-q",
                                                        "--val-limit", "1", "-o", w["model_out"]], 2 * 60000 * MLP_TRAIN, 0.3),
        "train-cnn": ("train `cnn`, 1 epoch (60,000)", ["train", "--arch", "cnn", "--data", "fashion-mnist", "--epochs", "1", "--no-shuffle", "-q",
                                                        "--val-limit", "1", "-o", w["model_out"]], 2 * 60000 * CNN_TRAIN, 0.3),
        "occlusion": ("occlusion 1,4,4 / 1,2,2, 100 images", ["explain", w["cnn"], w["x100"], "-o", w["out"], "--method", "occlusion", "--window", "1,4,4",
                                                             "--stride", "1,2,2"], 2 * 100 * (OCCLUSION_WINDOWS + 1) * CNN_FWD, 0.2),
        "blur-ig": ("blur-ig, max σ 50, 100 steps, 100 images", ["explain", w["cnn"], w["x100"], "-o", w["out"], "--method", "blur-ig",
                                                                 "--max-sigma", "50", "--steps", "100"], 2 * 100 * 100 * CNN_FWD_BWD_INPUT, 0.2),
        "kernelshap": ("kernelshap 200 samples, 7×7 patches, 100 images", ["explain", w["cnn"], w["x100"], "-o", w["out"], "--method", "kernelshap",
                                                                          "--samples", "200", "--feature-mask", w["mask"]], 2 * 100 * 202 * CNN_FWD, 0.1),
        "deletion": ("deletion, 20 steps, 1,000 images", ["evaluate", w["cnn"], w["x1000"], "--attributions", w["sal1000"], "--metric", "deletion",
                                                          "--steps", "20", "-o", w["out"]], 2 * 1000 * 21 * CNN_FWD, 0.2),
        "sensitivity": ("sensitivity-max of IG, 10 samples, 100 images", ["evaluate", w["cnn"], w["x100"], "--attributions", w["ig100"], "--metric",
                                                                          "sensitivity-max", "--samples", "10", "-o", w["out"]],
                        2 * 100 * 10 * (50 * CNN_FWD_BWD_INPUT + 2 * CNN_FWD), 0.2),
        "gradcam": ("Grad-CAM at layer2.0, `resnet`, 10,000 images", ["explain", w["resnet"], w["x10000"], "-o", w["out"], "--method", "gradcam",
                                                                    "--layer", "layer2.0.relu2"], 2 * 10000 * RESNET_FWD, 0.5),
        "lrp": ("LRP epsilon-plus-flat, `resnet`, 1,000 images", ["explain", w["resnet"], w["x1000"], "-o", w["out"], "--method", "lrp",
                                                                 "--composite", "epsilon-plus-flat"], 2 * 1000 * 5 * RESNET_FWD, 0.3),
        "ig-resnet": ("IG, 50 GL steps, 1,000 images, `resnet`", ["explain", w["resnet"], w["x1000"], "-o", w["out"]],
                      2 * 1000 * (50 * 2 * RESNET_FWD + 2 * RESNET_FWD), 0.25),
        "train-resnet": ("train `resnet`, 1 epoch (20,000)", ["train", "--arch", "resnet", "--data", "fashion-mnist", "--limit", "20000", "--epochs", "1",
                                                              "--no-shuffle", "-q", "--val-limit", "1", "-o", w["model_out"]], 2 * 20000 * 3 * RESNET_FWD, 0.5),
        "predict1": ("predict, batch size 1, 1,000 images", ["predict", w["cnn"], w["x1000"], "--batch-size", "1", "-o", w["out"]],
                     2 * 1000 * CNN_FWD, None),
    }


def job_args(name, w):
    if name.startswith("train-"):
        return [DATA]
    x = w["x10000"] if name in ("saliency", "gradcam") else w["x1000"] if name in ("ig", "deletion", "predict1", "lrp", "ig-resnet") else w["x100"]
    extra = {"kernelshap": [w["mask"]], "deletion": [w["sal1000"]], "sensitivity": [w["ig100"]]}.get(name, [])
    return [w["resnet"] if name in ("gradcam", "lrp", "ig-resnet") else w["cnn"], x] + extra


def run(cmd, env=None):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{p.stderr[-2000:]}")
    return wall, p.stdout


def compute_seconds(out):
    return float(re.search(r"compute_s ([0-9.]+)", out).group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--captum", default=os.environ.get("CAPTUM_PATH", "/work/captum"))
    ap.add_argument("--only", default="")
    ap.add_argument("--repeats", type=int, default=1, help="N runs of each side, back to back; the median of each is reported")
    ap.add_argument("--threads", type=int, default=2, help="OpenMP threads of integrad and torch.set_num_threads (both sides alike)")
    args = ap.parse_args()
    env = dict(os.environ, CAPTUM_PATH=args.captum, OMP_NUM_THREADS=str(args.threads), BENCH_THREADS=str(args.threads),
               OPENBLAS_NUM_THREADS=str(args.threads))
    print(f"{args.threads} thread(s) on each side", flush=True)
    with open("/proc/loadavg") as f:
        print(f"load average before: {f.read().split()[0:3]}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        w = {k: os.path.join(tmp, v) for k, v in {"cnn": "cnn.safetensors", "x100": "x100.npy", "x1000": "x1000.npy", "x10000": "x10000.npy",
                                                 "mask": "mask.npy", "sal1000": "sal1000.npy", "ig100": "ig100.npy", "out": "out.npy",
                                                 "model_out": "m.safetensors", "resnet": "resnet.safetensors"}.items()}
        run([BIN, "train", "--arch", "cnn", "--data", "fashion-mnist", "--epochs", "1", "-q", "-o", w["cnn"]], env)
        if not args.only or {"gradcam", "lrp", "ig-resnet"} & set(args.only.split(",")):
            run([BIN, "train", "--arch", "resnet", "--data", "fashion-mnist", "--limit", "2000", "--epochs", "1", "-q", "-o", w["resnet"]], env)
        for n in (100, 1000, 10000):
            run([BIN, "dataset", "--data", "fashion-mnist", "--limit", str(n), "-o", w[f"x{n}"]], env)
        # A 7x7 grid of 4x4 patches: ids 0..48.
        import struct
        d = "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 28, 28), }"
        d += " " * ((64 - (10 + len(d) + 1) % 64) % 64) + "\n"
        ids = [(r // 4) * 7 + c // 4 for r in range(28) for c in range(28)]
        with open(w["mask"], "wb") as f:
            f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(d)) + d.encode() + struct.pack(f"<{len(ids)}q", *ids))
        run([BIN, "explain", w["cnn"], w["x1000"], "-o", w["sal1000"], "--method", "saliency"], env)
        run([BIN, "explain", w["cnn"], w["x100"], "-o", w["ig100"]], env)

        ours_peak = max(float(re.search(r"sgemm_peak_gflops ([0-9.]+)", run([BENCH, "peak"], env)[1]).group(1)) for _ in range(2))
        torch_peak = float(re.search(r"sgemm_peak_gflops ([0-9.]+)", run(["/usr/bin/python3", TORCH, "peak"], env)[1]).group(1))
        print(f"float32 GEMM peak: integrad {ours_peak:.0f} GFLOP/s, torch.mm {torch_peak:.0f} GFLOP/s", flush=True)

        rows = []
        names = [n for n in workloads(w) if not args.only or n in args.only.split(",")]
        for name in names:
            label, cli, flop, target = workloads(w)[name]
            # The two sides back to back in each repeat, the median of each side: on a shared
            # machine load comes and goes, and both sides then meet about the same.
            ours_runs, theirs_runs = [], []
            for _ in range(args.repeats):
                ours_runs.append(compute_seconds(run([BENCH, "job", name] + job_args(name, w), env)[1]))
                theirs_runs.append(run(["/usr/bin/python3", TORCH, "job", name] + job_args(name, w), env))
            ours = statistics.median(ours_runs)
            theirs = statistics.median(compute_seconds(o) for _, o in theirs_runs)
            ours_job = statistics.median(run([BIN] + cli, env)[0] for _ in range(args.repeats))
            theirs_job = statistics.median(t for t, _ in theirs_runs)
            ratio = ours / theirs
            rows.append((label, flop, ours, theirs, ratio, target, ours_job, theirs_job, flop / ours / (ours_peak * 1e9)))
            print(f"{label}: integrad {ours:.3f} s, torch/Captum {theirs:.3f} s, ratio {ratio:.3f}; jobs {ours_job:.2f} s / {theirs_job:.2f} s",
                  flush=True)
    with open("/proc/loadavg") as f:
        print(f"load average after: {f.read().split()[0:3]}")
    print()
    print("| workload | GFLOP | integrad compute (s) | PyTorch/Captum compute (s) | ratio | target | held | % of GEMM peak | integrad job (s) | PyTorch job (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, flop, ours, theirs, ratio, target, ours_job, theirs_job, frac in rows:
        held = "—" if target is None else ("yes" if ratio <= target else "**no**")
        tgt = "—" if target is None else f"≤ {target}"
        print(f"| {label} | {flop / 1e9:.1f} | {ours:.3f} | {theirs:.3f} | {ratio:.3f} | {tgt} | {held} | {100 * frac:.0f}% | {ours_job:.2f} | {theirs_job:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
