// Model-parameter randomisation (Adebayo et al. 2018) as a metric: the Spearman rank correlation
// between the map being scored and the map --method gives for the same class on the model with
// every layer re-initialised (sanity.h's randomized_model, from --seed), per example, of |a| unless
// --signed. Lower: the map depends on what the model learned. A map that is mostly the input (an
// edge detector) keeps its ranking and scores near 1. It says nothing of faithfulness: a map of
// noise scores 0 too.
#include "attribution/evaluation/given_perturbations.h"
#include "attribution/evaluation/metric_support.h"
#include "attribution/evaluation/sanity.h"

namespace integrad::attr {

template <ad::Scalar T>
std::vector<double> randomisation_given(const Method<T>& method, const nn::Model<T>& random, const ad::Tensor<T>& inputs, const ad::Tensor<T>& attributions,
                                        const Baseline<T>& baseline, const std::vector<int64_t>& classes, bool is_signed) {
  const ad::Tensor<T> phi = explain(method, random, inputs, baseline, Target<T>::each(classes), parse_options(method.name, method.options, {})).values;
  if (phi.shape() != inputs.shape())
    throw std::invalid_argument(fmt::format("randomisation: {}'s maps have shape {}, not the inputs'", method.name, phi.shape().str()));
  const int64_t n = inputs.size(0), d = inputs.shape().stride(0);
  std::vector<double> scores;
  for (int64_t i = 0; i < n; ++i) {
    std::vector<double> trained, randomised;
    for (int64_t j = 0; j < d; ++j) {
      const double a = double(attributions[i * d + j]), r = double(phi[i * d + j]);
      trained.push_back(is_signed ? a : std::abs(a));
      randomised.push_back(is_signed ? r : std::abs(r));
    }
    scores.push_back(spearman(trained, randomised));
  }
  return scores;
}

template <ad::Scalar T>
Metric<T> randomisation_metric() {
  using K = OptionSpec::Kind;
  Metric<T> m{.name = "randomisation",
              .summary = "Spearman correlation of the map with --method's map of the fully re-initialised model (Adebayo et al.'s sanity check)",
              .higher_is_better = false,
              .options = {{.name = "method", .kind = K::text, .default_value = "ig", .help = "the method Φ re-run with default options (on the perturbed inputs; randomisation: on the re-initialised model)"},
                          {.name = "seed", .kind = K::integer, .default_value = "0", .help = "seed of the random draws (perturbations, subsets; randomisation: the new weights)", .min = 0, .max = 1e15},
                          {.name = "signed", .kind = K::flag, .default_value = "false", .help = "compare the signed maps, not |a|"}}};
  m.score = [](const MetricCall<T>& c) {
    metric_support::require_input_shape(c, "randomisation");
    const Method<T>& method = find_method<T>(c.options.text("method"));
    const std::vector<int64_t> classes = metric_support::classes(c, "randomisation");
    const nn::Model<T> random = randomized_model(c.model, uint64_t(c.options.integer("seed")));
    return randomisation_given(method, random, c.inputs, c.attributions, c.baseline, classes, c.options.flag("signed"));
  };
  return m;
}

template std::vector<double> randomisation_given<float>(const Method<float>&, const nn::Model<float>&, const ad::Tensor<float>&, const ad::Tensor<float>&,
                                                       const Baseline<float>&, const std::vector<int64_t>&, bool);
template std::vector<double> randomisation_given<double>(const Method<double>&, const nn::Model<double>&, const ad::Tensor<double>&, const ad::Tensor<double>&,
                                                        const Baseline<double>&, const std::vector<int64_t>&, bool);
template Metric<float> randomisation_metric<float>();
template Metric<double> randomisation_metric<double>();

}  // namespace integrad::attr
