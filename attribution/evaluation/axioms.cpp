#include "attribution/evaluation/axioms.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "attribution/evaluation/model_surgery.h"
#include "nn/fold_batch_norm.h"
#include "nn/layers_conv.h"
#include "nn/layers_linear.h"

namespace integrad::attr {

namespace {

// The larger of two figures, NaN if either is NaN (std::max would drop it): a NaN attribution or
// output must fail a check, never pass it with figure 0.
double nan_max(double a, double b) { return std::isnan(a) || std::isnan(b) ? std::numeric_limits<double>::quiet_NaN() : std::max(a, b); }

template <ad::Scalar T>
double max_abs(const ad::Tensor<T>& t) {
  double m = 0;
  for (T v : t.span()) m = nan_max(m, std::abs(double(v)));
  return m;
}

template <ad::Scalar T>
double max_abs_difference(const ad::Tensor<T>& a, const ad::Tensor<T>& b) {
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) m = nan_max(m, std::abs(double(a[i]) - double(b[i])));
  return m;
}

template <ad::Scalar T>
CheckResult not_applicable(std::string name, std::string why) {
  CheckResult r;
  r.name = std::move(name);
  r.applicable = false;
  r.passed = true;
  r.detail = std::move(why);
  return r;
}

// The tolerance of the checks that compare attributions which are equal in exact arithmetic.
template <ad::Scalar T>
double equality_tolerance(const CheckOptions& o) {
  if (o.equality_tolerance >= 0) return o.equality_tolerance;
  return sizeof(T) == sizeof(float) ? 1e-4 : 1e-6;
}

// Implementation invariance compares two computations of the same function by different weights.
// In float32 their rounding differs enough to flip a ReLU or a max-pool winner that sits at a
// near-tie on a few of the IG points, which moves one step's gradient there: figures of 1e-4 to
// 1e-3 on a trained CNN whose float64 figures are 1e-16. Real violations are O(0.1–1) (DeepLift on
// the paper's f and g: 0.33), so float32 gets 1e-2.
template <ad::Scalar T>
double invariance_tolerance(const CheckOptions& o) {
  return sizeof(T) == sizeof(float) ? std::max(equality_tolerance<T>(o), 1e-2) : equality_tolerance<T>(o);
}

template <ad::Scalar T>
bool starts_with_conv(const nn::Model<T>& model) {
  return !model.layers.empty() && nn::layer_is<nn::Conv2d<T>>(*model.layers[0]);
}

// The dummy's verdict: its largest |A| (r.figure on entry) relative to the largest |A| of the map,
// within the equality tolerance. A method that fits a regression (KernelSHAP, LIME) leaves rounding
// of 1e-17 on the dummy; an exact-zero test failed it for that. A map that is all zero passes.
template <ad::Scalar T>
CheckResult dummy_verdict(CheckResult r, const ad::Tensor<T>& a) {
  const double largest = max_abs(a);
  if (largest > 0 || std::isnan(largest)) r.figure = r.figure / largest;
  r.passed = r.figure <= r.tolerance;
  return r;
}

// Dummy for an image model: one more input channel with zero weights, moving from 0 to 1.
template <ad::Scalar T>
CheckResult check_dummy_channel(const nn::Model<T>& model, const ExplainFn<T>& method, const ad::Tensor<T>& x, const ad::Tensor<T>& baseline,
                                const std::vector<int64_t>& targets, const CheckOptions& o) {
  const ad::Tensor<T> xd = with_constant_channel(x, T(1));
  const ad::Tensor<T> a = method(with_dummy_channel(model), xd, with_constant_channel(baseline, T(0)), Target<T>::each(targets));
  // A map of another shape than the inputs' (Grad-CAM's one channel) has no value per channel.
  if (a.shape() != xd.shape()) return not_applicable<T>("dummy", "the map has shape " + a.shape().str() + ", not the inputs' " + xd.shape().str());
  const int64_t c = x.size(1), hw = x.numel() / (x.size(0) * c);
  CheckResult r{"dummy", true, true, 0, equality_tolerance<T>(o), "max |A| over an input channel the function ignores / max |A|"};
  for (int64_t i = 0; i < x.size(0); ++i)
    for (int64_t p = 0; p < hw; ++p) r.figure = nan_max(r.figure, std::abs(double(a[(i * (c + 1) + c) * hw + p])));
  return dummy_verdict(r, a);
}

// Symmetry for an image model: channel 0 duplicated into a new channel sharing its weights half
// and half, so each pixel of channel 0 and the same pixel of the copy are interchangeable.
template <ad::Scalar T>
CheckResult check_symmetry_channel(const nn::Model<T>& model, const ExplainFn<T>& method, const ad::Tensor<T>& x, const ad::Tensor<T>& baseline,
                                   const std::vector<int64_t>& targets, const CheckOptions& o) {
  const ad::Tensor<T> xs = with_channel_0_repeated(x);
  const ad::Tensor<T> a = method(with_shared_channel(model), xs, with_channel_0_repeated(baseline), Target<T>::each(targets));
  if (a.shape() != xs.shape()) return not_applicable<T>("symmetry", "the map has shape " + a.shape().str() + ", not the inputs' " + xs.shape().str());
  const int64_t c = x.size(1), hw = x.numel() / (x.size(0) * c);
  CheckResult r{"symmetry", true, true, 0, equality_tolerance<T>(o), "max |A(channel 0) − A(its interchangeable copy)| / max |A|, pixel by pixel"};
  double d = 0;
  for (int64_t i = 0; i < x.size(0); ++i)
    for (int64_t p = 0; p < hw; ++p) d = nan_max(d, std::abs(double(a[i * (c + 1) * hw + p] - a[(i * (c + 1) + c) * hw + p])));
  r.figure = d / std::max(max_abs(a), 1e-12);
  r.passed = r.figure <= r.tolerance;
  return r;
}

template <ad::Scalar T>
ad::Tensor<T> flattened(const ad::Tensor<T>& x) {
  return x.reshaped(ad::Shape{x.size(0), x.numel() / std::max<int64_t>(1, x.size(0))});
}

template <ad::Scalar T>
std::vector<double> values_of(const nn::Model<T>& model, const ad::Tensor<T>& x, const std::vector<int64_t>& targets) {
  return target_values(forward_of(model), x, Target<T>::each(targets), targets);
}

}  // namespace

template <ad::Scalar T>
CheckResult check_completeness(const nn::Model<T>& model, const ExplainFn<T>& method, const ad::Tensor<T>& x, const ad::Tensor<T>& baseline,
                               const std::vector<int64_t>& targets, const CheckOptions& o) {
  CheckResult r{"completeness", true, true, 0, o.completeness_tolerance, ""};
  const ad::Tensor<T> a = method(model, x, baseline, Target<T>::each(targets));
  const std::vector<double> fx = values_of(model, x, targets), fb = values_of(model, baseline, targets);
  const std::vector<double> totals = ad::row_sums(a);
  // Absolute plus relative: the error is measured against |ΔF|, but never against less than a
  // fraction of the outputs' own size (nor less than the precision's floor). Where F(x) ≈ F(x′)
  // the relative error alone blows up: a quadrature error of 0.004 on outputs of size 5 made IG
  // "fail" with 3.83, and rounding of 1e-17 where ΔF = 0 would fail at any tolerance.
  const double floor = sizeof(T) == sizeof(float) ? 1e-4 : 1e-6;
  for (int64_t i = 0; i < x.size(0); ++i) {
    const double change = fx[size_t(i)] - fb[size_t(i)], total = totals[size_t(i)];
    const double scale = std::max({std::abs(change), o.completeness_output_fraction * std::max(std::abs(fx[size_t(i)]), std::abs(fb[size_t(i)])), floor});
    r.figure = nan_max(r.figure, std::abs(total - change) / scale);
  }
  r.passed = r.figure <= r.tolerance;
  r.detail = fmt::format("max |ΣA − ΔF| / max(|ΔF|, {}·max(|F(x)|, |F(x′)|), {}) over {} examples", o.completeness_output_fraction, floor, x.size(0));
  return r;
}

template <ad::Scalar T>
CheckResult check_sensitivity_a(const nn::Model<T>& model, const ExplainFn<T>& method, const ad::Tensor<T>& x, const ad::Tensor<T>& baseline,
                                const std::vector<int64_t>& targets, const CheckOptions& o) {
  CheckResult r{"sensitivity_a", true, true, 0, 0, ""};
  const int64_t n = x.size(0), row = x.shape().stride(0);
  // Inputs equal to the baseline but in one feature: the features farthest from the baseline.
  std::vector<ad::Tensor<T>> probes;
  std::vector<std::pair<int64_t, int64_t>> where;  // (example, feature)
  for (int64_t i = 0; i < n; ++i) {
    std::vector<int64_t> order(static_cast<size_t>(row));
    for (int64_t j = 0; j < row; ++j) order[size_t(j)] = j;
    std::stable_sort(order.begin(), order.end(), [&](int64_t p, int64_t q) {
      return std::abs(double(x[i * row + p] - baseline[i * row + p])) > std::abs(double(x[i * row + q] - baseline[i * row + q]));
    });
    for (int k = 0; k < std::min<int64_t>(o.max_features, row); ++k) {
      const int64_t j = order[size_t(k)];
      if (x[i * row + j] == baseline[i * row + j]) break;
      where.emplace_back(i, j);
    }
  }
  if (where.empty()) return not_applicable<T>("sensitivity_a", "inputs equal their baselines");
  const int64_t m = static_cast<int64_t>(where.size());
  ad::Tensor<T> probe(x.shape().with(0, m)), base(x.shape().with(0, m));
  std::vector<int64_t> probe_targets;
  for (int64_t k = 0; k < m; ++k) {
    const auto [i, j] = where[size_t(k)];
    std::copy_n(baseline.data() + i * row, row, base.data() + k * row);
    std::copy_n(baseline.data() + i * row, row, probe.data() + k * row);
    probe[k * row + j] = x[i * row + j];
    probe_targets.push_back(targets[size_t(i)]);
  }
  const std::vector<double> fp = values_of(model, probe, probe_targets), fb = values_of(model, base, probe_targets);
  const ad::Tensor<T> a = method(model, probe, base, Target<T>::each(probe_targets));
  int tested = 0, violations = 0;
  for (int64_t k = 0; k < m; ++k) {
    const double change = std::abs(fp[size_t(k)] - fb[size_t(k)]);
    if (change < 1e-6 * (1 + std::abs(fb[size_t(k)]))) continue;
    ++tested;
    if (std::abs(double(a[k * row + where[size_t(k)].second])) <= 1e-9 * change) ++violations;
  }
  if (tested == 0) return not_applicable<T>("sensitivity_a", "no single-feature change moved the output");
  r.figure = double(violations) / tested;
  r.passed = violations == 0;
  r.detail = fmt::format("{} of {} single-feature inputs with a changed output got a zero attribution", violations, tested);
  return r;
}

template <ad::Scalar T>
CheckResult check_dummy(const nn::Model<T>& model, const ExplainFn<T>& method, const ad::Tensor<T>& x, const ad::Tensor<T>& baseline,
                        const std::vector<int64_t>& targets, const CheckOptions& o) {
  const int k = first_linear(model);
  if (k < 0 && starts_with_conv(model)) return check_dummy_channel(model, method, x, baseline, targets, o);
  if (k < 0) return not_applicable<T>("dummy", "needs a model whose first weighted layer is Linear or Conv2d");
  const nn::Model<T> dummy = with_dummy_feature(model);
  const int64_t in = dummy.input_shape[0] - 1;
  const int64_t n = x.size(0), row = in;
  ad::Tensor<T> xd(ad::Shape{n, row + 1}), bd(ad::Shape{n, row + 1});
  const ad::Tensor<T> xf = flattened(x), bf = flattened(baseline);
  for (int64_t i = 0; i < n; ++i) {
    std::copy_n(xf.data() + i * row, row, xd.data() + i * (row + 1));
    std::copy_n(bf.data() + i * row, row, bd.data() + i * (row + 1));
    xd[i * (row + 1) + row] = T(1);  // the dummy moves from 0 to 1 on the path
  }
  const ad::Tensor<T> a = method(dummy, xd, bd, Target<T>::each(targets));
  CheckResult r{"dummy", true, true, 0, equality_tolerance<T>(o), "max |A| of a feature the function ignores / max |A|"};
  for (int64_t i = 0; i < n; ++i) r.figure = nan_max(r.figure, std::abs(double(a[i * (row + 1) + row])));
  return dummy_verdict(r, a);
}

template <ad::Scalar T>
double output_difference(const nn::Model<T>& a, const nn::Model<T>& b, const ad::Tensor<T>& x) {
  return max_abs_difference(a.predict(x), b.predict(x));
}

template <ad::Scalar T>
Twins<T> built_twins(const nn::Model<T>& model) {
  Twins<T> twins = conv_twins(model);
  for (auto& twin : linear_twins(model)) twins.push_back(std::move(twin));
  // A real rewrite: the same function with each BatchNorm folded into the layer before it.
  if (nn::count_batch_norms(model) > 0) twins.emplace_back("BatchNorm folded into the layer before", nn::fold_batch_norm(model));
  return twins;
}

template <ad::Scalar T>
CheckResult check_implementation_invariance(const nn::Model<T>& model, const ExplainFn<T>& method, const ad::Tensor<T>& x,
                                            const ad::Tensor<T>& baseline, const std::vector<int64_t>& targets, const Twins<T>& twins,
                                            const CheckOptions& o) {
  if (twins.empty())
    return not_applicable<T>("implementation_invariance", "no twin given and no Linear-ReLU-Linear or Conv2d block to build one from");
  CheckResult r{"implementation_invariance", true, true, 0, invariance_tolerance<T>(o), ""};
  const ad::Tensor<T> a = method(model, x, baseline, Target<T>::each(targets));
  const double scale = std::max(max_abs(a), 1e-12);
  std::string worst = twins.front().first;
  for (const auto& [name, twin] : twins) {
    const double out_diff = output_difference(model, twin, x);
    // Equal functions, to the rounding of the dtype: a real rewrite (BatchNorm folded into the
    // convolution) rounds differently through a deep float32 network (3e-6 on the ResNet).
    const double rounding = std::is_same_v<T, float> ? 1e-4 : 1e-6;
    if (out_diff > rounding * (1 + max_abs(model.predict(x))))
      throw std::invalid_argument(fmt::format("twin '{}' is not functionally equal: outputs differ by {:.3g}", name, out_diff));
    const double d = max_abs_difference(a, method(twin, x, baseline, Target<T>::each(targets))) / scale;
    if (std::isnan(d) || d >= r.figure) {
      r.figure = d;
      worst = name;
    }
  }
  r.passed = r.figure <= r.tolerance;
  r.detail = fmt::format("max |A − A_twin| / max |A| over {} twins (worst: {})", twins.size(), worst);
  return r;
}

template <ad::Scalar T>
CheckResult check_linearity(const nn::Model<T>& model, const ExplainFn<T>& method, const ad::Tensor<T>& x, const ad::Tensor<T>& baseline,
                            const CheckOptions& o) {
  const ad::Shape out = model.output_shape();
  if (out.rank() != 1 || out[0] < 2) return not_applicable<T>("linearity", "needs at least two output units");
  const T wa = T(0.7), wb = T(-1.3);
  const ad::Tensor<T> a1 = method(model, x, baseline, Target<T>::of(0)), a2 = method(model, x, baseline, Target<T>::of(1));
  const ad::Tensor<T> combined = method(model, x, baseline, Target<T>::scalar([=](ad::Var<T> y) {
    return ad::reshape(ad::slice(y, 1, 0, 1) * wa + ad::slice(y, 1, 1, 2) * wb, ad::Shape{y.shape()[0]});
  }));
  ad::Tensor<T> expected(a1.shape());
  for (int64_t i = 0; i < expected.numel(); ++i) expected[i] = wa * a1[i] + wb * a2[i];
  CheckResult r{"linearity", true, true, 0, equality_tolerance<T>(o), "max |A(0.7·F₀ − 1.3·F₁) − (0.7·A(F₀) − 1.3·A(F₁))| / max |A|"};
  r.figure = max_abs_difference(combined, expected) / std::max({max_abs(expected), max_abs(combined), 1e-12});
  r.passed = r.figure <= r.tolerance;
  return r;
}

template <ad::Scalar T>
CheckResult check_symmetry(const nn::Model<T>& model, const ExplainFn<T>& method, const ad::Tensor<T>& x, const ad::Tensor<T>& baseline,
                           const std::vector<int64_t>& targets, const CheckOptions& o) {
  const int k = first_linear(model);
  if (k < 0 && starts_with_conv(model)) return check_symmetry_channel(model, method, x, baseline, targets, o);
  if (k < 0) return not_applicable<T>("symmetry", "needs a model whose first weighted layer is Linear or Conv2d");
  if (nn::layer_as<nn::Linear<T>>(*model.layers[size_t(k)]).in < 2) return not_applicable<T>("symmetry", "needs at least two input features");
  const nn::Model<T> sym = with_features_0_1_shared(model);
  ad::Tensor<T> xs = x, bs = baseline;
  const int64_t row = x.shape().stride(0);
  for (int64_t i = 0; i < x.size(0); ++i) {
    xs[i * row + 1] = xs[i * row];
    bs[i * row + 1] = bs[i * row];
  }
  const ad::Tensor<T> a = method(sym, xs, bs, Target<T>::each(targets));
  CheckResult r{"symmetry", true, true, 0, equality_tolerance<T>(o), "max |A₀ − A₁| / max |A| for two interchangeable features with equal values"};
  double d = 0;
  for (int64_t i = 0; i < x.size(0); ++i) d = nan_max(d, std::abs(double(a[i * row] - a[i * row + 1])));
  r.figure = d / std::max(max_abs(a), 1e-12);
  r.passed = r.figure <= r.tolerance;
  return r;
}

template <ad::Scalar T>
CheckResult check_conservation(const nn::Model<T>& model, const ExplainFn<T>& method, const ad::Tensor<T>& x, const ad::Tensor<T>& baseline,
                               const std::vector<int64_t>& targets, const CheckOptions& o) {
  const ad::Tensor<T> a = method(model, x, baseline, Target<T>::each(targets));
  // A map on another grid than the inputs' (Grad-CAM's layer) sums to no relevance of the inputs.
  if (a.shape() != x.shape()) return not_applicable<T>("conservation", "the map has shape " + a.shape().str() + ", not the inputs' " + x.shape().str());
  CheckResult r{"conservation", true, true, 0, o.completeness_tolerance, ""};
  const std::vector<double> fx = values_of(model, x, targets);
  const std::vector<double> totals = ad::row_sums(a);
  // Relative to |F(x)|, with the precision's floor where F(x) ≈ 0 (as completeness does).
  const double floor = sizeof(T) == sizeof(float) ? 1e-4 : 1e-6;
  for (int64_t i = 0; i < x.size(0); ++i) {
    // Seeded with 1, Σ A·F(x) should be F(x): |Σ A·F − F| / |F| = |Σ A − 1|, whatever F(x).
    const double error = o.unit_seed ? std::abs(totals[size_t(i)] - 1) : std::abs(totals[size_t(i)] - fx[size_t(i)]) / std::max(std::abs(fx[size_t(i)]), floor);
    r.figure = nan_max(r.figure, error);
  }
  r.passed = r.figure <= r.tolerance;
  r.detail = o.unit_seed ? fmt::format("max |ΣA − 1| over {} examples (relevance 1 at the output)", x.size(0))
                         : fmt::format("max |ΣA − F(x)| / max(|F(x)|, {}) over {} examples", floor, x.size(0));
  return r;
}

#define INTEGRAD_INSTANTIATE(T)                                                                                                                      \
  template CheckResult check_completeness(const nn::Model<T>&, const ExplainFn<T>&, const ad::Tensor<T>&, const ad::Tensor<T>&,                    \
                                          const std::vector<int64_t>&, const CheckOptions&);                                                         \
  template CheckResult check_sensitivity_a(const nn::Model<T>&, const ExplainFn<T>&, const ad::Tensor<T>&, const ad::Tensor<T>&,                   \
                                           const std::vector<int64_t>&, const CheckOptions&);                                                        \
  template CheckResult check_dummy(const nn::Model<T>&, const ExplainFn<T>&, const ad::Tensor<T>&, const ad::Tensor<T>&,                           \
                                   const std::vector<int64_t>&, const CheckOptions&);                                                                \
  template CheckResult check_implementation_invariance(const nn::Model<T>&, const ExplainFn<T>&, const ad::Tensor<T>&, const ad::Tensor<T>&,       \
                                                       const std::vector<int64_t>&, const Twins<T>&, const CheckOptions&);                          \
  template CheckResult check_linearity(const nn::Model<T>&, const ExplainFn<T>&, const ad::Tensor<T>&, const ad::Tensor<T>&, const CheckOptions&); \
  template CheckResult check_symmetry(const nn::Model<T>&, const ExplainFn<T>&, const ad::Tensor<T>&, const ad::Tensor<T>&,                        \
                                      const std::vector<int64_t>&, const CheckOptions&);                                                             \
  template CheckResult check_conservation(const nn::Model<T>&, const ExplainFn<T>&, const ad::Tensor<T>&, const ad::Tensor<T>&,                    \
                                          const std::vector<int64_t>&, const CheckOptions&);                                                         \
  template Twins<T> built_twins(const nn::Model<T>&);                                                                                           \
  template double output_difference(const nn::Model<T>&, const nn::Model<T>&, const ad::Tensor<T>&);
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)
#undef INTEGRAD_INSTANTIATE

}  // namespace integrad::attr
