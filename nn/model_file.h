// Model files: one .safetensors file holding a torch.nn.Sequential's state_dict ("{i}.weight",
// "{i}.bias") and, in __metadata__, the architecture text, input_shape and input_dtype — so a
// PyTorch user's save_file(model.state_dict(), path, metadata=...) is a model integrad loads.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "nn/safetensors.h"
#include "nn/model.h"

namespace integrad::nn {

// Weights stored as F32 or F64 are converted to T. A missing, extra or mis-shaped tensor is an
// error naming it, with both shapes.
template <ad::Scalar T>
Model<T> load_model(const std::string& path);
// Metadata of a model file without building the model (e.g. a training curve).
std::map<std::string, std::string> model_metadata(const std::string& path);

// A .safetensors file; or, for a path ending in .onnx, the model written back into the ONNX graph it was
// read from (nn/onnx/write_back.h) or else exported as ONNX (nn/onnx/export.h).
template <ad::Scalar T>
void save_model(const std::string& path, const Model<T>& model, const std::string& dtype,
                std::map<std::string, std::string> extra_metadata = {});

// The building blocks, for files that hold a model among other things (checkpoints): the model
// described by `file`'s metadata with its tensors named prefix + state_dict name (other tensors
// are ignored), and the tensors to write for `model`, its metadata added to `metadata`.
template <ad::Scalar T>
Model<T> model_from(const SafetensorsFile& file, const std::string& path, const std::string& prefix);
template <ad::Scalar T>
std::vector<std::pair<std::string, const ad::Tensor<T>*>> model_tensors(const Model<T>& model, std::map<std::string, std::string>& metadata,
                                                                       const std::string& prefix);

std::string input_dtype_name(InputDtype d);
InputDtype parse_input_dtype(const std::string& name);

}  // namespace integrad::nn
