"""The notebook-friendly API of issue 27: arrays where the CLI takes files, tuples for windows,
errors in Python's words, deletion curves, int64 token ids, the data sets, the losses, the plots,
and docs/python.md free of hand-kept lists."""
import os
import re

import numpy as np
import pytest

import integrad
from conftest import SOURCE

SKLEARN_DATA = os.environ.get("INTEGRAD_SKLEARN_DATA", "/usr/lib/python3/dist-packages/sklearn/datasets/data")


@pytest.fixture(scope="module")
def tabular():
    x, y, _ = integrad.dataset("synthetic-tabular", split="train", limit=512)
    model = integrad.train("tabular", x, y, epochs=3, seed=0)
    x_test, _, _ = integrad.dataset("synthetic-tabular", limit=4)
    return model, x_test


def test_feature_mask_as_array_equals_the_file(tabular, tmp_path):
    model, x = tabular
    groups = np.array([0, 0, 1, 1, 2, 3, 3], dtype=np.int64)
    path = tmp_path / "groups.npy"
    np.save(path, groups)
    by_array = integrad.explain(model, x, method="shapley", feature_mask=groups).attributions
    by_file = integrad.explain(model, x, method="shapley", feature_mask=str(path)).attributions
    by_pathlike = integrad.explain(model, x, method="shapley", feature_mask=path).attributions
    assert np.array_equal(by_array, by_file) and np.array_equal(by_array, by_pathlike)
    assert by_array[0, 0] == by_array[0, 1]  # one group, one value


def test_window_and_stride_as_tuples(tabular):
    model, x = tabular
    a = integrad.explain(model, x, method="occlusion", window=(2,), stride=(1,)).attributions
    b = integrad.explain(model, x, method="occlusion", window="2", stride="1").attributions
    assert np.array_equal(a, b)


def test_errors_name_the_python_keyword(tabular):
    model, x = tabular
    with pytest.raises(ValueError) as e:
        integrad.explain(model, x, method="ig", steps=0)
    assert "steps=" in str(e.value) and "--steps" not in str(e.value)
    with pytest.raises(ValueError) as e:
        integrad.explain(model, x, method="shapley", feature_mask=np.zeros((5,), dtype=np.int64))
    message = str(e.value)
    assert "feature_mask=" in message and "--feature-mask" not in message and "/tmp" not in message, message
    with pytest.raises(ValueError, match="feature_mask= has dtype float"):
        integrad.explain(model, x, method="shapley", feature_mask=np.zeros(7))


def test_evaluate_returns_the_deletion_curves(tabular):
    model, x = tabular
    e = integrad.explain(model, x, method="gradxinput")
    for metric in ("deletion", "insertion"):
        r = integrad.evaluate(model, x, e, metric=metric, steps=7)
        curves = r["curves"]
        assert curves.shape == (4, 8)
        areas = ((curves[:, 1:] + curves[:, :-1]) / (2 * 7)).sum(axis=1)
        np.testing.assert_allclose(areas, r["scores"], rtol=1e-12, atol=1e-12)
    assert "curves" not in integrad.evaluate(model, x, e, metric="sparseness")


def test_relevance_mass_mask_as_array(tabular):
    model, x = tabular
    e = integrad.explain(model, x, method="gradxinput")
    mask = np.zeros_like(x)
    mask[:, :3] = 1
    r = integrad.evaluate(model, x, e, metric="relevance-mass", mask=mask)
    assert np.array_equal(integrad.evaluate(model, x, e, metric="relevance-mass", mask=mask.astype(bool))["scores"], r["scores"])
    positive = np.clip(e.attributions, 0, None)
    expected = positive[:, :3].sum(axis=1) / np.maximum(positive.sum(axis=1), 1e-300)
    np.testing.assert_allclose(r["scores"], np.where(positive.sum(axis=1) > 0, expected, r["scores"]), rtol=1e-6)


def test_token_ids_come_back_as_int64():
    x, y, masks = integrad.dataset("synthetic-tokens", limit=3)
    assert x.dtype == np.int64 and y.dtype == np.int64 and x.shape == (3, 16)


def test_one_output_models_train_with_bce_and_mse(tabular):
    x, y, _ = integrad.dataset("synthetic-tabular", split="train", limit=256)
    binary = integrad.train("tabular", x, y, epochs=3, loss="bce")
    assert binary.output_shape == (1,)
    assert binary.history[-1]["loss"] > 0
    r = integrad.evaluate(binary, x[:4], integrad.explain(binary, x[:4], method="gradxinput"), metric="deletion", steps=4)
    assert (r["scores"] < 0.999).all() and (r["scores"] > 0).all()  # the sigmoid, not a softmax over one output (1.0)
    values = x[:, 0] * 2.0 - x[:, 1]
    regression = integrad.train("tabular", x, values.astype(np.float64), epochs=20, loss="mse", lr=1e-2)
    assert regression.history[-1]["loss"] < regression.history[0]["loss"]
    with pytest.raises(ValueError, match="loss="):
        integrad.train("tabular", x, y, loss="hinge")
    with pytest.raises(ValueError, match="at least two outputs"):
        integrad.train(binary, x, np.zeros_like(y))  # cross-entropy on one output: refused, not "loss 0"


def test_tabular_architecture_takes_its_width_from_x():
    x = np.random.default_rng(0).normal(size=(32, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0).astype(np.int64)
    model = integrad.train("tabular", x, y, epochs=1)
    assert model.input_shape == (3,) and model.output_shape == (3,)


@pytest.mark.skipif(not os.path.exists(os.path.join(SKLEARN_DATA, "iris.csv")), reason="python3-sklearn's data files are not installed")
def test_sklearn_sets():
    x, y, m = integrad.dataset("iris", split="all")
    assert x.shape == (150, 4) and m is None
    np.testing.assert_array_equal(x[0], np.float32([5.1, 3.5, 1.4, 0.2]))
    assert np.bincount(y).tolist() == [50, 50, 50]
    train, test = integrad.dataset("iris", split="train")[0], integrad.dataset("iris", split="test")[0]
    assert train.shape == (120, 4) and test.shape == (30, 4)
    np.testing.assert_array_equal(test, x[::5])  # the documented split: every fifth row is a test example
    xd, yd, _ = integrad.dataset("diabetes", split="all", dtype="float64")
    assert xd.shape == (442, 10) and yd.dtype == np.float64 and yd[0] == 151.0 and xd[0, 0] == 59.0
    digits = integrad.dataset("digits", split="all")[0]
    assert digits.shape == (1797, 1, 8, 8) and digits.max() == 16
    names = {d["name"]: d for d in integrad.datasets()}
    assert names["breast-cancer"]["feature_names"][0] == "mean_radius" and names["diabetes"]["regression"]


def test_shortcut_sets_learn_the_shortcut():
    x, y, masks = integrad.dataset("synthetic-watermark", split="train", limit=400)
    assert masks.shape == x.shape and masks.sum(axis=(1, 2, 3)).min() > 0
    model = integrad.train("mlp", x, y, epochs=3, seed=0)
    xt, yt, _ = integrad.dataset("synthetic-watermark", split="test", limit=400)
    train_acc = (model.predict(x).argmax(1) == y).mean()
    test_acc = (model.predict(xt).argmax(1) == yt).mean()
    assert train_acc > 0.95 and test_acc < train_acc - 0.2, (train_acc, test_acc)


@pytest.mark.parametrize("name", ["synthetic-watermark", "synthetic-loan"])
def test_dataset_returns_the_shortcut_masks_the_cli_writes(name, cli, tmp_path):
    """integrad.dataset gives the shortcut masks (issue 27) equal to dataset --shortcut-masks-out,
    and the ground-truth masks equal to --masks-out; a set without a shortcut gives None."""
    d = integrad.dataset(name, split="train", limit=50)
    x, y, masks = d  # still unpacks as three
    assert d.x is x and d.y is y and d.masks is masks
    cli("dataset", "--data", name, "--split", "train", "--limit", 50, "-o", tmp_path / "x.npy", "--labels-out", tmp_path / "y.npy",
        "--masks-out", tmp_path / "m.npy", "--shortcut-masks-out", tmp_path / "s.npy")
    np.testing.assert_array_equal(x, np.load(tmp_path / "x.npy"))
    np.testing.assert_array_equal(masks, np.load(tmp_path / "m.npy"))
    np.testing.assert_array_equal(d.shortcut_masks, np.load(tmp_path / "s.npy"))
    assert d.shortcut_masks.shape == x.shape and set(np.unique(d.shortcut_masks)) == {0.0, 1.0}
    assert (d.shortcut_masks * masks).sum() == 0  # the shortcut and the evidence apart
    assert integrad.dataset(name, split="train", limit=50, dtype="float64").shortcut_masks.dtype == np.float32
    assert next(s for s in integrad.datasets() if s["name"] == name)["has_shortcut_masks"]
    plain = integrad.dataset("synthetic-patches", limit=2)
    assert plain.shortcut_masks is None and plain.masks is not None
    assert integrad.dataset("iris", split="all").shortcut_masks is None


def test_plot_helpers_draw(tabular):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import integrad.plot as iplot
    model, x = tabular
    a = integrad.explain(model, x).attributions
    names = next(d["feature_names"] for d in integrad.datasets() if d["name"] == "synthetic-tabular")
    ax = iplot.beeswarm(a, x, names)
    assert len(ax.collections) == 7
    img = np.random.default_rng(1).uniform(size=(1, 8, 8))
    assert iplot.heatmap(img - 0.5).images and iplot.overlay(img, img - 0.5).images
    assert len(iplot.tokens([5, 1, 9], [0.2, -1.0, 0.0]).texts) == 3
    xw, yw, _ = integrad.dataset("synthetic-watermark", limit=2)
    cnn = integrad.train("mlp", xw, yw, epochs=1)
    fig, maps = iplot.comparison(cnn, xw, ["ig", "saliency"], options={"ig": {"steps": 8}})
    assert len(fig.axes) == 6 and set(maps) == {"ig", "saliency"}


def test_python_docs_hold_no_hand_kept_lists():
    """docs/python.md points at integrad.methods(), datasets() and architectures(): a line naming
    three or more registered names is a list that goes stale when the registry grows."""
    text = open(os.path.join(SOURCE, "docs", "python.md"), encoding="utf-8").read()
    registries = {"methods": {m["name"] for m in integrad.methods()}, "architectures": {a["name"] for a in integrad.architectures()},
                  "data sets": {d["name"] for d in integrad.datasets()}}
    for number, line in enumerate(text.splitlines(), 1):
        quoted = set(re.findall(r'`"?([a-z][a-z0-9_-]*)"?`', line))
        for what, names in registries.items():
            listed = quoted & names
            assert len(listed) < 3, f"docs/python.md:{number} lists {what} by hand ({sorted(listed)}); point at the registry instead"
