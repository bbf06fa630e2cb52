"""docs/python_example.py runs end to end: it trains, explains and writes a PNG figure."""
import os
import re
import subprocess
import sys

import numpy as np

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
