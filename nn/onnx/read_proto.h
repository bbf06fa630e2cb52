// The reader's protobuf-level entry points (nn/onnx/read.cpp), for the code that rewrites an ONNX
// file (nn/onnx/write_back.cpp); the rest of integrad uses nn/onnx/read.h, without protobuf.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

#include "nn/model.h"

namespace integrad::nn::onnx_in {

// The file parsed, with its size and nesting bounded; throws naming the file.
onnx::ModelProto parse_onnx_file(const std::string& path);
// The model `proto` describes; `path` names it in messages and is the folder of its external data.
template <ad::Scalar T>
Model<T> model_of_proto(const onnx::ModelProto& proto, const std::string& path, const std::vector<std::string>& held = {});

}  // namespace integrad::nn::onnx_in
