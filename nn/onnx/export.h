// Writing a model as ONNX (opset 17), for onnxruntime or any other runtime (docs/onnx.md, "Export").
// The graph is the model in evaluation mode: one input "input" ([N, ...] with a dynamic batch
// dimension N; float of the model's dtype, or int64 for token ids), one output "output"; the
// initializers are the state_dict (names and values as they are, in the model's dtype); node
// names follow torch.onnx.export's module-path scopes (nn/onnx/export_emitter.h). metadata_props
// carry what integrad's own files say about the model: architecture, input_shape, input_dtype,
// input_names, output (the output kind) and feature_names, where set.
#pragma once

#include <string>

#include "nn/model.h"

namespace integrad::nn {

// The model as ONNX bytes, checked by onnx::checker::check_model and ONNX's strict shape
// inference before they are returned. A layer kind without an exporter is refused naming the
// layer; so is a model too large for one protobuf (2 GiB).
template <ad::Scalar T>
std::string onnx_model_bytes(const Model<T>& model);

// Writes onnx_model_bytes(model) to `path` atomically (nn/atomic_file.h).
template <ad::Scalar T>
void export_onnx(const Model<T>& model, const std::string& path);

}  // namespace integrad::nn
