// A labelled data set held in the run's precision.
#pragma once

#include <string>
#include <vector>

#include "autodiff/tensor.h"

namespace integrad::nn {

template <ad::Scalar T>
struct Dataset {
  ad::Tensor<T> inputs;         // [N, ...]
  std::vector<int64_t> labels;  // N class indices
  int64_t num_classes = 0;
  std::vector<std::string> class_names;

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
};

}  // namespace integrad::nn
