// Max-sensitivity (Yeh et al. 2019), as Captum's `sensitivity_max`: for each example, the largest
// ‖Φ(x′) − Φ(x)‖ / ‖Φ(x)‖ (Frobenius) over `samples` points x′ = x + U[−R, R] per element, where Φ
// is the method named by --method run with its default options for the same class, and Φ(x) is the
// map being scored. Lower: the explanation is stable under small input changes. Example i draws its
// points from seed + i. It says nothing of faithfulness: a constant map scores 0.
#include <cmath>

#include "attribution/evaluation/given_perturbations.h"
#include "attribution/evaluation/metric_support.h"
#include "nn/for_each_example.h"

namespace integrad::attr {

template <ad::Scalar T>
double sensitivity_max_given(const Method<T>& method, const Options& options, const nn::Model<T>& model, const ad::Tensor<T>& x, const ad::Tensor<T>& a,
                             const Baseline<T>& baseline, int64_t cls, const ad::Tensor<T>& noise) {
  const int64_t d = x.numel(), samples = noise.size(0);
  if (noise.numel() != samples * d) throw std::invalid_argument(fmt::format("sensitivity-max: noise {} does not match the input {}", noise.shape().str(), x.shape().str()));
  ad::Tensor<T> batch(noise.shape());
  for (int64_t s = 0; s < samples; ++s)
    for (int64_t j = 0; j < d; ++j) batch[s * d + j] = x[j] + noise[s * d + j];
  const ad::Tensor<T> phi = explain(method, model, batch, baseline, Target<T>::of(cls), options).values;
  if (phi.shape() != batch.shape()) throw std::invalid_argument(fmt::format("sensitivity-max: {}'s maps have shape {}, not the inputs'", method.name, phi.shape().str()));
  double norm = 0;
  for (int64_t j = 0; j < d; ++j) norm += double(a[j]) * double(a[j]);
  norm = std::sqrt(norm);
  double worst = 0;
  for (int64_t s = 0; s < samples; ++s) {
    double diff = 0;
    for (int64_t j = 0; j < d; ++j) diff += (double(phi[s * d + j]) - double(a[j])) * (double(phi[s * d + j]) - double(a[j]));
    worst = std::max(worst, norm > 0 ? std::sqrt(diff) / norm : (diff > 0 ? INFINITY : 0.0));
  }
  return worst;
}

template <ad::Scalar T>
Metric<T> sensitivity_max_metric() {
  using K = OptionSpec::Kind;
  Metric<T> m{.name = "sensitivity-max",
              .summary = "largest relative change ‖Φ(x′) − Φ(x)‖ / ‖Φ(x)‖ of --method's map over x′ = x + U[−R, R] (Yeh et al.; Captum's sensitivity_max)",
              .higher_is_better = false,
              .options = {{.name = "samples", .kind = K::integer, .default_value = "10", .help = "perturbations per example", .min = 1, .max = 1e6},
                          {.name = "radius", .kind = K::real, .default_value = "0.02", .help = "half-width R of the uniform perturbation", .min = 0, .max = 1e6},
                          {.name = "seed", .kind = K::integer, .default_value = "0", .help = "seed of the perturbations", .min = 0, .max = 1e15},
                          {.name = "method", .kind = K::text, .default_value = "ig", .help = "the method Φ re-run with default options (on the perturbed inputs; randomisation: on the re-initialised model)"}}};
  m.score = [](const MetricCall<T>& c) {
    metric_support::require_input_shape(c, "sensitivity-max");
    metric_support::require_continuous_inputs(c, "sensitivity-max");
    const Method<T>& method = find_method<T>(c.options.text("method"));
    const Options defaults = parse_options(method.name, method.options, {});
    const std::vector<int64_t> classes = metric_support::classes(c, "sensitivity-max");
    const int64_t n = c.inputs.size(0), d = c.inputs.shape().stride(0), samples = c.options.integer("samples");
    const double radius = c.options.real("radius");
    std::vector<double> scores(static_cast<size_t>(n));
    nn::for_each_example(n, [&](int64_t i) {
      ad::Rng rng(uint64_t(c.options.integer("seed")) + uint64_t(c.first + i));
      ad::Tensor<T> noise(c.inputs.shape().with(0, samples));
      for (T& v : noise.span()) v = T(rng.uniform(-radius, radius));
      // A tensor baseline: this example's, repeated for every perturbed copy.
      Baseline<T> b = c.baseline;
      if (c.baseline.kind == Baseline<T>::Kind::tensor) {
        const ad::Tensor<T> base = c.baseline.expand(c.inputs).rows(i, i + 1);
        ad::Tensor<T> base_batch(noise.shape());
        for (int64_t s = 0; s < samples; ++s) std::copy(base.data(), base.data() + d, base_batch.data() + s * d);
        b = Baseline<T>::of(base_batch);
      }
      scores[size_t(i)] = sensitivity_max_given(method, defaults, c.model, c.inputs.rows(i, i + 1), c.attributions.rows(i, i + 1), b, classes[size_t(i)], noise);
    });
    return scores;
  };
  return m;
}

template double sensitivity_max_given<float>(const Method<float>&, const Options&, const nn::Model<float>&, const ad::Tensor<float>&, const ad::Tensor<float>&,
                                             const Baseline<float>&, int64_t, const ad::Tensor<float>&);
template double sensitivity_max_given<double>(const Method<double>&, const Options&, const nn::Model<double>&, const ad::Tensor<double>&,
                                              const ad::Tensor<double>&, const Baseline<double>&, int64_t, const ad::Tensor<double>&);
template Metric<float> sensitivity_max_metric<float>();
template Metric<double> sensitivity_max_metric<double>();

}  // namespace integrad::attr
