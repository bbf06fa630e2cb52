#include "attribution/metric.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace integrad::attr {

// The built-in metrics, in the order tables show them (attribution/evaluation/builtin_metrics.cpp).
template <ad::Scalar T>
std::vector<Metric<T>> builtin_metrics();

template <ad::Scalar T>
std::vector<Metric<T>>& metric_registry() {
  static std::vector<Metric<T>> all = builtin_metrics<T>();
  return all;
}

template <ad::Scalar T>
void register_metric(Metric<T> metric) {
  auto& all = metric_registry<T>();
  if (std::any_of(all.begin(), all.end(), [&](const auto& m) { return m.name == metric.name; }))
    throw std::invalid_argument("a metric called '" + metric.name + "' is registered already");
  all.push_back(std::move(metric));
}

std::vector<std::string> metric_names() {
  std::vector<std::string> names;
  for (const auto& m : metric_registry<float>()) names.push_back(m.name);
  return names;
}

template <ad::Scalar T>
const Metric<T>& find_metric(const std::string& name) {
  for (const auto& m : metric_registry<T>())
    if (m.name == name) return m;
  throw std::invalid_argument(fmt::format("unknown metric '{}' (known: {})", name, fmt::join(metric_names(), ", ")));
}

#define INTEGRAD_INSTANTIATE(T)                                \
  template std::vector<Metric<T>>& metric_registry<T>();       \
  template void register_metric<T>(Metric<T>);                 \
  template const Metric<T>& find_metric<T>(const std::string&);
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)
#undef INTEGRAD_INSTANTIATE

}  // namespace integrad::attr
