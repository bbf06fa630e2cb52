// A labelled data set held in the run's precision.
#pragma once

#include <string>
#include <vector>

#include "autodiff/tensor.h"

namespace integrad::nn {

template <ad::Scalar T>
struct Dataset {
  ad::Tensor<T> inputs;         // [N, ...]: the model's input, or the first of its several inputs
  // A model of several inputs: its inputs 1, 2, ... in the model's order, each [N, ...] (token ids
  // as values of T); example i is row i of every one. Empty for a model of one input.
  std::vector<ad::Tensor<T>> other_inputs;
  std::vector<int64_t> labels;  // N class indices (empty for a regression)
  std::vector<double> targets;  // a regression's N values (empty for a classification)
  int64_t num_classes = 0;
  std::vector<std::string> class_names;
  std::vector<std::string> feature_names;  // tabular sets (a .csv's header, a named set's): one per feature

  int64_t size() const { return static_cast<int64_t>(targets.empty() ? labels.size() : targets.size()); }
  bool is_regression() const { return !targets.empty(); }
};

}  // namespace integrad::nn
