"""A live PyTorch model (python3-torch, when installed): integrad's logits and IG equal PyTorch's in
float64 to 1e-12. Skipped without torch; tests/data/torch's fixtures cover the same ground."""
import numpy as np
import pytest

import integrad

torch = pytest.importorskip("torch")


def captum_ig(model, x, baseline, target, n_steps):
    """Captum's IntegratedGradients(method='gausslegendre') algorithm, as tests/data/make_torch_fixtures.py has it."""
    nodes, weights = np.polynomial.legendre.leggauss(n_steps)
    alphas, steps = 0.5 * (1 + nodes), 0.5 * weights
    scaled = torch.cat([baseline + float(a) * (x - baseline) for a in alphas]).requires_grad_()
    selected = model(scaled).gather(1, target.repeat(n_steps).unsqueeze(1)).squeeze(1)
    grads = torch.autograd.grad(torch.unbind(selected), scaled)[0]
    total = (grads.view(n_steps, -1) * torch.tensor(steps, dtype=grads.dtype).view(n_steps, 1)).reshape(n_steps, *x.shape).sum(0)
    return (total * (x - baseline)).detach().numpy()


def test_torch_model_logits_and_ig_match_in_float64():
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 5), nn.Tanh(),
                          nn.Linear(5, 3)).double()
    arch = "Conv2d(1, 4, 3, padding=1); ReLU(); MaxPool2d(2); Flatten(); Linear(64, 5); Tanh(); Linear(5, 3)"
    ours = integrad.Model.from_torch({k: v.numpy() for k, v in model.state_dict().items()}, arch, (1, 8, 8))
    x = torch.randn(4, 1, 8, 8, dtype=torch.float64)
    with torch.no_grad():
        logits = model(x).numpy()
    np.testing.assert_allclose(ours.predict(x.numpy()), logits, rtol=0, atol=1e-12)
    target = torch.tensor(logits.argmax(1))
    expected = captum_ig(model, x, torch.zeros_like(x), target, 50)
    e = integrad.explain(ours, x.numpy(), steps=50)
    assert np.array_equal(e.targets, target.numpy())
    np.testing.assert_allclose(e.attributions, expected, rtol=0, atol=1e-12)
