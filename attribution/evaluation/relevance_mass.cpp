// Relevance mass accuracy (Arras et al. 2022): the share of the positive attribution that falls on
// the ground-truth mask, Σ max(a, 0) over the mask / Σ max(a, 0) over all features, in [0, 1]; 0
// when no attribution is positive. Higher: the evidence sits where the object is. It says nothing
// of whether the model used the object.
#include <algorithm>

#include "attribution/evaluation/metric_support.h"

namespace integrad::attr {

template <ad::Scalar T>
Metric<T> relevance_mass_metric() {
  Metric<T> m{.name = "relevance-mass",
              .summary = "share of the positive attribution inside the ground-truth mask (--mask), in [0, 1] (Arras et al.)",
              .higher_is_better = true,
              .options = {{.name = "mask", .kind = OptionSpec::Kind::text, .help = "ground-truth mask .npy, the inputs' shape, 0/1"}}};
  m.score = [](const MetricCall<T>& c) {
    metric_support::require_input_shape(c, "relevance-mass");
    const ad::Tensor<T> mask = metric_support::load_mask(c, "relevance-mass");
    const int64_t n = c.inputs.size(0), d = c.inputs.shape().stride(0);
    std::vector<double> scores;
    for (int64_t i = 0; i < n; ++i) {
      double inside = 0, total = 0;
      for (int64_t j = i * d; j < (i + 1) * d; ++j) {
        const double a = std::max(0.0, double(c.attributions[j]));
        total += a;
        if (mask[j] == T(1)) inside += a;
      }
      scores.push_back(total > 0 ? inside / total : 0.0);
    }
    return scores;
  };
  return m;
}

template Metric<float> relevance_mass_metric<float>();
template Metric<double> relevance_mass_metric<double>();

}  // namespace integrad::attr
