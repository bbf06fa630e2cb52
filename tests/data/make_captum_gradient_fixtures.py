#!/usr/bin/env python3
"""Fixtures that pin integrad's smoothgrad (all three --noise-type values), deconvolution and
guided_backprop to Captum 0.8's NoiseTunnel(Saliency(abs=False)), Deconvolution and
GuidedBackprop, in float64, on the CNN and MLP of make_captum_perturbation_fixtures.py (read from
tests/data/captum/, not regenerated: run this script again after that one). Needs PyTorch and Captum (not committed; Captum imports
tqdm: Debian's python3-tqdm):

    CAPTUM_PATH=/path/to/captum /usr/bin/python3 make_captum_gradient_fixtures.py

NoiseTunnel draws its noise with torch.normal, which integrad cannot replay; integrad draws its
own (one seeded stream per example). So the noise here is drawn once, saved as
<case>_noise.npy [N, samples, ...] (already scaled by the stdev), and handed to NoiseTunnel in
place of its draw; tests/attribution/test_captum_gradients.cpp gives integrad's smoothgrad the
same noise. What is compared is everything but the draw: the noisy copies, the gradients and the
mean, mean of squares or variance.

Writes tests/data/captum/<case>_attr.npy (and _noise.npy) and gradient_cases.json."""
import json
import os
import sys

import numpy as np
import torch

captum_path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CAPTUM_PATH")
if captum_path:
    sys.path.insert(0, captum_path)
import captum  # noqa: E402
from captum.attr import Deconvolution, GuidedBackprop, NoiseTunnel, Saliency  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_writer import load_safetensors  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "captum")
nn = torch.nn
rng = np.random.default_rng(31)


def load(name, net):
    state, meta = load_safetensors(os.path.join(HERE, f"{name}.safetensors"))
    net = net.double().eval()
    net.load_state_dict(state)
    x = torch.from_numpy(np.load(os.path.join(HERE, f"{name}_input.npy")))
    t = torch.from_numpy(np.load(os.path.join(HERE, f"{name}_target.npy")))
    return net, x, t


# The architectures as make_captum_perturbation_fixtures.py wrote them (checked against the files).
cnn, x_img, t_img = load("cnn", nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(3, 4, 2), nn.Tanh(),
                                              nn.Flatten(), nn.Linear(36, 4)))
mlp, x_tab, t_tab = load("mlp", nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 5), nn.ReLU(), nn.Linear(5, 3)))

cases = []


def record(case, net_name, method, options, attr):
    assert attr.dtype == torch.float64, case
    np.save(os.path.join(HERE, f"{case}_attr.npy"), attr.detach().numpy())
    cases.append({"case": case, "model": net_name, "method": method, "options": options})


class GivenNoise:
    """Replaces NoiseTunnel's torch.normal draw by `noise` [N, samples, ...] while in a `with` block."""

    def __init__(self, noise):
        self.noise = torch.from_numpy(noise)

    def __enter__(self):
        self.saved = NoiseTunnel._add_noise_to_input
        flat = self.noise.reshape((-1,) + tuple(self.noise.shape[2:]))

        def add(input, stdev, nt_samples_partition):
            assert nt_samples_partition == self.noise.shape[1]
            return input.repeat_interleave(nt_samples_partition, dim=0) + flat
        NoiseTunnel._add_noise_to_input = staticmethod(add)

    def __exit__(self, *args):
        NoiseTunnel._add_noise_to_input = self.saved


def smoothgrad_cases(name, net, x, t, samples, stdev):
    noise = stdev * rng.normal(size=(x.shape[0], samples) + tuple(x.shape[1:]))
    np.save(os.path.join(HERE, f"{name}_smoothgrad_noise.npy"), noise)
    for nt_type in ("smoothgrad", "smoothgrad_sq", "vargrad"):
        with GivenNoise(noise):
            a = NoiseTunnel(Saliency(net)).attribute(x, nt_type=nt_type, nt_samples=samples, stdevs=stdev, target=t, abs=False)
        record(f"{name}_{nt_type}", name, "smoothgrad", {"noise-type": nt_type, "samples": str(samples), "stdev": repr(stdev),
                                                         "noise": f"{name}_smoothgrad_noise.npy"}, a)


smoothgrad_cases("cnn", cnn, x_img, t_img, 7, 0.3)
smoothgrad_cases("mlp", mlp, x_tab, t_tab, 5, 0.5)
for name, net, x, t in (("cnn", cnn, x_img, t_img), ("mlp", mlp, x_tab, t_tab)):
    record(f"{name}_deconvolution", name, "deconvolution", {}, Deconvolution(net).attribute(x, target=t))
    record(f"{name}_guided_backprop", name, "guided_backprop", {}, GuidedBackprop(net).attribute(x, target=t))

with open(os.path.join(HERE, "gradient_cases.json"), "w") as f:
    json.dump({"captum_version": captum.__version__, "torch_version": torch.__version__, "cases": cases}, f, indent=1)
    f.write("\n")
print(f"{len(cases)} cases from Captum {captum.__version__} written to", HERE)
