#!/usr/bin/env python3
"""Fixtures that pin integrad's graph models to PyTorch: a small ResNet with BatchNorm and residual
blocks (torchvision's BasicBlock, its module paths as node names), a BatchNorm1d MLP, their outputs
and input gradients in evaluation, BatchNorm's training forward and backward, and one epoch of SGD
and of Adam in training mode (weights and running statistics after). float64 throughout.
Run with Debian's python3-torch:  /usr/bin/python3 tests/data/make_graph_fixtures.py"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_writer import save_safetensors  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "graph")
os.makedirs(HERE, exist_ok=True)
torch.manual_seed(1)
nn = torch.nn


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.relu = nn.ReLU()
        self.layer1 = nn.Sequential(BasicBlock(4, 4, 1))
        self.layer2 = nn.Sequential(BasicBlock(4, 6, 2))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        x = self.layer2(self.layer1(self.relu(self.bn1(self.conv1(x)))))
        return self.fc(self.flatten(self.avgpool(x)))


def block(at, inp, cin, cout, stride):
    s = (f"{at}.conv1 = Conv2d({cin}, {cout}, 3, stride={stride}, padding=1, bias=False)({inp})\n{at}.bn1 = BatchNorm2d({cout})\n"
         f"{at}.relu = ReLU()\n{at}.conv2 = Conv2d({cout}, {cout}, 3, padding=1, bias=False)\n{at}.bn2 = BatchNorm2d({cout})\n")
    short = inp
    if stride != 1 or cin != cout:
        s += f"{at}.downsample.0 = Conv2d({cin}, {cout}, 1, stride={stride}, bias=False)({inp})\n{at}.downsample.1 = BatchNorm2d({cout})\n"
        short = f"{at}.downsample.1"
    return s + f"{at}.add = Add()({at}.bn2, {short})\n{at}.relu2 = ReLU()\n"


RESNET = ("conv1 = Conv2d(2, 4, 3, padding=1, bias=False)\nbn1 = BatchNorm2d(4)\nrelu = ReLU()\n" + block("layer1.0", "relu", 4, 4, 1)
          + block("layer2.0", "layer1.0.relu2", 4, 6, 2) + "avgpool = AdaptiveAvgPool2d(1)\nflatten = Flatten()\nfc = Linear(6, 3)")
MLP_BN = "Linear(5, 6); BatchNorm1d(6, momentum=0.3); ReLU(); Linear(6, 3)"


def randomise_statistics(model):
    """Running statistics and affine parameters away from their initial 0/1, so that evaluation
    really uses them."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            with torch.no_grad():
                m.running_mean.copy_(0.3 * torch.randn_like(m.running_mean))
                m.running_var.copy_(0.5 + torch.rand_like(m.running_var))
                m.weight.copy_(1 + 0.2 * torch.randn_like(m.weight))
                m.bias.copy_(0.2 * torch.randn_like(m.bias))
                m.num_batches_tracked.fill_(3)


def save(name, model, arch, shape):
    meta = {"architecture": arch, "input_shape": ",".join(map(str, shape)), "input_dtype": "float64"}
    save_safetensors(os.path.join(HERE, f"{name}.safetensors"), model.state_dict(), meta, torch.float64)


def evaluation(name, model, arch, x):
    model.eval()
    save(name, model, arch, list(x.shape[1:]))
    np.save(os.path.join(HERE, f"{name}_input.npy"), x.numpy())
    xg = x.clone().requires_grad_()
    out = model(xg)
    np.save(os.path.join(HERE, f"{name}_output.npy"), out.detach().numpy())
    out[:, 1].sum().backward()  # the gradient of class 1, integrad's gradient method with --target 1
    np.save(os.path.join(HERE, f"{name}_grad1.npy"), xg.grad.numpy())


def one_epoch(name, model, arch, x, y, make_optimizer):
    """Training mode, batches of 4 in order (the last smaller), mean cross-entropy."""
    model.train()
    opt = make_optimizer(model.parameters())
    for i in range(0, len(x), 4):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x[i:i + 4]), y[i:i + 4]).backward()
        opt.step()
    save(name, model, arch, list(x.shape[1:]))


def main():
    resnet = ResNet().double()
    randomise_statistics(resnet)
    evaluation("resnet", resnet, RESNET, torch.randn(3, 2, 8, 8, dtype=torch.float64))
    mlp = nn.Sequential(nn.Linear(5, 6), nn.BatchNorm1d(6, momentum=0.3), nn.ReLU(), nn.Linear(6, 3)).double()
    randomise_statistics(mlp)
    evaluation("mlp_bn", mlp, MLP_BN, torch.randn(4, 5, dtype=torch.float64))

    X = torch.randn(10, 2, 8, 8, dtype=torch.float64)
    Y = torch.randint(0, 3, (10,))
    np.save(os.path.join(HERE, "train_x.npy"), X.numpy())
    np.save(os.path.join(HERE, "train_y.npy"), Y.numpy())
    save("resnet_start", resnet, RESNET, [2, 8, 8])
    start = {k: v.clone() for k, v in resnet.state_dict().items()}
    for opt_name, make in [("sgd", lambda p: torch.optim.SGD(p, lr=0.1)), ("adam", lambda p: torch.optim.Adam(p, lr=0.01))]:
        model = ResNet().double()
        model.load_state_dict(start)
        one_epoch(f"resnet_{opt_name}", model, RESNET, X, Y, make)
    print("fixtures written to", HERE)


if __name__ == "__main__":  # make_onnx_fixtures.py imports the models without writing these
    main()
