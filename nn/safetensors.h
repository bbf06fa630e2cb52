// safetensors files: an 8-byte little-endian header length, a JSON header naming each tensor's
// dtype, shape and byte range, then the raw data. Everything the header claims is checked against
// the file before anything is allocated or read.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "autodiff/tensor.h"

namespace integrad::nn {

struct RawTensor {
  std::string dtype;  // "F32", "F64", "F16", "BF16", "I64", ...
  ad::Shape shape;
  std::string bytes;  // little-endian
};

struct SafetensorsFile {
  std::map<std::string, std::string> metadata;
  std::map<std::string, RawTensor> tensors;
};

SafetensorsFile safetensors_parse(std::string_view bytes, const std::string& name_for_errors);
SafetensorsFile safetensors_read(const std::string& path);
// A floating-point tensor (F32, F64, F16, BF16) converted to T.
template <ad::Scalar T>
ad::Tensor<T> safetensors_tensor(const SafetensorsFile& file, const std::string& name, const std::string& path_for_errors);
// Writes the tensors in order, as "F32" or "F64", with the metadata; atomically.
template <ad::Scalar T>
void safetensors_write(const std::string& path, const std::vector<std::pair<std::string, const ad::Tensor<T>*>>& tensors,
                       const std::map<std::string, std::string>& metadata, const std::string& dtype);

}  // namespace integrad::nn
