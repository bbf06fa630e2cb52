"""integrad.train: PyTorch's weights after one epoch, the CLI's result bit for bit, the callback."""
import os

import numpy as np
import pytest

import integrad
from conftest import read_safetensors

RUNS = {  # as tests/data/make_torch_fixtures.py trained them: float64, batches of 4 in order
    "sgd": dict(optimizer="sgd", lr=0.1),
    "sgd_momentum": dict(optimizer="sgd", lr=0.1, momentum=0.9, weight_decay=0.01),
    "sgd_nesterov": dict(optimizer="sgd", lr=0.05, momentum=0.8, nesterov=True),
    "adam": dict(optimizer="adam", lr=0.01),
    "adam_wd": dict(optimizer="adam", lr=0.01, weight_decay=0.1),
    "adamw": dict(optimizer="adamw", lr=0.01, weight_decay=0.1),
}


@pytest.mark.parametrize("run", sorted(RUNS))
def test_one_epoch_ends_on_pytorchs_weights(torch_data, run):
    model = integrad.load(os.path.join(torch_data, "train_start.safetensors"))
    x, y = np.load(os.path.join(torch_data, "train_x.npy")), np.load(os.path.join(torch_data, "train_y.npy"))
    out = integrad.train(model, x, y, epochs=1, batch_size=4, shuffle=False, **RUNS[run])
    assert out is model  # trained in place, as in PyTorch
    expected, _ = read_safetensors(os.path.join(torch_data, f"train_{run}.safetensors"))
    for k, v in model.state_dict().items():
        np.testing.assert_allclose(v, expected[k], rtol=0, atol=1e-10)


def test_train_equals_cli_bit_for_bit(torch_data, cli, tmp_path):
    start = os.path.join(torch_data, "train_start.safetensors")
    x, y = os.path.join(torch_data, "train_x.npy"), os.path.join(torch_data, "train_y.npy")
    cli("train", start, "--inputs", x, "--labels", y, "--epochs", 3, "--batch-size", 3, "--lr", 0.02, "--seed", 5, "--dtype", "float64",
        "-q", "-o", tmp_path / "cli.safetensors")
    model = integrad.train(integrad.load(start), np.load(x), np.load(y), epochs=3, batch_size=3, lr=0.02, seed=5)
    expected = integrad.load(str(tmp_path / "cli.safetensors"))
    for k, v in model.state_dict().items():
        assert np.array_equal(v, expected.state_dict()[k]), k
    assert [round(h["loss"], 12) for h in model.history] == [round(h["loss"], 12) for h in expected.history]


def test_named_architecture_learns_and_reports_progress():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 6))
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    seen = []
    model = integrad.train("Linear(6, 16); ReLU(); Linear(16, 2)", x, y, epochs=8, lr=1e-2, seed=3, validation=(x[:100], y[:100]),
                           progress=seen.append)
    assert model.dtype == "float64" and model.input_shape == (6,)  # from x
    assert [d["epoch"] for d in seen] == list(range(1, 9)) and all(d["epochs"] == 8 for d in seen)
    assert seen[-1]["loss"] < seen[0]["loss"]
    assert seen[-1]["val_accuracy"] >= 0.9
    assert model.history[-1]["loss"] == seen[-1]["loss"]
    assert (model.predict(x).argmax(1) == y).mean() >= 0.9


def test_progress_returning_false_stops_and_exceptions_propagate():
    x = np.random.default_rng(1).normal(size=(50, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = integrad.train("Linear(4, 2)", x, y, epochs=10, progress=lambda d: d["epoch"] < 2)
    assert model.dtype == "float32" and len(model.history) == 2

    def boom(d):
        raise KeyError("stop here")
    with pytest.raises(KeyError, match="stop here"):
        integrad.train(model, x, y, epochs=3, progress=boom)
    assert len(model.history) == 3  # the epoch finished before the callback ran


def test_train_bad_arguments():
    x = np.zeros((6, 4))
    y = np.array([0, 1, 0, 1, 0, 1])
    model = integrad.train("Linear(4, 2)", x, y)
    with pytest.raises(ValueError, match=r"y\[1\] is 5; the model has 2 classes \(0 to 1\)"):
        integrad.train(model, x, np.array([0, 5, 0, 1, 0, 1]))
    with pytest.raises(ValueError, match=r"class indices must be integers"):
        integrad.train(model, x, y.astype(np.float64))
    with pytest.raises(ValueError, match=r"y has shape \[5\]; expected \[6\]"):
        integrad.train(model, x, y[:5])
    with pytest.raises(ValueError, match=r"x has shape \[6, 3\], the model expects \[N, 4\]"):
        integrad.train(model, x[:, :3], y)
    with pytest.raises(ValueError, match=r"optimizer must be"):
        integrad.train(model, x, y, optimizer="lbfgs")
    with pytest.raises(ValueError, match=r"epochs must be at least 1"):
        integrad.train(model, x, y, epochs=0)
    with pytest.raises(ValueError, match=r"Linear"):
        integrad.train("Linear(5, 2)", x, y)  # the architecture does not fit x
