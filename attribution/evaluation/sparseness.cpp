// Sparseness: the Gini index of |a| (Chalasani et al. 2020), in [0, 1]. With v = |a| flattened and
// sorted ascending (n values): Σᵢ (2i − n − 1)·vᵢ / (n·Σᵢ vᵢ), i = 1..n; 0 when all are 0, no
// epsilon added. 1: all the mass on one feature; 0: spread evenly. Higher is sparser, which a
// reader finds easier, but says nothing of faithfulness.
#include <algorithm>
#include <cmath>

#include "attribution/metric.h"

namespace integrad::attr {

namespace {
double gini_index(std::vector<double> v) {
  for (double& x : v) x = std::abs(x);
  std::sort(v.begin(), v.end());
  const double n = double(v.size());
  double weighted = 0, total = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    weighted += (2 * double(i + 1) - n - 1) * v[i];
    total += v[i];
  }
  return total > 0 ? weighted / (n * total) : 0.0;
}
}  // namespace

template <ad::Scalar T>
Metric<T> sparseness_metric() {
  Metric<T> m{.name = "sparseness", .summary = "Gini index of |attribution| (Chalasani et al.): 1 = all on one feature, 0 = even"};
  m.score = [](const MetricCall<T>& c) {
    const int64_t n = c.attributions.size(0), row = c.attributions.shape().stride(0);
    std::vector<double> scores;
    for (int64_t i = 0; i < n; ++i)
      scores.push_back(gini_index(std::vector<double>(c.attributions.data() + i * row, c.attributions.data() + (i + 1) * row)));
    return scores;
  };
  return m;
}

template Metric<float> sparseness_metric<float>();
template Metric<double> sparseness_metric<double>();

}  // namespace integrad::attr
