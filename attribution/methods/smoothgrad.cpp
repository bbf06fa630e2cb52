#include "attribution/methods/smoothgrad.h"

#include <algorithm>
#include <stdexcept>

#include "attribution/method.h"
#include "attribution/methods/gradients.h"

namespace integrad::attr {

template <ad::Scalar T>
ad::Tensor<T> smoothgrad(const std::function<ad::Tensor<T>(const ad::Tensor<T>&)>& method, const ad::Tensor<T>& x, const SmoothGradOptions& o) {
  if (o.samples < 1) throw std::invalid_argument("SmoothGrad needs at least one sample");
  if (o.stdev < 0) throw std::invalid_argument("SmoothGrad noise stdev must be >= 0");
  if (o.kind == NoiseKind::vargrad && o.samples < 2)
    throw std::invalid_argument("--noise-type vargrad needs --samples 2 or more: the variance of one sample is 0 whatever the model");
  const int64_t n = x.size(0), row = x.shape().stride(0);
  std::vector<int64_t> noise_dims = x.shape().vec();
  noise_dims.insert(noise_dims.begin() + 1, o.samples);
  if (o.noise && !(o.noise->shape() == ad::Shape(noise_dims)))
    throw std::invalid_argument("SmoothGrad: given noise must be [N, samples, ...], got " + o.noise->shape().str());
  std::vector<double> sigma(static_cast<size_t>(n), o.stdev);
  if (o.relative)
    for (int64_t i = 0; i < n; ++i) {
      const auto [lo, hi] = std::minmax_element(x.data() + i * row, x.data() + (i + 1) * row);
      sigma[static_cast<size_t>(i)] = o.stdev * double(*hi - *lo);
    }
  std::vector<ad::Rng> rngs;
  for (int64_t i = 0; i < n; ++i) rngs.emplace_back(example_seed(o.seed, o.first_example + i));
  ad::Tensor<double> sum(x.shape()), sum_sq(x.shape());
  for (int s = 0; s < o.samples; ++s) {
    ad::Tensor<T> noisy = x;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < row; ++j)
        noisy[i * row + j] += static_cast<T>(o.noise ? (*o.noise)[(i * o.samples + s) * row + j]
                                                     : sigma[static_cast<size_t>(i)] * rngs[static_cast<size_t>(i)].normal());
    const ad::Tensor<T> a = method(noisy);
    for (int64_t j = 0; j < a.numel(); ++j) {
      sum[j] += double(a[j]);
      sum_sq[j] += double(a[j]) * double(a[j]);
    }
  }
  ad::Tensor<T> out(x.shape());
  const double k = o.samples;
  for (int64_t j = 0; j < out.numel(); ++j) {
    const double mean = sum[j] / k, mean_sq = sum_sq[j] / k;
    out[j] = static_cast<T>(o.kind == NoiseKind::smoothgrad ? mean : o.kind == NoiseKind::smoothgrad_sq ? mean_sq : mean_sq - mean * mean);
  }
  return out;
}

NoiseKind parse_noise_kind(const std::string& name) {
  if (name == "smoothgrad") return NoiseKind::smoothgrad;
  if (name == "smoothgrad_sq") return NoiseKind::smoothgrad_sq;
  if (name == "vargrad") return NoiseKind::vargrad;
  throw std::invalid_argument("unknown noise tunnel type '" + name + "' (smoothgrad, smoothgrad_sq, vargrad)");
}

template ad::Tensor<float> smoothgrad<float>(const std::function<ad::Tensor<float>(const ad::Tensor<float>&)>&, const ad::Tensor<float>&,
                                             const SmoothGradOptions&);
template ad::Tensor<double> smoothgrad<double>(const std::function<ad::Tensor<double>(const ad::Tensor<double>&)>&, const ad::Tensor<double>&,
                                               const SmoothGradOptions&);

// The registry entry: SmoothGrad of the gradient (Captum's NoiseTunnel(Saliency(abs=False))).
template <ad::Scalar T>
Method<T> smoothgrad_method() {
  using K = OptionSpec::Kind;
  Method<T> m{.name = "smoothgrad", .display_name = "SmoothGrad", .summary = "the gradient averaged over noisy copies x + N(0, σ²) (Captum's NoiseTunnel)"};
  m.options = {
      {.name = "samples", .kind = K::integer, .default_value = "50", .help = "noisy samples (Captum's nt_samples)", .min = 1, .max = 100000},
      {.name = "stdev", .kind = K::real, .default_value = "0.15", .help = "noise standard deviation (Captum's stdevs)", .min = 0, .max = 1e6},
      {.name = "relative-noise", .kind = K::flag, .default_value = "false", .help = "--stdev is a fraction of each input's value range"},
      {.name = "noise-type", .kind = K::choice, .default_value = "smoothgrad", .help = "mean, mean of squares or variance (Captum's nt_type)",
       .choices = {"smoothgrad", "smoothgrad_sq", "vargrad"}},
      {.name = "seed", .kind = K::integer, .default_value = "0", .help = "noise seed", .min = 0, .max = 9.2e18},
  };
  // Beside every other method (axiom matrix, report) fewer, smaller samples keep the tables quick.
  // Every noise type is a function of gradients alone, which are exactly 0 for an ignored feature
  // and the same for functionally equal networks (the same seed draws the same noise); the mean is
  // also linear in F. Symmetry is not claimed: where F is symmetric in two features but not a
  // function of their sum (the matrix's symmetric copies are), their noise differs. VarGrad is
  // invariant in exact arithmetic only: E[a²] − E[a]² cancels where the gradient hardly varies, and
  // the twins' rounding differences (1e-7 in float32) grow by E[a]² / Var[a] there.
  m.guarantees = {"dummy", "implementation_invariance", "linearity"};  // of the default, --noise-type smoothgrad
  m.matrix_rows = {{"smoothgrad", {{"samples", "20"}, {"stdev", "0.1"}}, m.guarantees},
                   {"smoothgrad_sq", {{"samples", "20"}, {"stdev", "0.1"}, {"noise-type", "smoothgrad_sq"}}, {"dummy", "implementation_invariance"}},
                   {"vargrad", {{"samples", "20"}, {"stdev", "0.1"}, {"noise-type", "vargrad"}}, {"dummy"}}};
  m.run = [](const MethodCall<T>& c) {
    SmoothGradOptions so;
    so.samples = static_cast<int>(c.options.integer("samples"));
    so.stdev = c.options.real("stdev");
    so.relative = c.options.flag("relative-noise");
    so.seed = static_cast<uint64_t>(c.options.integer("seed"));
    so.kind = parse_noise_kind(c.options.text("noise-type"));
    if (so.kind == NoiseKind::vargrad && so.samples < 2)
      throw std::invalid_argument("--noise-type vargrad is a variance over the samples: it needs --samples 2 or more (one sample's variance is 0)");
    so.first_example = c.first;
    const Forward<T> f = forward_of(c.model);
    Attribution<T> a{.values = smoothgrad<T>([&](const ad::Tensor<T>& in) { return gradient(f, in, c.target); }, c.inputs, so)};
    a.is_signed = so.kind == NoiseKind::smoothgrad;
    return a;
  };
  return m;
}

template Method<float> smoothgrad_method<float>();
template Method<double> smoothgrad_method<double>();

}  // namespace integrad::attr
