// The pointing game (Zhang et al. 2016): 1 when the largest attribution (the first, by flat index,
// on ties) lies inside the ground-truth mask, else 0; its mean over examples is the hit rate. It
// looks at one feature only: the rest of the map may be anywhere.
#include <algorithm>

#include "attribution/evaluation/metric_support.h"

namespace integrad::attr {

template <ad::Scalar T>
Metric<T> pointing_game_metric() {
  Metric<T> m{.name = "pointing-game",
              .summary = "1 if the largest attribution lies inside the ground-truth mask (--mask), else 0 (Zhang et al.)",
              .higher_is_better = true,
              .options = {{.name = "mask", .kind = OptionSpec::Kind::text, .help = "ground-truth mask .npy, the inputs' shape, 0/1"}}};
  m.score = [](const MetricCall<T>& c) {
    metric_support::require_input_shape(c, "pointing-game");
    const ad::Tensor<T> mask = metric_support::load_mask(c, "pointing-game");
    const int64_t n = c.inputs.size(0), d = c.inputs.shape().stride(0);
    std::vector<double> scores;
    for (int64_t i = 0; i < n; ++i) {
      const T* a = c.attributions.data() + i * d;
      const int64_t top = int64_t(std::max_element(a, a + d) - a);  // the first of equal maxima
      scores.push_back(d > 0 && mask[i * d + top] == T(1) ? 1.0 : 0.0);
    }
    return scores;
  };
  return m;
}

template Metric<float> pointing_game_metric<float>();
template Metric<double> pointing_game_metric<double>();

}  // namespace integrad::attr
