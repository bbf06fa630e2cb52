"""integrad.evaluate walks the metric registry: sparseness is the Gini index of |a|; deletion/insertion replayed in NumPy; masks as a keyword."""
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
    with pytest.raises(ValueError, match=r"window= is not an option of sparseness"):
        integrad.evaluate(model, x, np.ones((4, 6)), window=3)


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)


def test_deletion_and_insertion_match_a_numpy_replay(torch_data):
    """The curve replayed with model.predict: top round(k·D/K) set to the baseline (or put back), trapezoid area."""
    model = integrad.load(os.path.join(torch_data, "ig_model_f64.safetensors"))
    x = np.load(os.path.join(torch_data, "ig_input_f64.npy"))
    e = integrad.explain(model, x)
    targets = model.predict(x).argmax(axis=1)
    steps = 4
    for metric, higher in (("deletion", False), ("insertion", True)):
        r = integrad.evaluate(model, x, e.attributions, metric=metric, steps=steps)
        assert r["higher_is_better"] is higher
        for i in range(len(x)):
            order = np.argsort(-e.attributions[i].ravel(), kind="stable")  # descending, ties: lower index first
            d = order.size
            p = []
            for k in range(steps + 1):
                start = x[i].ravel().copy() if metric == "deletion" else np.zeros(d)
                top = order[: int(np.floor(k * d / steps + 0.5))]
                start[top] = 0.0 if metric == "deletion" else x[i].ravel()[top]
                p.append(softmax(model.predict(start.reshape(1, *x[i].shape)))[0, targets[i]])
            area = sum((p[k - 1] + p[k]) / (2 * steps) for k in range(1, steps + 1))
            assert r["scores"][i] == pytest.approx(area, abs=1e-12)


def test_relevance_mass_and_pointing_game_read_the_mask_option(torch_data, tmp_path):
    model = integrad.load(os.path.join(torch_data, "ig_model_f64.safetensors"))
    x = np.load(os.path.join(torch_data, "ig_input_f64.npy"))
    mask = np.zeros_like(x)
    mask[:, :3] = 1.0
    np.save(tmp_path / "gt.npy", mask)
    a = np.tile(np.array([3.0, 0.0, 1.0, 4.0, -2.0, 0.0]), (len(x), 1))
    r = integrad.evaluate(model, x, a, metric="relevance-mass", mask=str(tmp_path / "gt.npy"))
    np.testing.assert_allclose(r["scores"], 4 / 8, rtol=0, atol=1e-15)  # 3 + 1 inside, 3 + 1 + 4 positive
    assert (integrad.evaluate(model, x, a, metric="pointing-game", mask=str(tmp_path / "gt.npy"))["scores"] == 0).all()  # the 4 is outside
    with pytest.raises(ValueError, match=r"needs mask=GT.npy"):
        integrad.evaluate(model, x, a, metric="pointing-game")
