"""integrad.evaluate walks the metric registry: sparseness is the Gini index of |a|."""
import os

import numpy as np
import pytest

import integrad


def gini(v):
    v = np.sort(np.abs(v.ravel()))
    n = len(v)
    return 0.0 if v.sum() == 0 else float(((2 * np.arange(1, n + 1) - n - 1) * v).sum() / (n * v.sum()))


def test_sparseness_is_the_gini_index(torch_data):
    model = integrad.load(os.path.join(torch_data, "ig_model_f64.safetensors"))
    x = np.load(os.path.join(torch_data, "ig_input_f64.npy"))
    e = integrad.explain(model, x)
    r = integrad.evaluate(model, x, e, metric="sparseness")
    assert r["metric"] == "sparseness" and r["higher_is_better"] is True
    np.testing.assert_allclose(r["scores"], [gini(a) for a in e.attributions], rtol=0, atol=1e-12)
    assert r["mean"] == pytest.approx(r["scores"].mean(), abs=1e-15)
    one_hot = np.zeros((4, 6))
    one_hot[:, 2] = 1.0
    np.testing.assert_allclose(integrad.evaluate(model, x, one_hot)["scores"], 5 / 6, rtol=0, atol=1e-15)  # all mass on one of 6
    np.testing.assert_allclose(integrad.evaluate(model, x, np.ones((4, 6)))["scores"], 0, atol=1e-15)      # spread evenly
    assert "sparseness" in [m["name"] for m in integrad.metrics()]


def test_evaluate_bad_arguments(torch_data):
    model = integrad.load(os.path.join(torch_data, "ig_model_f64.safetensors"))
    x = np.load(os.path.join(torch_data, "ig_input_f64.npy"))
    with pytest.raises(ValueError, match=r"sparsity"):
        integrad.evaluate(model, x, np.ones((4, 6)), metric="sparsity")
    with pytest.raises(ValueError, match=r"one map per example"):
        integrad.evaluate(model, x, np.ones((3, 6)))
    with pytest.raises(ValueError, match=r"--window is not an option of sparseness"):
        integrad.evaluate(model, x, np.ones((4, 6)), window=3)
