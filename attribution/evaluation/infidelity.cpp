// Infidelity (Yeh et al. 2019), as Captum's `infidelity` with normalize=False: perturbations
// I ~ N(0, S²) per element, x̃ = x − I, score = mean over samples of (Σ a·I − (F(x) − F(x̃)))², F the
// target's output (logit). Lower: the map predicts how the output moves under small noise. A map
// that is exactly the gradient×input of a linear model scores 0. Example i draws its noise from
// seed + i, so its score does not depend on the other examples.
#include "attribution/evaluation/metric_support.h"

namespace integrad::attr {

template <ad::Scalar T>
Metric<T> infidelity_metric() {
  using K = OptionSpec::Kind;
  Metric<T> m{.name = "infidelity",
              .summary = "mean squared error of Σ a·I against F(x) − F(x − I), I ~ N(0, noise²) (Yeh et al.; Captum's infidelity)",
              .higher_is_better = false,
              .options = {{.name = "samples", .kind = K::integer, .default_value = "10", .help = "perturbations per example", .min = 1, .max = 1e6},
                          {.name = "seed", .kind = K::integer, .default_value = "0", .help = "seed of the perturbations", .min = 0, .max = 1e15},
                          {.name = "noise", .kind = K::real, .default_value = "0.1", .help = "standard deviation S of the perturbation", .min = 0, .max = 1e6}}};
  m.score = [](const MetricCall<T>& c) {
    metric_support::require_input_shape(c, "infidelity");
    metric_support::require_continuous_inputs(c, "infidelity");
    const std::vector<int64_t> classes = metric_support::classes(c, "infidelity");
    const int64_t n = c.inputs.size(0), d = c.inputs.shape().stride(0), samples = c.options.integer("samples");
    const uint64_t seed = uint64_t(c.options.integer("seed"));
    const double noise = c.options.real("noise");
    std::vector<double> scores;
    for (int64_t i = 0; i < n; ++i) {
      const T* x = c.inputs.data() + i * d;
      const T* a = c.attributions.data() + i * d;
      ad::Rng rng(seed + uint64_t(c.first + i));
      // Row 0: x itself; row s: x − I_s.
      ad::Tensor<T> batch(c.inputs.shape().with(0, samples + 1));
      std::vector<double> explained(size_t(samples), 0.0);
      std::copy(x, x + d, batch.data());
      for (int64_t s = 1; s <= samples; ++s) {
        T* row = batch.data() + s * d;
        for (int64_t j = 0; j < d; ++j) {
          const T perturbation = T(noise * rng.normal());
          row[j] = x[j] - perturbation;
          explained[size_t(s - 1)] += double(a[j]) * double(perturbation);
        }
      }
      const ad::Tensor<T> out = c.model.predict(batch);
      const int64_t classes_n = out.size(1), k = classes[size_t(i)];
      if (k < 0 || k >= classes_n) throw std::invalid_argument(fmt::format("target class {} is out of range for {} outputs", k, classes_n));
      double sum = 0;
      for (int64_t s = 1; s <= samples; ++s) {
        const double err = explained[size_t(s - 1)] - (double(out[k]) - double(out[s * classes_n + k]));
        sum += err * err;
      }
      scores.push_back(sum / double(samples));
    }
    return scores;
  };
  return m;
}

template Metric<float> infidelity_metric<float>();
template Metric<double> infidelity_metric<double>();

}  // namespace integrad::attr
