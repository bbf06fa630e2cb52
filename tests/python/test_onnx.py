"""integrad.load reads ONNX files (nn/onnx/): torch-exported models from tests/data/onnx give
PyTorch's outputs, float64 when the file's input is; a hostile file is a ValueError naming it."""
import os

import numpy as np
import pytest

import integrad
from conftest import SOURCE

ONNX = os.path.join(SOURCE, "tests", "data", "onnx")


@pytest.mark.parametrize("name,dtype,tol", [("resnet_f64", "float64", 1e-12), ("encoder17", "float32", 1e-5), ("lstm", "float32", 1e-5)])
def test_load_onnx_predicts_as_pytorch(name, dtype, tol):
    model = integrad.load(os.path.join(ONNX, name + ".onnx"))
    assert model.dtype == dtype
    x = np.load(os.path.join(ONNX, name + "_input.npy"))
    np.testing.assert_allclose(model.predict(x), np.load(os.path.join(ONNX, name + "_output.npy")), rtol=0, atol=tol)


def test_hostile_onnx_is_a_value_error_naming_the_file():
    path = os.path.join(ONNX, "hostile", "cycle.onnx")
    with pytest.raises(ValueError, match="cycle.onnx: node 'first' \\(Relu\\) reads 'b'"):
        integrad.load(path)
