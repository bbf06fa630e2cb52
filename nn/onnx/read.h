// ONNX models in: a .onnx file (opsets 13 to 17, as torch.onnx.export writes them) read into the
// same nn::Model graph as integrad's own files, op by op through nn/onnx/op_table.cpp. Integer
// shape arithmetic is folded at load time with the batch symbolic; anything else is refused
// naming the op, the node and the file. docs/onnx.md says what is supported.
#pragma once

#include <string>
#include <vector>

#include "autodiff/tensor.h"
#include "nn/model.h"

namespace integrad::nn {

bool is_onnx_path(const std::string& path);

// The model, its parameters converted to T. The names --layer takes (node names, output tensor
// names, PyTorch module paths) are in the model's aliases, each initializer's name in its origin.
// `held`: TensorProto files (.pb) fed to the graph's second, third, ... inputs and held as constants
// (ONNX's node tests give every operand as an input; Python's forward_kwargs are the same idea).
template <ad::Scalar T>
Model<T> load_onnx(const std::string& path, const std::vector<std::string>& held = {});

// A TensorProto file (ONNX's test data: input_0.pb, output_0.pb) as doubles, sizes checked as for
// initializers.
ad::Tensor<double> read_onnx_tensor(const std::string& path);

}  // namespace integrad::nn
