"""integrad.axioms: the CLI's axiom matrix, figure for figure; a failing cell is reported as one."""
import json
import os

import numpy as np
import pytest

import integrad


def test_axioms_equal_cli_json(torch_data, cli, tmp_path):
    path = os.path.join(torch_data, "ig_model_f64.safetensors")
    x = os.path.join(torch_data, "ig_input_f64.npy")
    cli("axioms", path, x, "--json", tmp_path / "a.json", "--dtype", "float64", "--methods", "gradient", "ig_gausslegendre", "saliency")
    expected = {row["method"]: row["checks"] for row in json.loads((tmp_path / "a.json").read_text())}
    got = integrad.axioms(integrad.load(path), np.load(x), methods=["gradient", "ig_gausslegendre", "saliency"])
    assert list(got) == ["gradient", "ig_gausslegendre", "saliency"]
    for method, checks in expected.items():
        for axiom, cell in checks.items():
            for key in ("applicable", "passed", "figure", "tolerance", "detail"):
                assert got[method][axiom][key] == cell[key], (method, axiom, key)
    # the gradient is not complete (figure 3.17 > 5%), IG is and must be
    assert not got["gradient"]["completeness"]["passed"] and got["gradient"]["completeness"]["figure"] > 1
    assert got["ig_gausslegendre"]["completeness"]["passed"] and got["ig_gausslegendre"]["completeness"]["must_satisfy"]


def test_axioms_bad_arguments(torch_data):
    model = integrad.load(os.path.join(torch_data, "ig_model_f64.safetensors"))
    x = np.load(os.path.join(torch_data, "ig_input_f64.npy"))
    with pytest.raises(ValueError, match=r"unknown method 'anchors' for this model \(gradient, saliency"):
        integrad.axioms(model, x, methods=["anchors"])
    with pytest.raises(ValueError, match=r"expects \[N, 6\]"):
        integrad.axioms(model, x[:, :2])
    with pytest.raises(ValueError, match=r"another dtype"):
        integrad.axioms(model, x, methods=["gradient"], twins={"f32": model.to("float32")})
