// Insertion (see deletion.h): start from the baseline and put the most relevant features back
// first, the probability should rise fast; higher area = more faithful.
#include "attribution/evaluation/deletion.h"

namespace integrad::attr {

template <ad::Scalar T>
Metric<T> insertion_metric() {
  Metric<T> m{.name = "insertion",
              .summary = "area under the target's probability as the top-attributed features are put back into the baseline (Petsiuk et al.)",
              .higher_is_better = true,
              .options = {{.name = "steps", .kind = OptionSpec::Kind::integer, .default_value = "20", .help = "points K of the deletion/insertion curve", .min = 1, .max = 100000}}};
  m.score = [](const MetricCall<T>& c) {
    std::vector<double> scores;
    for (const auto& p : perturbation_curves(c, CurveKind::insertion)) scores.push_back(curve_area(p));
    return scores;
  };
  return m;
}

template Metric<float> insertion_metric<float>();
template Metric<double> insertion_metric<double>();

}  // namespace integrad::attr
