#!/usr/bin/env python3
"""Hostile ONNX files for the reader's refusals (tests/nn/test_onnx.cpp): each small, each wrong in
one way. Run with Debian's python3-onnx:  /usr/bin/python3 tests/data/make_onnx_hostile.py"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "onnx", "hostile")
os.makedirs(HERE, exist_ok=True)
X = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])
Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])


def save(name, nodes, inits=(), inputs=(X,), opset=13):
    g = helper.make_graph(nodes, name, list(inputs), [Y], initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    with open(os.path.join(HERE, name + ".onnx"), "wb") as f:
        f.write(m.SerializeToString())


def raw_tensor(dims, data):
    """A float tensor with any dims and any raw bytes (helper.make_tensor checks they agree)."""
    t = TensorProto()
    t.name, t.data_type, t.raw_data = "w", TensorProto.FLOAT, data
    t.dims.extend(dims)
    return t


w = numpy_helper.from_array(np.ones((3,), np.float32), "w")
save("good", [helper.make_node("Add", ["x", "w"], ["y"], name="add")], [w])
# A tensor whose dims claim 2^40 values and whose data holds 12 bytes.
lying = raw_tensor([1 << 20, 1 << 20], b"\0" * 12)
save("gigabytes", [helper.make_node("Add", ["x", "w"], ["y"], name="add")], [lying])
# 2^27 values (512 MB of float32) claimed, under the element limit, 12 bytes present.
save("half_gigabyte", [helper.make_node("Add", ["x", "w"], ["y"], name="add")], [raw_tensor([1 << 14, 1 << 13], b"\0" * 12)])
# Dims that disagree with the data: 3 values claimed, 5 present.
short = raw_tensor([3], b"\0" * 20)
save("lying_dims", [helper.make_node("Add", ["x", "w"], ["y"], name="add")], [short])
# A cycle: a reads b, b reads a.
save("cycle", [helper.make_node("Relu", ["b"], ["a"], name="first"), helper.make_node("Relu", ["a"], ["b"], name="second"),
               helper.make_node("Relu", ["b"], ["y"], name="third")])
save("dangling", [helper.make_node("Relu", ["nowhere"], ["y"], name="lost")])
save("unknown_op", [helper.make_node("Hardmax", ["x"], ["y"], name="hm")])
# Two inputs read (a good file), then inputs that lie: the same name twice, a dtype integrad does not
# take, a symbolic dimension other than the batch, and more inputs than integrad reads.
save("two_inputs", [helper.make_node("Add", ["x", "x2"], ["y"], name="add")],
     inputs=(X, helper.make_tensor_value_info("x2", TensorProto.FLOAT, ["batch", 3])))
save("duplicate_inputs", [helper.make_node("Add", ["x", "x"], ["y"], name="add")], inputs=(X, X))
save("second_input_int32", [helper.make_node("Add", ["x", "x2"], ["y"], name="add")],
     inputs=(X, helper.make_tensor_value_info("x2", TensorProto.INT32, ["batch", 3])))
save("second_input_symbolic", [helper.make_node("Add", ["x", "x2"], ["y"], name="add")],
     inputs=(X, helper.make_tensor_value_info("x2", TensorProto.FLOAT, ["batch", "k"])))
many = [helper.make_tensor_value_info(f"x{k}", TensorProto.FLOAT, ["batch", 3]) for k in range(65)]
save("many_inputs", [helper.make_node("Relu", ["x0"], ["y"], name="r")], inputs=many)
save("opset_6", [helper.make_node("Relu", ["x"], ["y"], name="r")], opset=6)
# External data outside the model's folder.
ext = raw_tensor([3], b"")
ext.ClearField("raw_data")
ext.data_location = TensorProto.EXTERNAL
for k, v in (("location", "../../../../etc/passwd"), ("offset", "0"), ("length", "12")):
    e = ext.external_data.add()
    e.key, e.value = k, v
save("external_traversal", [helper.make_node("Add", ["x", "w"], ["y"], name="add")], [ext])
# Subgraphs nested 200 deep (If inside If): refused by the parser's recursion limit.
leaf = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "leaf", [], [Y])
inner = leaf
for i in range(200):
    node = helper.make_node("If", ["c"], ["y"], then_branch=inner, else_branch=leaf)
    inner = helper.make_graph([node], f"g{i + 1}", [], [Y])
g = helper.make_graph(inner.node, "deep", [X], [Y])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
with open(os.path.join(HERE, "deep_nesting.onnx"), "wb") as f:
    f.write(m.SerializeToString())
