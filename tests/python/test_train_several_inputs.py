"""integrad.train on a model of several inputs: x (and validation's x) a dict of arrays by input
name — one epoch against PyTorch's weights (tests/data/make_two_input_training_fixtures.py), the
same bits as the CLI, shuffling deterministic, and bad dicts refused naming the array."""
import os

import numpy as np
import pytest

import integrad

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "inputs", "train")


def load(name):
    return np.load(os.path.join(DATA, name))


def start(name="tokens_start"):
    return integrad.load(os.path.join(DATA, name + ".safetensors"), dtype="float64")


@pytest.fixture
def x():
    d = load("tokens.npz")
    return {"num": d["num"], "tok": d["tok"]}


def gap(ours, theirs):
    assert sorted(ours) == sorted(theirs)
    return max(float((np.abs(ours[k] - theirs[k]) / np.maximum(np.abs(theirs[k]), 1e-6)).max()) for k in theirs)


@pytest.mark.parametrize("optimizer,lr,expected", [("sgd", 0.1, "tokens_sgd"), ("adam", 0.01, "tokens_adam")])
def test_one_epoch_matches_pytorch(x, optimizer, lr, expected):
    m = integrad.train(start(), x, load("labels.npy"), epochs=1, batch_size=4, shuffle=False, optimizer=optimizer, lr=lr)
    assert gap(m.state_dict(), start(expected).state_dict()) < 1e-10
    assert gap(start().state_dict(), start(expected).state_dict()) > 1e-3  # the epoch moved the weights


def test_losses_and_two_numeric_inputs(x):
    m = integrad.train(start("tokens_one_start"), x, load("labels01.npy"), loss="bce", batch_size=4, shuffle=False, optimizer="adam", lr=0.01)
    assert gap(m.state_dict(), start("tokens_one_bce_adam").state_dict()) < 1e-10
    d = load("numeric.npz")
    m = integrad.train(start("numeric_one_start"), {"cat": d["cat"], "num": d["num"]}, load("targets.npy"), loss="mse", batch_size=4, shuffle=False,
                       optimizer="sgd", lr=0.1)
    assert gap(m.state_dict(), start("numeric_one_mse_sgd").state_dict()) < 1e-10


def test_shuffled_is_deterministic_and_validation_takes_a_dict(x):
    y = load("labels.npy")
    seen = []
    a = integrad.train(start(), x, y, epochs=2, batch_size=3, seed=4, validation=(x, y), progress=seen.append)
    b = integrad.train(start(), x, y, epochs=2, batch_size=3, seed=4)
    c = integrad.train(start(), x, y, epochs=2, batch_size=3, seed=5)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(np.array_equal(sa[k], sb[k]) for k in sa)
    assert not all(np.array_equal(sa[k], sc[k]) for k in sa)
    # The validation accuracy is the trained model's on x: predicted classes against y.
    assert len(seen) == 2
    assert seen[-1]["val_accuracy"] == np.mean(a.predict(x).argmax(1) == y)


def test_bad_dicts_are_refused_naming_the_array(x):
    y = load("labels.npy")
    with pytest.raises(ValueError, match="no array 'tok'; the model reads num, tok"):
        integrad.train(start(), {"num": x["num"]}, y)
    with pytest.raises(ValueError, match="array 'age' is no input of the model"):
        integrad.train(start(), dict(x, age=x["num"]), y)
    with pytest.raises(ValueError, match=r"input 'num' has shape \[10, 4\]; the model reads \[N, 5\]"):
        integrad.train(start(), {"num": x["num"][:, :4], "tok": x["tok"]}, y)
    with pytest.raises(ValueError, match="input 'tok' holds 9 examples, input 'num' 10"):
        integrad.train(start(), {"num": x["num"], "tok": x["tok"][:9]}, y)
    with pytest.raises(ValueError, match=r"y has shape \[9\]; expected \[10\]"):
        integrad.train(start(), x, y[:9])
    with pytest.raises(ValueError, match="the model reads several inputs"):
        integrad.train(start(), x["num"], y)
    with pytest.raises(ValueError, match="an architecture builds a model of one input"):
        integrad.train("tabular", x, y)
    with pytest.raises(ValueError, match=r"validation x: input 'tok' has shape \[10, 5\]"):
        integrad.train(start(), x, y, validation=({"num": x["num"], "tok": x["num"]}, y))


def test_one_input_model_takes_a_dict_of_one_array(tmp_path):
    rng = np.random.RandomState(0)
    x, y = rng.randn(8, 4), np.arange(8) % 2
    integrad.train("tabular", x, y, seed=1).save(str(tmp_path / "m.safetensors"))
    a = integrad.train(integrad.load(str(tmp_path / "m.safetensors")), {"features": x}, y, seed=1).state_dict()
    b = integrad.train(integrad.load(str(tmp_path / "m.safetensors")), x, y, seed=1).state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)  # its one array, whatever its name: the same bits
