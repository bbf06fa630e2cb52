#!/usr/bin/env python3
"""A small Keras CNN shaped as tf2onnx writes it, built by hand with python3-onnx's helper API
(tf2onnx is not in Debian, so no real tf2onnx output is tested here). What makes it Keras-shaped:
an NHWC input (`input_1`, batch `unk__12`), a Transpose to NCHW before the convolution and one
back after the pooling (tf2onnx keeps Keras's channels-last layout outside the ops that need
NCHW), Conv with explicit pads (Keras's padding="same"), Relu, MaxPool, the flatten as a Reshape
to [-1, F] with a folded int64 shape constant, Dense layers as MatMul + Add (tf2onnx does not
emit Gemm for them), Softmax at the end (Keras's activation="softmax"), tf2onnx's names
(`sequential/dense/MatMul`, initializers `sequential/dense/MatMul/ReadVariableOp:0`), opset 13
and an ai.onnx.ml opset import.

The model (float32): input [N, 6, 6, 2] -> Conv2D(4, 3, same) + ReLU -> MaxPool(2) -> Flatten ->
Dense(8) + ReLU -> Dense(3) + softmax. Its expected outputs are computed in float64 from the float32
weights and inputs by numpy below (onnx 1.12 has no reference evaluator), and checked against
torch.nn.functional (same layout conversions) before anything is written.

    /usr/bin/python3 tests/data/make_keras_shaped_onnx.py
Writes tests/data/onnx/keras_cnn.onnx, keras_cnn_input.npy (float32 [4, 6, 6, 2]) and
keras_cnn_output.npy (float64 [4, 3])."""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "onnx")
os.makedirs(HERE, exist_ok=True)
rng = np.random.default_rng(2024)
H, W, C, F, HIDDEN, CLASSES = 6, 6, 2, 4, 8, 3
FLAT = (H // 2) * (W // 2) * F

# Keras's own layouts: Conv2D kernel [kh, kw, in, out], Dense kernel [in, out].
conv_kernel = (0.4 * rng.standard_normal((3, 3, C, F))).astype(np.float32)
conv_bias = (0.1 * rng.standard_normal(F)).astype(np.float32)
dense_kernel = (0.3 * rng.standard_normal((FLAT, HIDDEN))).astype(np.float32)
dense_bias = (0.1 * rng.standard_normal(HIDDEN)).astype(np.float32)
out_kernel = (0.5 * rng.standard_normal((HIDDEN, CLASSES))).astype(np.float32)
out_bias = (0.1 * rng.standard_normal(CLASSES)).astype(np.float32)
x = rng.standard_normal((4, H, W, C)).astype(np.float32)


def reference(x):
    """The Keras model in float64 numpy, NHWC throughout as Keras computes it."""
    k, b = conv_kernel.astype(np.float64), conv_bias.astype(np.float64)
    padded = np.pad(x.astype(np.float64), ((0, 0), (1, 1), (1, 1), (0, 0)))
    conv = np.zeros((x.shape[0], H, W, F))
    for i in range(H):
        for j in range(W):
            conv[:, i, j, :] = np.einsum("nabc,abcf->nf", padded[:, i:i + 3, j:j + 3, :], k) + b
    act = np.maximum(conv, 0)
    pooled = act.reshape(x.shape[0], H // 2, 2, W // 2, 2, F).max(axis=(2, 4))
    flat = pooled.reshape(x.shape[0], FLAT)  # Keras's Flatten of NHWC
    hidden = np.maximum(flat @ dense_kernel.astype(np.float64) + dense_bias.astype(np.float64), 0)
    logits = hidden @ out_kernel.astype(np.float64) + out_bias.astype(np.float64)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def torch_check(x, want):
    """The same function through torch.nn.functional (NCHW), to catch a mistake in reference()."""
    import torch
    import torch.nn.functional as tf
    t = torch.from_numpy(x.astype(np.float64)).permute(0, 3, 1, 2)
    w = torch.from_numpy(conv_kernel.astype(np.float64)).permute(3, 2, 0, 1)
    y = tf.max_pool2d(tf.relu(tf.conv2d(t, w, torch.from_numpy(conv_bias.astype(np.float64)), padding=1)), 2)
    y = y.permute(0, 2, 3, 1).reshape(x.shape[0], FLAT)
    y = tf.relu(y @ torch.from_numpy(dense_kernel.astype(np.float64)) + torch.from_numpy(dense_bias.astype(np.float64)))
    y = torch.softmax(y @ torch.from_numpy(out_kernel.astype(np.float64)) + torch.from_numpy(out_bias.astype(np.float64)), dim=1)
    assert np.abs(y.numpy() - want).max() < 1e-14, np.abs(y.numpy() - want).max()


def init(name, value):
    return numpy_helper.from_array(value, name)


# tf2onnx's initializers: the Conv weight converted to ONNX's [out, in, kh, kw].
inits = [
    init("sequential/conv2d/Conv2D/ReadVariableOp:0", np.ascontiguousarray(conv_kernel.transpose(3, 2, 0, 1))),
    init("sequential/conv2d/BiasAdd/ReadVariableOp:0", conv_bias),
    init("const_fold_opt__20", np.array([-1, FLAT], dtype=np.int64)),
    init("sequential/dense/MatMul/ReadVariableOp:0", dense_kernel),
    init("sequential/dense/BiasAdd/ReadVariableOp:0", dense_bias),
    init("sequential/dense_1/MatMul/ReadVariableOp:0", out_kernel),
    init("sequential/dense_1/BiasAdd/ReadVariableOp:0", out_bias),
]
nodes = [
    helper.make_node("Transpose", ["input_1"], ["sequential/conv2d/BiasAdd__6:0"], name="sequential/conv2d/BiasAdd__6", perm=[0, 3, 1, 2]),
    helper.make_node("Conv", ["sequential/conv2d/BiasAdd__6:0", "sequential/conv2d/Conv2D/ReadVariableOp:0", "sequential/conv2d/BiasAdd/ReadVariableOp:0"],
                     ["sequential/conv2d/BiasAdd:0"], name="sequential/conv2d/BiasAdd", dilations=[1, 1], group=1, kernel_shape=[3, 3],
                     pads=[1, 1, 1, 1], strides=[1, 1]),
    helper.make_node("Relu", ["sequential/conv2d/BiasAdd:0"], ["sequential/conv2d/Relu:0"], name="sequential/conv2d/Relu"),
    helper.make_node("MaxPool", ["sequential/conv2d/Relu:0"], ["sequential/max_pooling2d/MaxPool:0"], name="sequential/max_pooling2d/MaxPool",
                     kernel_shape=[2, 2], strides=[2, 2]),
    helper.make_node("Transpose", ["sequential/max_pooling2d/MaxPool:0"], ["sequential/max_pooling2d/MaxPool__16:0"],
                     name="sequential/max_pooling2d/MaxPool__16", perm=[0, 2, 3, 1]),
    helper.make_node("Reshape", ["sequential/max_pooling2d/MaxPool__16:0", "const_fold_opt__20"], ["sequential/flatten/Reshape:0"],
                     name="sequential/flatten/Reshape"),
    helper.make_node("MatMul", ["sequential/flatten/Reshape:0", "sequential/dense/MatMul/ReadVariableOp:0"], ["sequential/dense/MatMul:0"],
                     name="sequential/dense/MatMul"),
    helper.make_node("Add", ["sequential/dense/MatMul:0", "sequential/dense/BiasAdd/ReadVariableOp:0"], ["sequential/dense/BiasAdd:0"],
                     name="sequential/dense/BiasAdd"),
    helper.make_node("Relu", ["sequential/dense/BiasAdd:0"], ["sequential/dense/Relu:0"], name="sequential/dense/Relu"),
    helper.make_node("MatMul", ["sequential/dense/Relu:0", "sequential/dense_1/MatMul/ReadVariableOp:0"], ["sequential/dense_1/MatMul:0"],
                     name="sequential/dense_1/MatMul"),
    helper.make_node("Add", ["sequential/dense_1/MatMul:0", "sequential/dense_1/BiasAdd/ReadVariableOp:0"], ["sequential/dense_1/BiasAdd:0"],
                     name="sequential/dense_1/BiasAdd"),
    helper.make_node("Softmax", ["sequential/dense_1/BiasAdd:0"], ["dense_1"], name="sequential/dense_1/Softmax", axis=-1),
]
graph = helper.make_graph(nodes, "tf2onnx", [helper.make_tensor_value_info("input_1", TensorProto.FLOAT, ["unk__12", H, W, C])],
                          [helper.make_tensor_value_info("dense_1", TensorProto.FLOAT, ["unk__13", CLASSES])], initializer=inits)
model = helper.make_model(graph, producer_name="tf2onnx", producer_version="1.9.3 1190aa",
                          opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 2)])
model.ir_version = 7
onnx.checker.check_model(model, full_check=True)

want = reference(x)
torch_check(x, want)
onnx.save(model, os.path.join(HERE, "keras_cnn.onnx"))
np.save(os.path.join(HERE, "keras_cnn_input.npy"), x)
np.save(os.path.join(HERE, "keras_cnn_output.npy"), want)
print("wrote", os.path.join(HERE, "keras_cnn.onnx"), "onnx", onnx.__version__)
