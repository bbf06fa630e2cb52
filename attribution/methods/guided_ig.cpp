#include "attribution/methods/guided_ig.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "nn/for_each_example.h"
#include "attribution/method.h"
#include "attribution/methods/gradients.h"

namespace integrad::attr {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Python's math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), PAIR's test for "step done".
bool close_enough(double a, double b) { return std::abs(a - b) <= std::max(1e-9 * std::max(std::abs(a), std::abs(b)), 1e-9); }

// One example's walk along its guided path: the current point and the attribution so far.
struct Walk {
  std::vector<double> x, attr;
};

// One step of guided_ig_impl for one example: `grad` is ∂F/∂x at the step's start.
void guided_step(Walk& w, const double* input, const double* base, const double* grad_actual, int64_t d, int64_t step, const GuidedIgOptions& o,
                 double l1_total) {
  const auto size = static_cast<size_t>(d);
  std::vector<double> grad(grad_actual, grad_actual + d), x_min(size), x_max(size), x_old(size), sorted(size);
  const double alpha = (double(step) + 1.0) / double(o.steps);
  const double alpha_min = std::max(alpha - o.max_dist, 0.0), alpha_max = std::min(alpha + o.max_dist, 1.0);
  for (int64_t j = 0; j < d; ++j) {  // PAIR's translate_alpha_to_x: x′ + (x − x′)·α
    x_min[size_t(j)] = base[j] + (input[j] - base[j]) * alpha_min;
    x_max[size_t(j)] = base[j] + (input[j] - base[j]) * alpha_max;
  }
  const double l1_target = l1_total * (1 - (double(step) + 1) / double(o.steps));
  std::vector<double>& x = w.x;
  const auto add_moves = [&] {
    for (int64_t j = 0; j < d; ++j) w.attr[size_t(j)] += (x[size_t(j)] - x_old[size_t(j)]) * grad_actual[j];
  };
  double gamma = kInf;
  while (gamma > 1.0) {
    x_old = x;
    // Features behind the band [alpha_min, alpha_max] jump to its lower edge; a feature with
    // x = x′ counts as at alpha_max (PAIR's NaN → alpha_max).
    for (int64_t j = 0; j < d; ++j) {
      const double diff = input[j] - base[j];
      const double a = diff != 0 ? (x[size_t(j)] - base[j]) / diff : alpha_max;
      if (a < alpha_min) x[size_t(j)] = x_min[size_t(j)];
    }
    double l1_current = 0;
    for (int64_t j = 0; j < d; ++j) l1_current += std::abs(x[size_t(j)] - input[j]);
    if (close_enough(l1_target, l1_current) || l1_current < l1_target) {  // PAIR asserts on the overshoot
      add_moves();
      break;
    }
    // Features at their upper bound are out of the selection; among the others, those whose
    // |gradient| is at most the fraction-quantile (NumPy "lower": the floor((d − 1)·fraction)-th
    // smallest, the excluded counted as +inf) move.
    for (int64_t j = 0; j < d; ++j)
      if (x[size_t(j)] == x_max[size_t(j)]) grad[size_t(j)] = kInf;
    for (int64_t j = 0; j < d; ++j) sorted[size_t(j)] = std::abs(grad[size_t(j)]);
    const auto k = static_cast<int64_t>(std::floor(double(d - 1) * o.fraction));
    std::nth_element(sorted.begin(), sorted.begin() + k, sorted.end());
    const double threshold = sorted[size_t(k)];
    const auto selected = [&](int64_t j) { return std::abs(grad[size_t(j)]) <= threshold && grad[size_t(j)] != kInf; };
    double l1_s = 0;
    for (int64_t j = 0; j < d; ++j)
      if (selected(j)) l1_s += std::abs(x[size_t(j)] - x_max[size_t(j)]);
    if (l1_s == 0) {  // nothing left to move: PAIR would loop forever
      add_moves();
      break;
    }
    gamma = (l1_current - l1_target) / l1_s;
    for (int64_t j = 0; j < d; ++j)
      if (selected(j)) x[size_t(j)] = gamma > 1.0 ? x_max[size_t(j)] : x[size_t(j)] + (x_max[size_t(j)] - x[size_t(j)]) * gamma;
    add_moves();
  }
}

}  // namespace

template <ad::Scalar T>
ad::Tensor<T> guided_integrated_gradients(const Forward<T>& f, const ad::Tensor<T>& x, const ad::Tensor<T>& baseline, const Target<T>& target,
                                          std::span<const int64_t> targets, const GuidedIgOptions& o) {
  if (o.steps < 1) throw std::invalid_argument("guided-ig: --steps must be at least 1");
  if (!(o.fraction >= 0 && o.fraction <= 1)) throw std::invalid_argument("guided-ig: --fraction must be in [0, 1]");
  if (!(o.max_dist >= 0 && o.max_dist <= 1)) throw std::invalid_argument("guided-ig: --max-dist must be in [0, 1]");
  if (baseline.shape() != x.shape()) throw std::invalid_argument("guided-ig: the baseline's shape " + baseline.shape().str() + " is not the inputs' " + x.shape().str());
  const int64_t n = x.size(0), d = x.shape().stride(0);
  std::vector<double> input(x.vector().begin(), x.vector().end()), base(baseline.vector().begin(), baseline.vector().end());
  std::vector<Walk> walks(static_cast<size_t>(n));
  std::vector<double> l1_total(size_t(n), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    walks[size_t(i)].x.assign(base.begin() + i * d, base.begin() + (i + 1) * d);
    walks[size_t(i)].attr.assign(size_t(d), 0.0);
    for (int64_t j = 0; j < d; ++j) l1_total[size_t(i)] += std::abs(input[size_t(i * d + j)] - base[size_t(i * d + j)]);
  }
  ad::Tensor<T> at(x.shape());
  for (int64_t step = 0; step < o.steps; ++step) {
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < d; ++j) at[i * d + j] = static_cast<T>(walks[size_t(i)].x[size_t(j)]);
    const GradientsAndValues<T> g = gradients_and_values(f, at, target, targets);
    nn::for_each_example(n, [&](int64_t i) {
      if (l1_total[size_t(i)] == 0) return;  // the input is the baseline: zero attribution
      std::vector<double> grad(static_cast<size_t>(d));
      for (int64_t j = 0; j < d; ++j) grad[size_t(j)] = double(g.gradients[i * d + j]);
      guided_step(walks[size_t(i)], input.data() + i * d, base.data() + i * d, grad.data(), d, step, o, l1_total[size_t(i)]);
    });
  }
  ad::Tensor<T> out(x.shape());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) out[i * d + j] = static_cast<T>(walks[size_t(i)].attr[size_t(j)]);
  return out;
}

// The registry entry: PAIR's defaults; F(x′) and the delta as for IG (explain fills them in).
template <ad::Scalar T>
Method<T> guided_ig_method() {
  using K = OptionSpec::Kind;
  Method<T> m{.name = "guided-ig",
              .display_name = "Guided IG",
              .summary = "integrated gradients along a path that first moves the features with the smallest |∂F/∂x| (PAIR saliency's GuidedIG)",
              .uses_baseline = true,
              .has_delta = true,
              // A zero-weight feature's gradient is 0 at every point, so its moves add nothing.
              .guarantees = {"dummy"}};
  m.options = {
      {.name = "steps", .kind = K::integer, .default_value = "200", .help = "steps along the path, one gradient each (PAIR's x_steps)", .min = 1, .max = 1e6},
      {.name = "fraction", .kind = K::real, .default_value = "0.25", .help = "fraction of features (smallest |gradient|) moved per iteration (PAIR's fraction)",
       .min = 0, .max = 1},
      {.name = "max-dist", .kind = K::real, .default_value = "0.02", .help = "how far a feature may run ahead of or lag the straight path, 0 to 1 (PAIR's max_dist)",
       .min = 0, .max = 1},
  };
  m.matrix_rows = {{"guided-ig", {{"steps", "50"}}, m.guarantees}};
  m.run = [](const MethodCall<T>& c) {
    const GuidedIgOptions o{.steps = static_cast<int>(c.options.integer("steps")), .fraction = c.options.real("fraction"), .max_dist = c.options.real("max-dist")};
    const Forward<T> f = forward_of(c.model);
    Attribution<T> a;
    a.targets = resolve_targets(f, c.inputs, c.target);
    a.values = guided_integrated_gradients(f, c.inputs, c.baseline.expand(c.inputs), c.target, a.targets, o);
    return a;
  };
  return m;
}

#define INTEGRAD_INSTANTIATE(T)                                                                                                  \
  template ad::Tensor<T> guided_integrated_gradients(const Forward<T>&, const ad::Tensor<T>&, const ad::Tensor<T>&, const Target<T>&, \
                                                     std::span<const int64_t>, const GuidedIgOptions&);                           \
  template Method<T> guided_ig_method<T>();
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)
#undef INTEGRAD_INSTANTIATE

}  // namespace integrad::attr
