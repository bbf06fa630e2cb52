// Fashion-MNIST from its IDX files (gzip or plain), as Debian's dataset-fashion-mnist installs them.
#pragma once

#include <string>

#include "nn/dataset.h"

namespace integrad::nn {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Images scaled to [0, 1], shape [N, 1, 28, 28]; labels 0..9. `limit` >= 0 keeps the first N.
template <ad::Scalar T>
Dataset<T> load_fashion_mnist(const std::string& dir, bool train, int64_t limit = -1);

// One IDX file (gzip-compressed or not): its dimensions and its unsigned-byte payload.
struct IdxFile {
  std::vector<int64_t> dims;
  std::string data;
};
IdxFile idx_parse(std::string_view bytes, const std::string& name_for_errors);
IdxFile idx_read(const std::string& path);

}  // namespace integrad::nn
