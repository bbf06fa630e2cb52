// The metric registry: one entry per measure of an attribution map's quality (faithfulness,
// robustness, localisation, complexity), as the method registry (method.h) has one per method.
// A metric scores each example's map; it states which direction is better, declares its options
// like a method does, and returns data — tables and plots are rendered elsewhere. Adding a metric
// is one file (attribution/evaluation/NAME.cpp, defining `NAME_metric<T>()`) and one line in
// attribution/evaluation/builtin_metrics.cpp.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "attribution/method.h"

namespace integrad::attr {

// What a metric scores: attributions [N, ...] of the inputs for the (resolved) target.
template <ad::Scalar T>
struct MetricCall {
  const nn::Model<T>& model;
  const ad::Tensor<T>& inputs;
  const ad::Tensor<T>& attributions;
  const Baseline<T>& baseline;
  const Target<T>& target;
  const Options& options;
  // The inputs are examples [first, first + N) of a set of `total` (0: N), as `evaluate --shard`
  // gives them: seeded metrics seed example i by its index in the whole set, and a --mask of the
  // whole set's shape is read at these rows, so shards score as the whole run does.
  int64_t first = 0, total = 0;
};

template <ad::Scalar T>
struct Metric {
  std::string name;     // as --metric spells it
  std::string summary;  // one line: what it measures
  bool higher_is_better = true;
  std::vector<OptionSpec> options;
  std::function<std::vector<double>(const MetricCall<T>&)> score;  // one score per example
};

template <ad::Scalar T>
Registry<Metric<T>>& metric_registry();
template <ad::Scalar T>
void register_metric(Metric<T> metric) {  // refuses a name already taken
  metric_registry<T>().add(std::move(metric));
}
template <ad::Scalar T>
const Metric<T>& find_metric(const std::string& name) {
  return metric_registry<T>().find(name);
}
inline std::vector<std::string> metric_names() { return metric_registry<float>().names(); }

}  // namespace integrad::attr
