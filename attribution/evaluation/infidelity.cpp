// Infidelity (Yeh et al. 2019), as Captum's `infidelity` with normalize=False: perturbations
// I ~ N(0, S²) per element, x̃ = x − I, score = mean over samples of (Σ a·I − (F(x) − F(x̃)))², F the
// target's output (logit). Lower: the map predicts how the output moves under small noise. A map
// that is exactly the gradient×input of a linear model scores 0. Example i draws its noise from
// seed + i, so its score does not depend on the other examples.
#include "attribution/evaluation/given_perturbations.h"
#include "attribution/evaluation/metric_support.h"
#include "nn/for_each_example.h"

namespace integrad::attr {

namespace {
// Σ over the perturbations of (Σ a·I − (F(x) − F(x − I)))².
template <ad::Scalar T>
double squared_errors(const nn::Model<T>& model, const ad::Tensor<T>& x, const ad::Tensor<T>& a, int64_t cls, const ad::Tensor<T>& perturbations,
                      int64_t batch_size = 512) {
  const int64_t d = x.numel(), samples = perturbations.size(0);
  if (perturbations.numel() != samples * d) throw std::invalid_argument(fmt::format("infidelity: perturbations {} do not match the input {}", perturbations.shape().str(), x.shape().str()));
  // Row 0: x itself; row s: x − I_s. One forward-only batch.
  ad::Tensor<T> batch(x.shape().with(0, samples + 1));
  std::vector<double> explained(size_t(samples), 0.0);
  std::copy(x.data(), x.data() + d, batch.data());
  for (int64_t s = 1; s <= samples; ++s) {
    T* row = batch.data() + s * d;
    const T* p = perturbations.data() + (s - 1) * d;
    for (int64_t j = 0; j < d; ++j) {
      row[j] = x[j] - p[j];
      explained[size_t(s - 1)] += double(a[j]) * double(p[j]);
    }
  }
  const ad::Tensor<T> out = model.predict(batch, batch_size);
  const int64_t k = out.size(1);
  if (cls < 0 || cls >= k) throw std::invalid_argument(fmt::format("target class {} is out of range for {} outputs", cls, k));
  double sum = 0;
  for (int64_t s = 1; s <= samples; ++s) {
    const double err = explained[size_t(s - 1)] - (double(out[cls]) - double(out[s * k + cls]));
    sum += err * err;
  }
  return sum;
}
}  // namespace

template <ad::Scalar T>
double infidelity_given(const nn::Model<T>& model, const ad::Tensor<T>& x, const ad::Tensor<T>& a, int64_t cls, const ad::Tensor<T>& perturbations) {
  return squared_errors(model, x, a, cls, perturbations) / double(perturbations.size(0));
}

template <ad::Scalar T>
Metric<T> infidelity_metric() {
  using K = OptionSpec::Kind;
  Metric<T> m{.name = "infidelity",
              .summary = "mean squared error of Σ a·I against F(x) − F(x − I), I ~ N(0, noise²) (Yeh et al.; Captum's infidelity)",
              .higher_is_better = false,
              .options = {{.name = "samples", .kind = K::integer, .default_value = "10", .help = "perturbations (faithfulness-correlation: random subsets) per example", .min = 1, .max = 1e6},
                          {.name = "seed", .kind = K::integer, .default_value = "0", .help = "seed of the random draws (perturbations, subsets; randomisation: the new weights)", .min = 0, .max = 1e15},
                          {.name = "noise", .kind = K::real, .default_value = "0.1", .help = "standard deviation S of the perturbation", .min = 0, .max = 1e6}}};
  m.score = [](const MetricCall<T>& c) {
    metric_support::require_input_shape(c, "infidelity");
    metric_support::require_continuous_inputs(c, "infidelity");
    const std::vector<int64_t> classes = metric_support::classes(c, "infidelity");
    const int64_t n = c.inputs.size(0), samples = c.options.integer("samples");
    const uint64_t seed = uint64_t(c.options.integer("seed"));
    const double noise = c.options.real("noise");
    std::vector<double> scores(static_cast<size_t>(n));
    // The samples in passes of at most --batch-size rows, drawn in the same order from the same
    // stream (the same numbers as one pass), so memory follows --batch-size, not --samples: a
    // million samples of a 28x28 image held 3 GB of perturbations at once.
    const int64_t pass = metric_support::batch_size(c.options);
    nn::for_each_example(n, [&](int64_t i) {
      ad::Rng rng(seed + uint64_t(c.first + i));
      const ad::Tensor<T> xi = c.inputs.rows(i, i + 1), ai = c.attributions.rows(i, i + 1);
      double sum = 0;
      for (int64_t done = 0; done < samples; done += pass) {
        const int64_t m = std::min(pass, samples - done);
        ad::Tensor<T> perturbations(c.inputs.shape().with(0, m));
        for (T& v : perturbations.span()) v = T(noise * rng.normal());
        sum += squared_errors(c.model, xi, ai, classes[size_t(i)], perturbations, pass);
      }
      scores[size_t(i)] = sum / double(samples);
    });
    return scores;
  };
  return m;
}

template double infidelity_given<float>(const nn::Model<float>&, const ad::Tensor<float>&, const ad::Tensor<float>&, int64_t, const ad::Tensor<float>&);
template double infidelity_given<double>(const nn::Model<double>&, const ad::Tensor<double>&, const ad::Tensor<double>&, int64_t, const ad::Tensor<double>&);
template Metric<float> infidelity_metric<float>();
template Metric<double> infidelity_metric<double>();

}  // namespace integrad::attr
