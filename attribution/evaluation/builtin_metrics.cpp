// The built-in metrics, registered in the order tables show them. Adding a metric: define
// `NAME_metric<T>()` in its own file (see metric.h), declare it here and add it to the list.
#include "attribution/metric.h"

namespace integrad::attr {

template <ad::Scalar T> Metric<T> sparseness_metric();

template <ad::Scalar T>
std::vector<Metric<T>> builtin_metrics() {
  return {sparseness_metric<T>()};
}

template std::vector<Metric<float>> builtin_metrics<float>();
template std::vector<Metric<double>> builtin_metrics<double>();

}  // namespace integrad::attr
