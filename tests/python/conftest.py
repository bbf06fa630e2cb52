"""Shared fixtures: where the build and the PyTorch fixtures are, the CLI, a safetensors reader."""
import json
import os
import struct
import subprocess

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("INTEGRAD_BUILD_DIR", os.path.join(SOURCE, "build"))
TORCH_DATA = os.path.join(SOURCE, "tests", "data", "torch")


@pytest.fixture
def torch_data():
    return TORCH_DATA


@pytest.fixture
def cli():
    """Runs build/integrad with the given arguments; returns its stdout, fails on a non-zero exit."""
    exe = os.path.join(BUILD, "integrad")
    if not os.path.exists(exe):
        pytest.fail(f"{exe} is not built (cmake --build build --target integrad)")

    def run(*args):
        r = subprocess.run([exe, *map(str, args)], capture_output=True, text=True)
        assert r.returncode == 0, f"integrad {' '.join(map(str, args))}: {r.stderr}"
        return r.stdout
    return run


def read_safetensors(path):
    """(state_dict of NumPy arrays, metadata), by hand: what safetensors.numpy.load_file gives."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    dtypes = {"F32": "<f4", "F64": "<f8"}
    tensors = {}
    for name, h in header.items():
        a, b = h["data_offsets"]
        tensors[name] = np.frombuffer(data[a:b], dtype=dtypes[h["dtype"]]).reshape(h["shape"]).copy()
    return tensors, meta
