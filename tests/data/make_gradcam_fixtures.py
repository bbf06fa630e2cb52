#!/usr/bin/env python3
"""Fixtures that pin integrad's gradcam and guided-gradcam to Captum 0.8's LayerGradCam (followed
by LayerAttribution.interpolate) and GuidedGradCam, in float64, on two models built here:

- cnn: a chain like `--arch cnn` (two 3x3 convolutions with ReLU and 2x2 max pooling, a Linear),
  with 2 input channels so that Guided Grad-CAM's map multiplies every channel, on 12x12 inputs;
- resnet: `--arch resnet`'s graph exactly (torchvision's BasicBlock, BatchNorm in eval mode with
  random running statistics), on 13x13 inputs so that layer2's 7x7 map is upsampled by a
  non-integer factor.

Needs PyTorch, torchvision and Captum (not committed; Captum imports tqdm: python3-tqdm):

    CAPTUM_PATH=/path/to/captum-0.8 /usr/bin/python3 make_gradcam_fixtures.py

Writes tests/data/gradcam/: the models (safetensors, F64), inputs, targets, <case>_attr.npy and
cases.json (case, model, method, options as integrad's explain takes them)."""
import json
import os
import sys

import numpy as np
import torch

captum_path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CAPTUM_PATH")
if captum_path:
    sys.path.insert(0, captum_path)
import captum  # noqa: E402
from captum.attr import GuidedGradCam, LayerAttribution, LayerGradCam  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_writer import save_safetensors  # noqa: E402
from torch_models import ResNet  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gradcam")
os.makedirs(HERE, exist_ok=True)
torch.manual_seed(26)
nn = torch.nn


def block(at, inp, in_ch, out_ch, stride):
    s = (f"{at}.conv1 = Conv2d({in_ch}, {out_ch}, 3{', stride=%d' % stride if stride != 1 else ''}, padding=1, bias=False)({inp})\n"
         f"{at}.bn1 = BatchNorm2d({out_ch})\n{at}.relu = ReLU()\n"
         f"{at}.conv2 = Conv2d({out_ch}, {out_ch}, 3, padding=1, bias=False)\n{at}.bn2 = BatchNorm2d({out_ch})\n")
    shortcut = inp
    if stride != 1 or in_ch != out_ch:
        s += f"{at}.downsample.0 = Conv2d({in_ch}, {out_ch}, 1, stride={stride}, bias=False)({inp})\n{at}.downsample.1 = BatchNorm2d({out_ch})\n"
        shortcut = f"{at}.downsample.1"
    return s + f"{at}.add = Add()({at}.bn2, {shortcut})\n{at}.relu2 = ReLU()\n"


RESNET_ARCH = ("conv1 = Conv2d(1, 16, 3, padding=1, bias=False)\nbn1 = BatchNorm2d(16)\nrelu = ReLU()\n" + block("layer1.0", "relu", 16, 16, 1) +
               block("layer2.0", "layer1.0.relu2", 16, 32, 2) + "avgpool = AdaptiveAvgPool2d(1)\nflatten = Flatten()\nfc = Linear(32, 10)")
CNN_ARCH = "Conv2d(2, 4, 3, padding=1); ReLU(); MaxPool2d(2); Conv2d(4, 6, 3, padding=1); ReLU(); MaxPool2d(2); Flatten(); Linear(54, 5)"


def randomise_batch_norm(net):
    """Eval-mode BatchNorm with statistics far from (0, 1), so that it matters."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.num_batches_tracked.fill_(7)
    return net


def make(name, net, arch, input_shape, n):
    net = net.double().eval()
    x = torch.randn((n,) + input_shape, dtype=torch.float64)
    with torch.no_grad():
        logits = net(x)
    # Targets: the second most likely class, so that not every map is the predicted class's.
    t = logits.argsort(dim=1, descending=True)[:, 1].contiguous()
    save_safetensors(os.path.join(HERE, f"{name}.safetensors"), net.state_dict(),
                     {"architecture": arch, "input_shape": ",".join(map(str, input_shape)), "input_dtype": "float64"})
    np.save(os.path.join(HERE, f"{name}_input.npy"), x.numpy())
    np.save(os.path.join(HERE, f"{name}_target.npy"), t.numpy())
    return net, x, t


cnn, x_cnn, t_cnn = make("cnn", nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(),
                                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(54, 5)), CNN_ARCH, (2, 12, 12), 3)
resnet, x_res, t_res = make("resnet", randomise_batch_norm(ResNet()), RESNET_ARCH, (1, 13, 13), 3)

cases = []


def record(case, model, method, options, attr):
    assert attr.dtype == torch.float64, case
    np.save(os.path.join(HERE, f"{case}_attr.npy"), attr.detach().numpy())
    cases.append({"case": case, "model": model, "method": method, "options": options})


# (model name, net, inputs, targets, integrad's layer name, the module Captum hooks): the module's
# output is the node's value (a BasicBlock's output is its last ReLU, integrad's `relu2`).
layers = [("cnn", cnn, x_cnn, t_cnn, "3", cnn[3]), ("cnn", cnn, x_cnn, t_cnn, "4", cnn[4]), ("cnn", cnn, x_cnn, t_cnn, "5", cnn[5]),
          ("resnet", resnet, x_res, t_res, "layer1.0.relu2", resnet.layer1[0]), ("resnet", resnet, x_res, t_res, "layer2.0.relu2", resnet.layer2[0]),
          ("resnet", resnet, x_res, t_res, "layer2.0.bn2", resnet.layer2[0].bn2)]
for model, net, x, t, name, module in layers:
    tag = f"{model}_{name.replace('.', '_')}"
    size = tuple(x.shape[2:])
    for signed in (False, True):
        cam = LayerGradCam(net, module).attribute(x, target=t, relu_attributions=not signed)
        for mode in ("bilinear", "nearest"):
            options = {"layer": name, "interpolate": mode}
            if signed:
                options["signed"] = "true"
            record(f"{tag}_gradcam_{mode}{'_signed' if signed else ''}", model, "gradcam", options, LayerAttribution.interpolate(cam, size, mode))
    record(f"{tag}_guided_gradcam", model, "guided-gradcam", {"layer": name}, GuidedGradCam(net, module).attribute(x, target=t))

with open(os.path.join(HERE, "cases.json"), "w") as f:
    json.dump({"captum_version": captum.__version__, "torch_version": torch.__version__, "cases": cases}, f, indent=1)
    f.write("\n")
print(f"{len(cases)} cases from Captum {captum.__version__} written to", HERE)
