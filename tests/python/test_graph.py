"""Graph models from Python: integrad.from_torch on a ResNet with BatchNorm (torch.fx, module paths
as layer names) gives PyTorch's outputs; IG is complete on it; layer IG by module path equals
Captum's LayerIntegratedGradients algorithm (the layer's output replaced by a forward hook) in
float64. Skipped without python3-torch."""
import numpy as np
import pytest

import integrad

torch = pytest.importorskip("torch")
nn = torch.nn


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout)) if stride != 1 else None

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.layer1 = nn.Sequential(Block(4, 4, 1))
        self.layer2 = nn.Sequential(Block(4, 6, 2))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.layer2(self.layer1(torch.relu(self.conv1(x))))), 1))


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(3)
    m = Net().double()
    for mod in m.modules():  # statistics away from 0 and 1, so that evaluation uses them
        if isinstance(mod, nn.BatchNorm2d):
            with torch.no_grad():
                mod.running_mean.uniform_(-0.3, 0.3)
                mod.running_var.uniform_(0.5, 1.5)
                mod.weight.uniform_(0.8, 1.2)
    return m.eval()


def captum_layer_ig(model, layer, x, target, n_steps, at_input=False):
    """Captum 0.8's LayerIntegratedGradients (Gauss-Legendre, zero input baseline): the layer's
    output (its input, with attribute_to_layer_input=True) is interpolated between its values on
    the baseline and on x, put in place by a hook while the rest of the model sees x."""
    def hook(fn, replace=False):  # fn sees the value; with replace its result takes the value's place
        if at_input:
            return layer.register_forward_pre_hook(lambda m, i: (fn(i[0]),) if replace else fn(i[0]))
        return layer.register_forward_hook(lambda m, i, o: fn(o))

    with torch.no_grad():
        acts = {}
        h = hook(lambda v: acts.__setitem__("v", v))
        model(x)
        act_x = acts["v"]
        model(torch.zeros_like(x))
        act_b = acts["v"]
        h.remove()
    nodes, weights = np.polynomial.legendre.leggauss(n_steps)
    total = torch.zeros_like(act_x)
    for a, w in zip(0.5 * (1 + nodes), 0.5 * weights):
        point = (act_b + float(a) * (act_x - act_b)).requires_grad_()
        h = hook(lambda v: point, replace=True)
        out = model(x)
        h.remove()
        g, = torch.autograd.grad(out.gather(1, target.unsqueeze(1)).sum(), point)
        total += float(w) * g
    return (total * (act_x - act_b)).numpy()


def test_from_torch_resnet_matches_pytorch_and_keeps_module_paths(net):
    x = torch.randn(4, 1, 8, 8, dtype=torch.float64)
    model = integrad.from_torch(net, x)
    with torch.no_grad():
        expected = net(x).numpy()
    np.testing.assert_allclose(model.predict(x.numpy()), expected, rtol=0, atol=1e-12)
    names = [layer["name"] for layer in model.info()["layers"]]
    assert "layer1.0.conv1" in names and "layer2.0.downsample.1" in names and "layer1.0.relu_1" in names
    e = integrad.explain(model, x.numpy(), steps=200)
    assert np.abs(e.delta).max() < 1e-3


def test_layer_ig_by_module_path_matches_captum(net):
    x = torch.randn(3, 1, 8, 8, dtype=torch.float64)
    model = integrad.from_torch(net, x)
    with torch.no_grad():
        target = net(x).argmax(1)
    for path, module in [("layer1", net.layer1), ("layer2.0.bn1", net.layer2[0].bn1)]:
        e = integrad.explain(model, x.numpy(), layer=path, steps=32)
        np.testing.assert_allclose(e.attributions, captum_layer_ig(net, module, x, target, 32), rtol=0, atol=1e-10)
    # The input of the second block's first convolution, which its shortcut also reads.
    e = integrad.explain(model, x.numpy(), layer="layer2.0.conv1", layer_input=True, steps=32)
    np.testing.assert_allclose(e.attributions, captum_layer_ig(net, net.layer2[0].conv1, x, target, 32, at_input=True), rtol=0, atol=1e-10)


def test_from_torch_refuses_what_it_cannot_express():
    class Odd(nn.Module):
        def forward(self, x):
            return torch.sin(x)

    with pytest.raises(ValueError, match="sin"):
        integrad.from_torch(Odd(), torch.zeros(2, 3))
