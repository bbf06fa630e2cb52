"""integrad.explain: Captum's IG algorithm (fixtures), the CLI's result bit for bit, targets and
baselines, bad options, and the GIL released while computing."""
import os
import threading
import time

import numpy as np
import pytest

import integrad


@pytest.mark.parametrize("rule", ["gausslegendre", "riemann_left", "riemann_right", "riemann_middle"])
def test_ig_matches_captums_algorithm(torch_data, rule):
    # riemann_trapezoid differs on purpose: Captum's weights sum to (n-1)/n (docs/attribution.md)
    for tag, tol in [("f64", 1e-12), ("f32", 1e-5)]:
        model = integrad.load(os.path.join(torch_data, f"ig_model_{tag}.safetensors"))
        x = np.load(os.path.join(torch_data, f"ig_input_{tag}.npy"))
        baseline = np.load(os.path.join(torch_data, f"ig_baseline_{tag}.npy"))
        target = np.load(os.path.join(torch_data, "ig_target.npy"))
        attributions, delta = integrad.explain(model, x, target=target, baseline=baseline, steps=16, quadrature=rule)
        np.testing.assert_allclose(attributions, np.load(os.path.join(torch_data, f"ig_{rule}_{tag}_attr.npy")), rtol=0, atol=tol)
        np.testing.assert_allclose(delta, np.load(os.path.join(torch_data, f"ig_{rule}_{tag}_delta.npy")), rtol=0, atol=tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_ig_equals_cli_bit_for_bit(torch_data, cli, tmp_path, dtype):
    path = os.path.join(torch_data, "cnn_f32.safetensors")
    x = np.random.default_rng(3).normal(size=(3, 2, 9, 9)).astype(dtype)
    np.save(tmp_path / "x.npy", x)
    for args, kwargs in [([], {}),
                         (["--steps", 20, "--quadrature", "riemann_middle", "--baseline", 0.25, "--target", 1],
                          dict(steps=20, quadrature="riemann_middle", baseline=0.25, target=1))]:
        cli("explain", path, tmp_path / "x.npy", "-o", tmp_path / "a.npy", "--deltas", tmp_path / "d.npy", "--dtype", dtype, *args)
        e = integrad.explain(integrad.load(path, dtype=dtype), x, **kwargs)
        expected = np.load(tmp_path / "a.npy")
        assert e.attributions.dtype == expected.dtype and np.array_equal(e.attributions, expected)
        assert np.array_equal(e.delta.astype(dtype), np.load(tmp_path / "d.npy"))


# Methods with an option that has no default: the value both sides are given.
REQUIRED = {"occlusion": {"window": "2"}}
# Methods that read a TransformerEncoderLayer's attention: test_attention_methods_equal_cli.
ATTENTION = {"attention", "rollout", "attention-x-gradient"}
# Methods for images [N, C, H, W] only: test_image_methods_equal_cli.
IMAGES = {"blur-ig", "gradcam", "guided-gradcam"}


def test_every_registered_method_equals_cli_bit_for_bit(cli, tmp_path):
    """explain walks the registry: every method, with its defaults and with an option given as a
    keyword argument, gives the CLI's attributions and deltas."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(40, 6))
    model = integrad.train("Linear(6, 8); ReLU(); Linear(8, 3)", x, rng.integers(0, 3, 40), epochs=2, dtype="float32")
    model.save(str(tmp_path / "m.safetensors"))
    x_test = x[:3].astype(np.float32)
    np.save(tmp_path / "x.npy", x_test)
    names = [m["name"] for m in integrad.methods()]
    assert "ig" in names and "saliency" in names and len(names) >= 5
    for m in integrad.methods():
        if m["name"] in ATTENTION or m["name"] in IMAGES:
            continue
        kwargs, args = {}, []
        ints = [o for o in m["options"] if o["type"] == "int" and o["default"] is not None and o["name"] != "layer"]
        if ints:  # one option given, as the CLI's --name and as name=
            o = ints[0]
            value = max(int(o["min"]), min(int(o["max"]), int(o["default"]) // 2 or 1))
            kwargs[o["name"]] = value
            args = ["--" + o["name"].replace("_", "-"), value]
        for name, value in REQUIRED.get(m["name"], {}).items():  # options without a default
            kwargs[name] = value
            args += ["--" + name, value]
        cli("explain", tmp_path / "m.safetensors", tmp_path / "x.npy", "-o", tmp_path / "a.npy", "--method", m["name"], *args,
            *(["--deltas", tmp_path / "d.npy"] if m["has_delta"] else []))
        e = integrad.explain(model, x_test, method=m["name"], **kwargs)
        assert e.method == m["name"]
        assert np.array_equal(e.attributions, np.load(tmp_path / "a.npy")), m["name"]
        if m["has_delta"]:
            assert np.array_equal(e.delta.astype(np.float32), np.load(tmp_path / "d.npy")), m["name"]
        else:
            assert e.delta is None
    # a float and a flag option travel as the CLI's text does (floats by their exact repr)
    cli("explain", tmp_path / "m.safetensors", tmp_path / "x.npy", "-o", tmp_path / "s.npy", "--method", "smoothgrad", "--stdev", "0.3",
        "--relative-noise", "--samples", 7)
    e = integrad.explain(model, x_test, method="smoothgrad", stdev=0.3, relative_noise=True, samples=7)
    assert np.array_equal(e.attributions, np.load(tmp_path / "s.npy"))


def test_image_methods_equal_cli(torch_data, cli, tmp_path):
    """blur-ig, guided-ig, deconvolution and the SmoothGrad types on a CNN, from Python as from the CLI."""
    path = os.path.join(torch_data, "cnn_f32.safetensors")
    x = np.random.default_rng(4).uniform(0, 1, size=(2, 2, 9, 9)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    model = integrad.load(path)
    for method, kwargs in [("blur-ig", dict(max_sigma=3.5, steps=12)), ("guided-ig", dict(steps=15, fraction=0.5, max_dist=0.1)),
                           ("deconvolution", {}), ("smoothgrad", dict(noise_type="vargrad", samples=4)),
                           ("smoothgrad", dict(noise_type="smoothgrad_sq", samples=3))]:
        args = [a for k, v in kwargs.items() for a in ("--" + k.replace("_", "-"), v)]
        cli("explain", path, tmp_path / "x.npy", "-o", tmp_path / "a.npy", "--method", method, *args)
        e = integrad.explain(model, x, method=method, **kwargs)
        assert np.array_equal(e.attributions, np.load(tmp_path / "a.npy")), method
        assert np.abs(e.attributions).max() > 0, method
    blur = integrad.explain(model, x, method="blur-ig", max_sigma=3.5, steps=12)
    assert blur.f_baseline.shape == (2,)  # F of the fully blurred image
    np.testing.assert_allclose(blur.attributions.reshape(2, -1).sum(1) - (blur.f_input - blur.f_baseline), blur.delta, atol=1e-5)
    with pytest.raises(ValueError, match="uses no baseline"):
        integrad.explain(model, x, method="blur-ig", baseline=0.5)
    with pytest.raises(ValueError, match="it needs samples= 2 or more"):
        integrad.explain(model, x, method="smoothgrad", noise_type="vargrad", samples=1)
    with pytest.raises(ValueError, match="max_dist="):
        integrad.explain(model, x, method="guided-ig", max_dist=1.5)


def test_explanation_fields_targets_and_baselines(torch_data):
    model = integrad.load(os.path.join(torch_data, "ig_model_f64.safetensors"))
    x = np.load(os.path.join(torch_data, "ig_input_f64.npy"))
    e = integrad.explain(model, x, steps=64)
    assert np.array_equal(e.targets, model.predict(x).argmax(1))
    assert e.method == "ig" and e.steps == [64] * 4 and e.f_baseline.shape == (4,)
    # completeness: the sum of attributions is F(x) - F(x') up to delta
    np.testing.assert_allclose(e.attributions.sum(1) - (e.f_input - e.f_baseline), e.delta, rtol=0, atol=1e-12)
    assert np.abs(e.delta).max() < 1e-3
    assert np.array_equal(integrad.explain(model, x, target=2).targets, [2, 2, 2, 2])
    assert np.array_equal(integrad.explain(model, x, target=np.int64(1)).targets, [1, 1, 1, 1])
    assert np.array_equal(integrad.explain(model, x, target=[0, 1, 2, 0]).targets, [0, 1, 2, 0])
    shared = integrad.explain(model, x, baseline=np.full(6, 0.5)).attributions
    per_example = integrad.explain(model, x, baseline=np.full((4, 6), 0.5)).attributions
    constant = integrad.explain(model, x, baseline=0.5).attributions
    assert np.array_equal(shared, per_example) and np.array_equal(shared, constant)


def test_explain_bad_arguments(torch_data):
    model = integrad.load(os.path.join(torch_data, "ig_model_f64.safetensors"))
    x = np.load(os.path.join(torch_data, "ig_input_f64.npy"))
    with pytest.raises(ValueError, match=r"unknown method 'anchors'"):
        integrad.explain(model, x, method="anchors")
    with pytest.raises(ValueError, match=r"n_stepz= is not an option of ig \(its options: steps=, quadrature=, adaptive="):
        integrad.explain(model, x, n_stepz=3)
    with pytest.raises(ValueError, match=r"steps= \(an option of ig\) must be a whole number in \[1, 1000000\]; got '0'"):
        integrad.explain(model, x, steps=0)
    with pytest.raises(ValueError, match=r"quadrature= \(an option of ig\) must be one of gausslegendre, .*; got 'simpson'"):
        integrad.explain(model, x, quadrature="simpson")
    with pytest.raises(ValueError, match=r"baseline: saliency uses no baseline"):
        integrad.explain(model, x, method="saliency", baseline=0.5)
    with pytest.raises(ValueError, match=r"baseline of shape \[5\] fits neither one example \(\[6\]\) nor the inputs \[4, 6\]"):
        integrad.explain(model, x, baseline=np.zeros(5))
    with pytest.raises(ValueError, match=r"target has shape \[3\]; expected \[4\]"):
        integrad.explain(model, x, target=np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"target class 7 outside the model's 3 outputs"):
        integrad.explain(model, x, target=7)
    with pytest.raises(ValueError, match=r"target is a float64; a class index must be an integer"):
        integrad.explain(model, x, target=2.5)
    with pytest.raises(ValueError, match=r"target -1 is negative"):
        integrad.explain(model, x, target=-1)
    with pytest.raises(ValueError, match=r"expects \[N, 6\]"):
        integrad.explain(model, x[:, :5])
    text = integrad.load(os.path.join(torch_data, "text_f64.safetensors"))
    with pytest.raises(ValueError, match=r"token-id inputs have no gradient"):
        integrad.explain(text, np.load(os.path.join(torch_data, "text_f64_input.npy")))
    with pytest.raises(ValueError, match=r"Embedding\(10, 4\): token id 11 at position 0 is not an integer in \[0, 10\)"):
        text.predict(np.full((1, 6), 11))


def test_gil_is_released_while_computing():
    """The main thread gets to run while another thread is inside explain: it wakes long before
    explain returns. With the GIL held it could only wake once explain had returned."""
    rng = np.random.default_rng(0)
    model = integrad.train("Linear(64, 256); Tanh(); Linear(256, 256); Tanh(); Linear(256, 10)", rng.normal(size=(20, 64)),
                           rng.integers(0, 10, 20), epochs=1)
    x = rng.normal(size=(64, 64))
    started, times = threading.Event(), {}

    def work():
        started.set()
        times["start"] = time.perf_counter()
        integrad.explain(model, x, steps=400)
        times["end"] = time.perf_counter()
    worker = threading.Thread(target=work)
    worker.start()
    started.wait()
    awake = time.perf_counter()
    worker.join()
    took = times["end"] - times["start"]
    assert took > 0.02, took  # long enough to tell the two cases apart
    assert awake < times["end"] - 0.5 * took, (awake - times["start"], took)


def test_token_model_layer_ig_equals_cli(torch_data, cli, tmp_path):
    path = os.path.join(torch_data, "text_f64.safetensors")
    x = np.load(os.path.join(torch_data, "text_f64_input.npy"))
    cli("explain", path, os.path.join(torch_data, "text_f64_input.npy"), "-o", tmp_path / "a.npy", "--layer", 0, "--baseline", 0,
        "--dtype", "float64")
    e = integrad.explain(integrad.load(path), x, layer=0, baseline=0)
    assert e.attributions.shape == (3, 6, 4) and np.array_equal(e.attributions, np.load(tmp_path / "a.npy"))
    np.testing.assert_allclose(e.token_values, e.attributions.sum(2), rtol=0, atol=1e-15)  # the (complete) sum per token
    assert np.abs(e.delta).max() < 1e-12  # the embedding's output enters linearly: IG is exact


def test_attention_methods_equal_cli(torch_data, cli, tmp_path):
    path = os.path.join(torch_data, "transformer_select_f32.safetensors")
    x = np.load(os.path.join(torch_data, "transformer_input.npy"))
    model = integrad.load(path)
    for name in sorted(ATTENTION):
        cli("explain", path, os.path.join(torch_data, "transformer_input.npy"), "-o", tmp_path / "a.npy", "--method", name)
        e = integrad.explain(model, x, method=name)
        assert e.attributions.shape == x.shape
        assert np.array_equal(e.attributions, np.load(tmp_path / "a.npy")), name
