#!/usr/bin/python3
"""Writes two integrad graph models with random weights that hold every layer kind, for the
onnxruntime parity test (check_parity.sh): `zoo_image` (convolutions, pools, BatchNorm1d/2d, the
activations, Concat, Add, Identity, Dropout, Flatten, Softmax) and `zoo_tokens` (Embedding,
PositionalEmbedding, LayerNorm, GELU, a pre-norm GELU TransformerEncoderLayer,
two-layer LSTM, GRU without bias, BatchNorm1d on [C, L], Mean, Select, Add), and `zoo_dense`, the
token model without its recurrent layers and GELU, which onnxruntime also runs in float64 (its CPU
kernels for Conv, LSTM, GRU and Erf are float32 only).

    make_models.py OUT_DIR float32|float64

The architecture texts are tests/data/zoo/*.arch. The files are .safetensors as integrad writes them (state_dict names, __metadata__ architecture,
input_shape, input_dtype); BatchNorm's running statistics are random too, so evaluation mode is
not the identity."""
import os
import sys

import numpy as np
import torch

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
sys.path.insert(0, DATA)
from safetensors_writer import save_safetensors  # noqa: E402


def read_architecture(name):
    """One of the zoo texts, shared with tests/nn/test_onnx_export.cpp."""
    with open(os.path.join(DATA, "zoo", name)) as f:
        return f.read().strip()



IMAGE = read_architecture("image.arch")
IMAGE_PARAMS = {
    "conv.weight": (4, 3, 3, 3), "conv.bias": (4,),
    "bn": "bn2d:4",
    "branch.conv.weight": (4, 3, 3, 3),
    "bn1": "bn:8",
    "fc.weight": (5, 8), "fc.bias": (5,),
}

TOKENS = read_architecture("tokens.arch")
TOKENS_PARAMS = {
    "emb.weight": (10, 8), "pos.weight": (6, 8), "ln.weight": (8,), "ln.bias": (8,),
    "enc.self_attn.in_proj_weight": (24, 8), "enc.self_attn.in_proj_bias": (24,),
    "enc.self_attn.out_proj.weight": (8, 8), "enc.self_attn.out_proj.bias": (8,),
    "enc.linear1.weight": (16, 8), "enc.linear1.bias": (16,), "enc.linear2.weight": (8, 16), "enc.linear2.bias": (8,),
    "enc.norm1.weight": (8,), "enc.norm1.bias": (8,), "enc.norm2.weight": (8,), "enc.norm2.bias": (8,),
    "lstm.weight_ih_l0": (24, 8), "lstm.weight_hh_l0": (24, 6), "lstm.bias_ih_l0": (24,), "lstm.bias_hh_l0": (24,),
    "lstm.weight_ih_l1": (24, 6), "lstm.weight_hh_l1": (24, 6), "lstm.bias_ih_l1": (24,), "lstm.bias_hh_l1": (24,),
    "gru.weight_ih_l0": (12, 6), "gru.weight_hh_l0": (12, 4),
    "bn": "bn:6",
    "fc.weight": (3, 4), "fc.bias": (3,),
}


DENSE = TOKENS.replace("gelu = GELU()", "sig = Sigmoid()").replace("activation=gelu, ", "").replace("lstm = LSTM(8, 6, num_layers=2, batch_first=True)\ngru = GRU(6, 4, bias=False, batch_first=True)\n", "").replace(
    "fc = Linear(4, 3)", "fc = Linear(8, 3)")
DENSE_PARAMS = {k: v for k, v in TOKENS_PARAMS.items() if not k.startswith(("lstm.", "gru.", "fc."))}
DENSE_PARAMS.update({"fc.weight": (3, 8), "fc.bias": (3,)})


def tensors(params, rng):
    out = {}
    for name, spec in params.items():
        if isinstance(spec, str):  # a BatchNorm: weight, bias, running statistics
            n = int(spec.split(":")[1])
            out[name + ".weight"] = rng.uniform(0.5, 1.5, n)
            out[name + ".bias"] = rng.uniform(-0.5, 0.5, n)
            out[name + ".running_mean"] = rng.uniform(-0.3, 0.3, n)
            out[name + ".running_var"] = rng.uniform(0.5, 2.0, n)
            out[name + ".num_batches_tracked"] = np.array(7.0)
        else:
            out[name] = rng.uniform(-0.6, 0.6, spec)
    return out


def write_safetensors(path, arrays, metadata, dtype):
    save_safetensors(path, arrays, metadata, torch.float32 if dtype == "float32" else torch.float64)


def main():
    out_dir, dtype = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(25)
    write_safetensors(f"{out_dir}/zoo_image.safetensors", tensors(IMAGE_PARAMS, rng),
                      {"architecture": IMAGE, "input_shape": "3,8,8", "input_dtype": "float32"}, dtype)
    write_safetensors(f"{out_dir}/zoo_tokens.safetensors", tensors(TOKENS_PARAMS, rng),
                      {"architecture": TOKENS, "input_shape": "6", "input_dtype": "int64"}, dtype)
    write_safetensors(f"{out_dir}/zoo_dense.safetensors", tensors(DENSE_PARAMS, rng),
                      {"architecture": DENSE, "input_shape": "6", "input_dtype": "int64"}, dtype)
    np.save(f"{out_dir}/zoo_image_inputs.npy", rng.normal(size=(5, 3, 8, 8)).astype(np.float32))
    np.save(f"{out_dir}/zoo_tokens_inputs.npy", rng.integers(0, 10, size=(5, 6)).astype(np.float32))
    np.save(f"{out_dir}/zoo_dense_inputs.npy", rng.integers(0, 10, size=(5, 6)).astype(np.float32))


if __name__ == "__main__":
    main()
