// The built-in metrics, registered in the order tables show them. Adding a metric: define
// `NAME_metric<T>()` in its own file (see metric.h), declare it here and add it to the list.
#include "attribution/metric.h"

namespace integrad::attr {

template <ad::Scalar T> Metric<T> deletion_metric();
template <ad::Scalar T> Metric<T> insertion_metric();
template <ad::Scalar T> Metric<T> infidelity_metric();
template <ad::Scalar T> Metric<T> faithfulness_correlation_metric();
template <ad::Scalar T> Metric<T> sensitivity_max_metric();
template <ad::Scalar T> Metric<T> relevance_mass_metric();
template <ad::Scalar T> Metric<T> pointing_game_metric();
template <ad::Scalar T> Metric<T> sparseness_metric();
template <ad::Scalar T> Metric<T> randomisation_metric();

template <ad::Scalar T>
std::vector<Metric<T>> builtin_metrics() {
  return {deletion_metric<T>(), insertion_metric<T>(), infidelity_metric<T>(), faithfulness_correlation_metric<T>(), sensitivity_max_metric<T>(), relevance_mass_metric<T>(), pointing_game_metric<T>(),
          sparseness_metric<T>(), randomisation_metric<T>()};
}

template std::vector<Metric<float>> builtin_metrics<float>();
template std::vector<Metric<double>> builtin_metrics<double>();

}  // namespace integrad::attr
