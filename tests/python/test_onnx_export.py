"""model.export("m.onnx"): what integrad writes for each named architecture passes ONNX's own
checker with full_check (strict shape inference) in python3-onnx, keeps the state_dict as its
initializers (values equal to model.state_dict()) and the model's metadata; a path that is not
.onnx is refused. onnxruntime's outputs: tests/onnx_runtime/check_parity.sh."""
import numpy as np
import pytest

import integrad
from conftest import read_safetensors

onnx = pytest.importorskip("onnx")
numpy_helper = pytest.importorskip("onnx.numpy_helper")

ARCHS = ["mlp", "cnn", "resnet", "tabular", "text", "transformer", "lstm", "gru"]


def trained(cli, tmp_path, arch):
    data = ["--data", "synthetic-watermark"] if arch in ("mlp", "cnn", "resnet") else []
    path = tmp_path / f"{arch}.safetensors"
    cli("train", "--arch", arch, *data, "--limit", 32, "--val-limit", 8, "--epochs", 1, "-o", path)
    return integrad.load(str(path))


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_export_passes_the_onnx_checker(cli, tmp_path, arch, dtype):
    model = trained(cli, tmp_path, arch).to(dtype)
    out = tmp_path / f"{arch}.onnx"
    model.export(str(out))
    proto = onnx.load(str(out))
    onnx.checker.check_model(proto, full_check=True)
    assert proto.opset_import[0].version == 17
    assert [i.name for i in proto.graph.input] == ["input"]
    assert [o.name for o in proto.graph.output] == ["output"]
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"
    # The initializers are the state_dict (BatchNorm's num_batches_tracked aside), values equal.
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    inits = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
    assert set(inits) == set(state)
    for name, value in state.items():
        assert inits[name].dtype == np.dtype(dtype), name
        np.testing.assert_array_equal(inits[name], value, err_msg=name)
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["architecture"] == model.architecture
    assert meta["input_dtype"] == model.input_dtype
    assert meta["input_shape"] == ",".join(map(str, model.input_shape))


def test_export_keeps_feature_names_and_output_kind(cli, tmp_path):
    path = tmp_path / "loan.safetensors"
    cli("train", "--arch", "tabular", "--data", "synthetic-loan", "--limit", 32, "--val-limit", 8, "--epochs", 1, "-o", path)
    model = integrad.load(str(path))
    model.export(str(tmp_path / "loan.onnx"))
    meta = {p.key: p.value for p in onnx.load(str(tmp_path / "loan.onnx")).metadata_props}
    _, saved = read_safetensors(path)
    assert meta["feature_names"] == saved["feature_names"] == "income,debt,age,zip_code,years_employed,open_accounts"
    assert meta.get("output") == saved.get("output")


def test_export_refuses_a_path_that_is_not_onnx(cli, tmp_path):
    model = trained(cli, tmp_path, "tabular")
    with pytest.raises(ValueError, match="not a .onnx path"):
        model.export(str(tmp_path / "m.safetensors"))
