"""Models of several inputs from Python: x as a dict of arrays, attributions as a dict, per-input
baselines, attribute_to (held inputs), and a callable target — against Captum's numbers in
tests/data/inputs (make_two_input_fixtures.py) and against linearity."""
import os

import numpy as np
import pytest

import integrad

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "inputs")
IG = dict(steps=64, quadrature="riemann_middle")  # the fixture's rule: Captum's float32 weights 1/64 are exact


def load(name):
    return np.load(os.path.join(DATA, name))


@pytest.fixture
def model():
    return integrad.load(os.path.join(DATA, "two_input.safetensors"), dtype="float64")


@pytest.fixture
def x():
    d = load("inputs.npz")
    return {"num": d["num"], "cat": d["cat"]}


def test_dict_inputs_match_captum(model, x):
    assert model.info()["inputs"] == {"num": ((5,), "float64"), "cat": ((3,), "float64")}
    assert np.abs(model.predict(x) - load("logits.npy")).max() < 1e-12
    e = integrad.explain(model, x, target=load("target.npy"), **IG)
    assert set(e.attributions) == {"num", "cat"}
    for name in ("num", "cat"):
        assert np.abs(e.attributions[name] - load(f"both_zero_attr_{name}.npy")).max() < 1e-10
    base = {"num": load("baseline_num.npy"), "cat": load("baseline_cat.npy")}
    e = integrad.explain(model, x, target=load("target.npy"), baseline=base, **IG)
    assert np.abs(e.delta - load("both_base_delta.npy")).max() < 1e-10


def test_attribute_to_holds_the_other_input(model, x):
    e = integrad.explain(model, x, target=load("target.npy"), attribute_to="num", baseline={"num": load("baseline_num.npy")}, **IG)
    assert list(e.attributions) == ["num"]
    assert np.abs(e.attributions["num"] - load("num_only_attr_num.npy")).max() < 1e-10


def test_callable_target(model, x):
    # IG is linear in F: the sum of two logits gives the sum of their attributions.
    both = integrad.explain(model, x, target=lambda out: out[:, 1] + out[:, 2], **IG)
    one = integrad.explain(model, x, target=1, **IG)
    two = integrad.explain(model, x, target=2, **IG)
    for name in ("num", "cat"):
        assert np.abs(both.attributions[name] - one.attributions[name] - two.attributions[name]).max() < 1e-12
    # A probability: F(x) is the softmax of the logits.
    p = integrad.explain(model, x, target=lambda out: out.softmax()[:, 0], **IG)
    logits = load("logits.npy")
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert np.abs(p.f_input - softmax[:, 0]).max() < 1e-12
    with pytest.raises(TypeError, match="out\\[:, k\\]"):
        integrad.explain(model, x, target=lambda out: out[0])


def test_several_inputs_errors(model, x):
    with pytest.raises(ValueError, match="x must be a dict"):
        integrad.explain(model, x["num"])
    with pytest.raises(ValueError, match="no input 'nums'; its inputs are num, cat"):
        integrad.explain(model, x, attribute_to=["nums"])
    with pytest.raises(ValueError, match="no array 'cat'"):
        integrad.explain(model, {"num": x["num"]})
    with pytest.raises(ValueError, match="input 'cat' has shape"):
        integrad.explain(model, {"num": x["num"], "cat": x["cat"][:, :2]})


def test_from_torch_state_dict_of_two_inputs(x):
    """A PyTorch-trained two-input model: its state_dict and architecture text, the inputs by name."""
    from conftest import read_safetensors
    state, meta = read_safetensors(os.path.join(DATA, "two_input.safetensors"))
    m = integrad.Model.from_torch(state, meta["architecture"], inputs={"num": (5,), "cat": (3,)}, input_dtype="float64")
    assert m.info()["inputs"] == {"num": ((5,), "float64"), "cat": ((3,), "float64")}
    assert np.abs(m.predict(x) - load("logits.npy")).max() < 1e-12
    with pytest.raises(ValueError, match="reads 'cats'"):
        integrad.Model.from_torch(state, meta["architecture"].replace("(cat)", "(cats)"), inputs={"num": (5,), "cat": (3,)})


def test_onnx_of_two_inputs_loads_with_named_inputs(x, tmp_path):
    """torch.onnx.export of the same model (tests/data/onnx/two_input_f64.onnx): its graph inputs
    are the model's, x is a dict, and IG is Captum's on the PyTorch original. integrad's own
    two-input model exports to ONNX with both inputs and loads back the same."""
    onnx_dir = os.path.join(os.path.dirname(DATA), "onnx")
    m = integrad.load(os.path.join(onnx_dir, "two_input_f64.onnx"), dtype="float64")
    assert m.info()["inputs"] == {"num": ((5,), "float64"), "cat": ((3,), "float64")}
    assert np.abs(m.predict(x) - load("logits.npy")).max() < 1e-12
    e = integrad.explain(m, x, target=load("target.npy"), **IG)
    for name in ("num", "cat"):
        assert np.abs(e.attributions[name] - load(f"both_zero_attr_{name}.npy")).max() < 1e-10
    e = integrad.explain(m, x, target=load("target.npy"), attribute_to="num", baseline={"num": load("baseline_num.npy")}, **IG)
    assert np.abs(e.attributions["num"] - load("num_only_attr_num.npy")).max() < 1e-10
    path = str(tmp_path / "again.onnx")
    integrad.load(os.path.join(DATA, "two_input.safetensors"), dtype="float64").export(path)
    again = integrad.load(path, dtype="float64")
    assert again.info()["inputs"] == m.info()["inputs"]
    assert np.abs(again.predict(x) - load("logits.npy")).max() < 1e-12
