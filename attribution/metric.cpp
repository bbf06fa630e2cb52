#include "attribution/metric.h"

namespace integrad::attr {

// The built-in metrics, in the order tables show them (attribution/evaluation/builtin_metrics.cpp).
template <ad::Scalar T>
std::vector<Metric<T>> builtin_metrics();

template <ad::Scalar T>
Registry<Metric<T>>& metric_registry() {
  static Registry<Metric<T>> all("metric", builtin_metrics<T>());
  return all;
}

template Registry<Metric<float>>& metric_registry<float>();
template Registry<Metric<double>>& metric_registry<double>();

}  // namespace integrad::attr
