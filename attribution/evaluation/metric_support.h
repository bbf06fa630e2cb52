// What several metrics share: the target resolved to one class per example, the checks on an
// attribution map's shape, ground-truth masks (--mask), and a batched, tape-free forward.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "attribution/metric.h"
#include "nn/npy.h"

namespace integrad::attr::metric_support {

// Rows through the model at once (--batch-size, which parse_options gives every metric): the
// metrics build their perturbed copies in passes of this many, so memory follows it.
inline int64_t batch_size(const Options& options) { return options.has("batch-size") ? options.integer("batch-size") : 512; }

// The class each example is scored for: predicted = argmax F(x) (lower index on ties); a function
// target is refused (the metrics score a class's output).
template <ad::Scalar T>
std::vector<int64_t> classes(const MetricCall<T>& c, const std::string& metric) {
  const int64_t n = c.inputs.size(0);
  std::vector<int64_t> out;
  switch (c.target.kind) {
    case Target<T>::Kind::index: out.assign(size_t(n), c.target.index); break;
    case Target<T>::Kind::per_example:
      if (int64_t(c.target.indices.size()) != n)
        throw std::invalid_argument(fmt::format("{}: {} targets for {} examples", metric, c.target.indices.size(), n));
      out = c.target.indices;
      break;
    case Target<T>::Kind::predicted: {
      const ad::Tensor<T> logits = c.model.predict(c.inputs, batch_size(c.options));
      const int64_t k = logits.size(1);
      for (int64_t i = 0; i < n; ++i) {
        const T* row = logits.data() + i * k;
        out.push_back(int64_t(std::max_element(row, row + k) - row));
      }
      break;
    }
    case Target<T>::Kind::function: throw std::invalid_argument(fmt::format("{} scores a class's output; a function target is not supported", metric));
  }
  return out;
}

// Refuses attributions that are not one map of the inputs' shape per example (e.g. a layer's).
template <ad::Scalar T>
void require_input_shape(const MetricCall<T>& c, const std::string& metric) {
  if (c.attributions.shape() != c.inputs.shape())
    throw std::invalid_argument(fmt::format("{}: the attributions have shape {}; expected the inputs' shape {}", metric, c.attributions.shape().str(),
                                            c.inputs.shape().str()));
}

// Refuses token-id inputs for a metric that adds continuous noise to the inputs.
template <ad::Scalar T>
void require_continuous_inputs(const MetricCall<T>& c, const std::string& metric) {
  if (c.model.input_dtype == nn::InputDtype::int64)
    throw std::invalid_argument(fmt::format("{} adds continuous noise to the inputs; this model takes token ids, which cannot be perturbed so", metric));
}

// The ground-truth mask of --mask: the inputs' shape, every value 0 or 1.
template <ad::Scalar T>
ad::Tensor<T> load_mask(const MetricCall<T>& c, const std::string& metric) {
  if (!c.options.has("mask") || c.options.text("mask").empty()) throw std::invalid_argument(fmt::format("{} needs --mask GT.npy (0/1, the inputs' shape)", metric));
  const std::string& path = c.options.text("mask");
  ad::Tensor<T> mask = nn::npy_read_tensor<T>(path);
  if (c.total > 0 && c.total != c.inputs.size(0) && mask.shape() == c.inputs.shape().with(0, c.total)) mask = mask.rows(c.first, c.first + c.inputs.size(0));
  if (mask.shape() != c.inputs.shape())
    throw std::invalid_argument(fmt::format("--mask {} has shape {}; expected the inputs' shape {}", path, mask.shape().str(), c.inputs.shape().str()));
  for (T v : mask.span())
    if (v != T(0) && v != T(1)) throw std::invalid_argument(fmt::format("--mask {} holds {}; a mask holds only 0 and 1", path, double(v)));
  return mask;
}

// Softmax probability of class k from one row of logits (stable: max subtracted).
template <ad::Scalar T>
double softmax_probability(const T* logits, int64_t classes, int64_t k) {
  const double top = double(*std::max_element(logits, logits + classes));
  double sum = 0;
  for (int64_t j = 0; j < classes; ++j) sum += std::exp(double(logits[j]) - top);
  return std::exp(double(logits[k]) - top) / sum;
}

}  // namespace integrad::attr::metric_support
