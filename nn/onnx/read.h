// ONNX models in: a .onnx file (opsets 13 to 17, as torch.onnx.export writes them) read into the
// same nn::Model graph as integrad's own files, op by op through nn/onnx/op_table.cpp. Integer
// shape arithmetic is folded at load time with the batch symbolic; anything else is refused
// naming the op, the node and the file. docs/onnx.md says what is supported.
#pragma once

#include <string>

#include "nn/model.h"

namespace integrad::nn {

bool is_onnx_path(const std::string& path);

// The model, its parameters converted to T. The names --layer takes (node names, output tensor
// names, PyTorch module paths) are in the model's aliases, each initializer's name in its origin.
template <ad::Scalar T>
Model<T> load_onnx(const std::string& path);

}  // namespace integrad::nn
