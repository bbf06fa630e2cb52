#!/usr/bin/env python3
"""integrad on an ONNX file against onnxruntime and PyTorch (issue 25's speed targets).

The model is `--arch resnet` trained one epoch on 2,000 Fashion-MNIST images by integrad, loaded
into the PyTorch twin (tests/data/torch_models.py) and exported by torch.onnx.export (opset 17,
eval mode, so the exporter folds BatchNorm into the convolutions; dynamic batch). Workloads, each
side timed in-process (model and images loaded before the clock):

  forward  10,000 test images: integrad (`integrad_bench job forward resnet.onnx`), onnxruntime-node
           (tools/bench/bench_ort.js, the same file) and PyTorch on the original module (no_grad),
           all in parts of 256 images. Targets: ≤ 1.5× onnxruntime, and ahead of PyTorch.
  ig       IG, 50 Gauss-Legendre steps, 1,000 images, the predicted classes: integrad on the ONNX
           file against Captum on the PyTorch original (bench_torch.py job ig-resnet). Target
           ≤ 0.25× Captum.

Each row is the median of --repeats runs, the sides back to back in each run.
  /usr/bin/python3 tools/bench/bench_onnx.py [--repeats 3] [--threads 2] [--captum PATH]
Needs a build (integrad, integrad_bench), Fashion-MNIST and, for the onnxruntime column,
tools/install_onnxruntime.sh."""
import argparse
import os
import shutil
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "data"))
from compare import BENCH, BIN, RESNET_FWD, TORCH, compute_seconds, run  # noqa: E402
ORT = os.path.join(HERE, "bench_ort.js")


def export_onnx(resnet, path):
    """The PyTorch twin of an integrad ResNet file, exported as torch 1.13 does for a user."""
    import torch
    from safetensors_writer import load_safetensors
    from torch_models import ResNet
    model = ResNet()
    model.load_state_dict(load_safetensors(resnet)[0])
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=17)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--captum", default=os.environ.get("CAPTUM_PATH", "/work/ref/captum"))
    args = ap.parse_args()
    if args.repeats < 1 or args.threads < 1:
        raise SystemExit("--repeats and --threads must be at least 1")
    env = dict(os.environ, CAPTUM_PATH=args.captum, OMP_NUM_THREADS=str(args.threads), BENCH_THREADS=str(args.threads),
               OPENBLAS_NUM_THREADS=str(args.threads))
    have_ort = shutil.which("node") and os.path.isdir(os.path.join(HERE, "..", "..", "tests", "onnx_runtime", "node_modules", "onnxruntime-node"))
    with open("/proc/loadavg") as f:
        print(f"{args.threads} thread(s) a side; load average before: {f.read().split()[0:3]}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        resnet, onnx = os.path.join(tmp, "resnet.safetensors"), os.path.join(tmp, "resnet.onnx")
        x = {n: os.path.join(tmp, f"x{n}.npy") for n in (1000, 10000)}
        run([BIN, "train", "--arch", "resnet", "--data", "fashion-mnist", "--limit", "2000", "--epochs", "1", "-q", "-o", resnet], env)
        for n, path in x.items():
            run([BIN, "dataset", "--data", "fashion-mnist", "--split", "test", "--limit", str(n), "-o", path], env)
        export_onnx(resnet, onnx)

        sides = {
            "forward": [("integrad", [BENCH, "job", "forward", onnx, x[10000]]),
                        ("onnxruntime", ["node", ORT, onnx, x[10000], str(args.threads)] if have_ort else None),
                        ("PyTorch", ["/usr/bin/python3", TORCH, "job", "forward-resnet", resnet, x[10000]])],
            "ig": [("integrad", [BENCH, "job", "ig-resnet", onnx, x[1000]]),
                   ("Captum", ["/usr/bin/python3", TORCH, "job", "ig-resnet", resnet, x[1000]])],
        }
        flop = {"forward": 2 * 10000 * RESNET_FWD, "ig": 2 * 1000 * (50 * 2 * RESNET_FWD + 2 * RESNET_FWD)}
        print("| workload | GFLOP | " + " | ".join(["side", "compute (s)", "runs (s)"]) + " |")
        for name, entries in sides.items():
            times = {}
            for _ in range(args.repeats):
                for side, cmd in entries:
                    if cmd:
                        times.setdefault(side, []).append(compute_seconds(run(cmd, env)[1]))
            ours = statistics.median(times["integrad"])
            for side, runs in times.items():
                m = statistics.median(runs)
                ratio = "" if side == "integrad" else f" (integrad {ours / m:.2f}×)"
                print(f"| {name} | {flop[name] / 1e9:.1f} | {side} | {m:.3f}{ratio} | {', '.join(f'{t:.3f}' for t in runs)} |", flush=True)
            if "onnxruntime" not in times and name == "forward":
                print("| forward | | onnxruntime | not installed (tools/install_onnxruntime.sh) | |")


if __name__ == "__main__":
    main()
