// GradientSHAP (`--method gradientshap`), Captum's GradientShap (expected gradients with input
// noise): for each of --samples S draws per example, a baseline b is picked uniformly from the set,
// α ~ U(0, 1) and x̃ = x + N(0, stdev²) per element; the draw contributes (x̃ − b)·∂F/∂x at
// b + α(x̃ − b) (Captum multiplies by the noisy input's difference, as its NoiseTunnel over
// InputBaselineXGradient does); the attribution is the mean over the S draws. With stdev 0 and one
// baseline, on a linear model it is exactly w·(x − x′).
// The baseline set (--baseline): zero or a constant is a set of one; a tensor of one example's shape
// is a set of one; a tensor [K, ...] of the inputs' rank is a set of K baselines shared by every
// example, except when K equals the number of examples N, where (as for every other method) example i has
// baseline i alone. Each example draws from its own stream, seeded by --seed and its index in the
// whole set, in order: per draw s, the baseline index, α, then the noise of each element. F(x′) is the mean of F over the example's set, and the
// delta Σ A − (F(x) − F(x′)) holds in expectation only.
#include <fmt/format.h>

#include "attribution/method.h"
#include "attribution/methods/feature_groups.h"
#include "attribution/methods/gradients.h"

namespace integrad::attr {

namespace {

constexpr int64_t kGradientShapBatch = 64;

template <ad::Scalar T>
Attribution<T> run_gradientshap(const MethodCall<T>& c) {
  const ad::Tensor<T>& x = c.inputs;
  const ad::Shape& shape = x.shape();
  const int64_t n = shape[0], row = shape.stride(0), samples = c.options.integer("samples");
  const double stdev = c.options.real("stdev");
  // set: [K, row]; per_example: baseline i belongs to example i alone.
  ad::Tensor<T> set;
  bool per_example = false;
  if (c.baseline.kind == Baseline<T>::Kind::tensor && c.baseline.tensor.rank() == shape.rank() && c.baseline.tensor.shape().without(0) == shape.without(0)) {
    set = c.baseline.tensor;
    per_example = c.total > 0 ? c.per_example_baseline : set.size(0) == n;
  } else {
    ad::Tensor<T> one = c.baseline.expand(x);  // checks the shape
    set = ad::Tensor<T>(shape.with(0, 1));
    std::copy(one.data(), one.data() + row, set.data());
  }
  const int64_t k_set = per_example ? 1 : set.size(0);
  if (k_set < 1) throw std::invalid_argument("gradientshap needs at least one baseline");
  const Forward<T> f = forward_of(c.model);
  Attribution<T> a{.values = ad::Tensor<T>(shape)};
  a.targets = resolve_targets(f, x, c.target);
  a.f_input = target_values(f, x, c.target, a.targets);
  // F over the set, averaged per example.
  a.f_baseline.assign(size_t(n), 0.0);
  if (per_example) {
    a.f_baseline = target_values(f, set, c.target, a.targets);
  } else {
    for (int64_t k = 0; k < k_set; ++k) {
      ad::Tensor<T> copies(shape);
      for (int64_t i = 0; i < n; ++i) std::copy(set.data() + k * row, set.data() + (k + 1) * row, copies.data() + i * row);
      const std::vector<double> fb = target_values(f, copies, c.target, a.targets);
      for (int64_t i = 0; i < n; ++i) a.f_baseline[size_t(i)] += fb[size_t(i)] / double(k_set);
    }
  }
  std::vector<ad::Rng> rngs;
  for (int64_t i = 0; i < n; ++i) rngs.emplace_back(example_seed(static_cast<uint64_t>(c.options.integer("seed")), c.first + i));
  ad::Tensor<double> sum(shape);
  const int64_t rows = samples * n;
  std::vector<int64_t> row_targets;
  const int64_t per_pass = std::min(kGradientShapBatch, c.options.has("batch-size") ? c.options.integer("batch-size") : kGradientShapBatch);
  for (int64_t start = 0; start < rows; start += per_pass) {
    const int64_t count = std::min(per_pass, rows - start);
    ad::Tensor<T> points(shape.with(0, count)), diff(shape.with(0, count));
    row_targets.clear();
    for (int64_t r = 0; r < count; ++r) {
      const int64_t i = (start + r) % n;
      ad::Rng& rng = rngs[size_t(i)];
      const int64_t k = per_example ? i : int64_t(rng.below(uint64_t(k_set)));
      const T alpha = T(rng.uniform());
      const T *xi = x.data() + i * row, *b = set.data() + k * row;
      T *p = points.data() + r * row, *d = diff.data() + r * row;
      for (int64_t j = 0; j < row; ++j) {
        const T noisy = stdev > 0 ? T(double(xi[j]) + stdev * rng.normal()) : xi[j];
        d[j] = noisy - b[j];
        p[j] = b[j] + alpha * d[j];
      }
      if (!a.targets.empty()) row_targets.push_back(a.targets[size_t(i)]);
    }
    const ad::Tensor<T> g = gradients_and_values(f, points, c.target, row_targets).gradients;
    for (int64_t r = 0; r < count; ++r) {
      const int64_t i = (start + r) % n;
      for (int64_t j = 0; j < row; ++j) sum[i * row + j] += double(g[r * row + j]) * double(diff[r * row + j]);
    }
  }
  for (int64_t j = 0; j < sum.numel(); ++j) a.values[j] = T(sum[j] / double(samples));
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int64_t j = 0; j < row; ++j) s += double(a.values[i * row + j]);
    a.deltas.push_back(s - (a.f_input[size_t(i)] - a.f_baseline[size_t(i)]));
  }
  return a;
}

}  // namespace

template <ad::Scalar T>
Method<T> gradientshap_method() {
  using K = OptionSpec::Kind;
  Method<T> m{.name = "gradientshap",
              .display_name = "GradientSHAP",
              .summary = "mean of (x̃ − b)·∂F/∂x at b + α(x̃ − b), b drawn from a baseline set, α ~ U(0,1), x̃ = x + noise (Captum's GradientShap)",
              .uses_baseline = true,
              .has_delta = true,
              .guarantees = {"dummy", "linearity"},
              .options = join({sampling_options("5", "draws per example (Captum's n_samples)", 1e6, "baseline, α and noise draws"),
                               {{.name = "stdev", .kind = K::real, .default_value = "0", .help = "input noise standard deviation (Captum's stdevs)", .min = 0, .max = 1e6}}})};
  m.run = run_gradientshap<T>;
  return m;
}

template Method<float> gradientshap_method<float>();
template Method<double> gradientshap_method<double>();

}  // namespace integrad::attr
