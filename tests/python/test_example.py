"""docs/python_example.py runs end to end: it trains, explains and writes a PNG figure."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from conftest import SOURCE

import integrad


def test_example_script_runs(tmp_path):
    pytest_env = dict(os.environ, MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, os.path.join(SOURCE, "docs", "python_example.py"), str(tmp_path)], capture_output=True, text=True,
                       env=pytest_env, timeout=120)
    assert r.returncode == 0, r.stderr
    png = tmp_path / "python_example.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10000
    assert float(re.search(r"test accuracy ([0-9.]+)", r.stdout).group(1)) >= 5 / 6
    # the patch is 16 of 784 pixels (2%); a model that found it puts far more of |IG| there
    shares = [float(s) for s in re.search(r"share of \|IG\| on the patch \[([^\]]*)\]", r.stdout).group(1).split()]
    assert len(shares) == 6 and min(shares) > 0.2, shares
    model = integrad.load(str(tmp_path / "python_example.safetensors"))
    x, y = integrad.synthetic_patches(6, seed=2)
    assert model.input_shape == (1, 28, 28) and model.predict(x).shape == (6, 10)


def test_synthetic_patch_mask():
    mask = integrad.synthetic_patch_mask(7)
    assert mask.shape == (1, 28, 28) and mask.sum() == 16
    x, y = integrad.synthetic_patches(10, seed=4)
    assert np.all(x[y == 7][:, mask == 1] == 1)  # the patch is bright exactly there


def test_named_datasets_with_masks():
    names = {d["name"]: d for d in integrad.datasets()}
    assert names["synthetic-patches"]["has_masks"] and not names["fashion-mnist"]["has_masks"]
    x, y, masks = integrad.dataset("synthetic-patches", limit=5)
    assert x.shape == (5, 1, 28, 28) and y.shape == (5,) and masks.shape == x.shape
    # Each mask is the 4x4 patch of the example's class, where the example is bright.
    for i in range(5):
        assert masks[i].sum() == 16
        assert np.array_equal(masks[i], integrad.synthetic_patch_mask(int(y[i])))
        assert x[i][masks[i] == 1].min() == 1.0
    xt, yt, mt = integrad.dataset("synthetic-tokens", split="train", limit=3, dtype="float64")
    assert xt.dtype == np.int64 and mt.shape == xt.shape  # token ids are int64 whatever dtype= says (it sets the masks' and floats')
    assert set(np.unique(xt[mt == 1])) <= {1, 2, 3, 4}  # the markers decide the label
    with pytest.raises(ValueError, match="unknown data set 'nope'"):
        integrad.dataset("nope")
