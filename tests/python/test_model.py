"""load / predict / save / info / from_torch, against PyTorch's outputs and the CLI's, and bad input."""
import os

import numpy as np
import pytest

import integrad
from conftest import read_safetensors


@pytest.mark.parametrize("name", ["mlp", "cnn", "text"])
def test_predict_matches_pytorch(torch_data, name):
    for tag, dtype, tol in [("f64", np.float64, 1e-12), ("f32", np.float32, 1e-5)]:
        model = integrad.load(os.path.join(torch_data, f"{name}_{tag}.safetensors"))
        assert model.dtype == np.dtype(dtype).name  # the file's precision is kept
        x = np.load(os.path.join(torch_data, f"{name}_{tag}_input.npy"))
        y = model.predict(x)
        assert y.dtype == dtype
        np.testing.assert_allclose(y, np.load(os.path.join(torch_data, f"{name}_{tag}_output.npy")), rtol=0, atol=tol)


def test_from_torch_state_dict_matches_pytorch(torch_data):
    state, meta = read_safetensors(os.path.join(torch_data, "cnn_f64.safetensors"))
    shape = tuple(int(d) for d in meta["input_shape"].split(","))
    model = integrad.Model.from_torch(state, meta["architecture"], shape)
    assert model.dtype == "float64" and model.input_shape == (2, 9, 9)
    x = np.load(os.path.join(torch_data, "cnn_f64_input.npy"))
    np.testing.assert_allclose(model.predict(x), np.load(os.path.join(torch_data, "cnn_f64_output.npy")), rtol=0, atol=1e-12)
    for k, v in model.state_dict().items():
        assert np.array_equal(v, state[k])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_predict_equals_cli_bit_for_bit(torch_data, cli, tmp_path, dtype):
    path = os.path.join(torch_data, "cnn_f32.safetensors")
    x = np.random.default_rng(1).normal(size=(7, 2, 9, 9)).astype(dtype)
    np.save(tmp_path / "x.npy", x)
    cli("predict", path, tmp_path / "x.npy", "-o", tmp_path / "y.npy", "--dtype", dtype)
    expected = np.load(tmp_path / "y.npy")
    got = integrad.load(path, dtype=dtype).predict(x)
    assert got.dtype == expected.dtype and np.array_equal(got, expected)


def test_save_load_round_trip(torch_data, tmp_path):
    model = integrad.load(os.path.join(torch_data, "mlp_f64.safetensors"))
    x = np.load(os.path.join(torch_data, "mlp_f64_input.npy"))
    model.save(str(tmp_path / "m.safetensors"))
    again = integrad.load(str(tmp_path / "m.safetensors"))
    assert again.architecture == model.architecture and again.input_shape == model.input_shape
    assert np.array_equal(again.predict(x), model.predict(x))
    for k, v in model.state_dict().items():
        assert np.array_equal(again.state_dict()[k], v)
    model.save(str(tmp_path / "m32.safetensors"), dtype="float32")
    small = integrad.load(str(tmp_path / "m32.safetensors"))
    assert small.dtype == "float32"
    assert np.array_equal(small.state_dict()["1.weight"], model.state_dict()["1.weight"].astype(np.float32))


def test_info(torch_data):
    model = integrad.load(os.path.join(torch_data, "mlp_f64.safetensors"))
    info = model.info()
    assert info["parameters"] == 217 == model.parameter_count  # 12*8+8 + 8*6+6 + 6*5+5 + 5*4+4
    assert info["input_shape"] == (3, 4) and info["output_shape"] == (4,)
    assert [l["parameters"] for l in info["layers"]] == [0, 104, 0, 54, 0, 35, 0, 24, 0]
    assert info["layers"][1] == {"index": 1, "name": "1", "reads": ["0"], "layer": "Linear(12, 8)", "output_shape": (8,), "parameters": 104}
    assert "total parameters: 217" in str(model)


def test_to_dtype(torch_data):
    model = integrad.load(os.path.join(torch_data, "mlp_f64.safetensors"))
    x = np.load(os.path.join(torch_data, "mlp_f64_input.npy"))
    m32 = model.to("float32")
    assert m32.dtype == "float32" and model.dtype == "float64"
    np.testing.assert_allclose(m32.predict(x), model.predict(x), rtol=0, atol=1e-6)


def test_layouts_give_the_same_result(torch_data):
    """Non-contiguous, Fortran-order, big-endian and float64-into-float32 inputs are all accepted."""
    model = integrad.load(os.path.join(torch_data, "cnn_f32.safetensors"))
    x = np.random.default_rng(2).normal(size=(4, 2, 9, 9)).astype(np.float32)
    expected = model.predict(x)
    wide = np.zeros((4, 2, 9, 18), np.float32)
    wide[..., ::2] = x
    assert not wide[..., ::2].flags.c_contiguous
    assert np.array_equal(model.predict(wide[..., ::2]), expected)
    assert np.array_equal(model.predict(np.asfortranarray(x)), expected)
    assert np.array_equal(model.predict(x.astype(">f4")), expected)
    assert np.array_equal(model.predict(x.astype(np.float64)), expected)  # converted to the model's dtype, as the CLI does
    assert np.array_equal(model.predict(x.tolist()), expected)


def test_bad_inputs_raise(torch_data, tmp_path):
    model = integrad.load(os.path.join(torch_data, "cnn_f32.safetensors"))
    x = np.zeros((2, 2, 9, 9), np.float32)
    with pytest.raises(ValueError, match=r"dtype int32; integrad takes float32 or float64"):
        model.predict(x.astype(np.int32))
    with pytest.raises(ValueError, match=r"dtype complex128"):
        model.predict(x.astype(np.complex128))
    with pytest.raises(ValueError, match=r"has shape \[2, 9, 9\], the model expects \[N, 2, 9, 9\] \(per example \[2, 9, 9\]\)"):
        model.predict(x[0])
    with pytest.raises(ValueError, match=r"holds no examples"):
        model.predict(x[:0])
    with pytest.raises(ValueError, match=r"None"):
        model.predict(None)
    with pytest.raises(ValueError, match=r"batch_size"):
        model.predict(x, batch_size=0)
    with pytest.raises(FileNotFoundError, match=r"nowhere.safetensors: no such file"):
        integrad.load(str(tmp_path / "nowhere.safetensors"))
    (tmp_path / "junk.safetensors").write_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00hello")
    with pytest.raises(RuntimeError, match=r"junk.safetensors: not a valid safetensors file"):
        integrad.load(str(tmp_path / "junk.safetensors"))
    with pytest.raises(ValueError, match=r"dtype must be 'float32' or 'float64'"):
        integrad.load(os.path.join(torch_data, "cnn_f32.safetensors"), dtype="float16")


def test_from_torch_errors(torch_data):
    state, meta = read_safetensors(os.path.join(torch_data, "mlp_f64.safetensors"))
    arch = meta["architecture"]
    missing = dict(state)
    del missing["3.weight"]
    with pytest.raises(ValueError, match=r"tensor '3.weight' missing; the architecture needs it with shape \[6, 8\]"):
        integrad.Model.from_torch(missing, arch, (3, 4))
    wrong = dict(state, **{"3.weight": np.zeros((8, 6))})
    with pytest.raises(ValueError, match=r"tensor '3.weight' has shape \[8, 6\], the architecture needs \[6, 8\]"):
        integrad.Model.from_torch(wrong, arch, (3, 4))
    extra = dict(state, **{"9.weight": np.zeros(3)})
    with pytest.raises(ValueError, match=r"'9.weight' \(shape \[3\]\) belongs to no layer"):
        integrad.Model.from_torch(extra, arch, (3, 4))
    with pytest.raises(ValueError, match=r"state_dict\['1.bias'\] has dtype int64"):
        integrad.Model.from_torch(dict(state, **{"1.bias": np.zeros(8, np.int64)}), arch, (3, 4))
    with pytest.raises(ValueError, match=r"Linear"):
        integrad.Model.from_torch(state, arch, (5, 4))  # 20 inputs do not fit Linear(12, 8)
