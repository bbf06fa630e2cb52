#include "attribution/evaluation/convergence.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "attribution/methods/exact_ig.h"
#include "attribution/methods/integrated_gradients.h"

namespace integrad::attr {

namespace {
const Rule kRules[] = {Rule::gauss_legendre, Rule::riemann_left, Rule::riemann_right, Rule::riemann_middle, Rule::riemann_trapezoid};
}

namespace {
// std::max drops a NaN in its second argument (every comparison with NaN is false): a NaN pixel
// gave finite errors and a |delta| of 0. A NaN anywhere makes the figure NaN.
double max_keeping_nan(double a, double b) { return std::isnan(a) || std::isnan(b) ? std::numeric_limits<double>::quiet_NaN() : std::max(a, b); }
}  // namespace

template <ad::Scalar T>
ConvergenceStudy convergence_study(const nn::Model<T>& model, const ad::Tensor<T>& x, const ad::Tensor<T>& baseline, int max_steps) {
  ConvergenceStudy study;
  const Forward<T> f = forward_of(model);
  const std::vector<int64_t> targets = resolve_targets(f, x, Target<T>::predicted());
  const Target<T> target = Target<T>::each(targets);
  ad::Tensor<T> reference;
  if (exact_ig_affordable(model)) {
    reference = exact_integrated_gradients(model, x, target, Baseline<T>::of(baseline)).values;
    study.reference = "exact IG";
  } else {
    IgOptions<T> o;
    o.steps = 4096;
    o.baselines = {Baseline<T>::of(baseline)};
    // batch_size stays IgOptions' default: the result does not depend on it, and 4096 rows of a CNN
    // on one tape took about 1 GB (the report's peak).
    reference = integrated_gradients(f, x, target, o).values;
    study.reference = "Gauss-Legendre, 4096 steps";  // smooth, or too many kinks to walk
  }
  double scale = 1e-300;
  for (T v : reference.span()) scale = max_keeping_nan(scale, std::abs(double(v)));
  for (Rule rule : kRules) {
    std::vector<std::pair<double, double>> fit;
    for (int n = 2; n <= max_steps; n *= 2) {
      IgOptions<T> o;
      o.steps = n;
      o.rule = rule;
      o.baselines = {Baseline<T>::of(baseline)};
      const Attribution<T> a = integrated_gradients(f, x, target, o);
      ConvergencePoint p{rule, n, 0, 0};
      for (double d : a.deltas) p.abs_delta = max_keeping_nan(p.abs_delta, std::abs(d));
      for (int64_t j = 0; j < reference.numel(); ++j) p.error = max_keeping_nan(p.error, std::abs(double(a.values[j]) - double(reference[j])) / scale);
      if (p.error > 1e-13) fit.emplace_back(std::log(double(n)), -std::log(p.error));
      study.points.push_back(p);
    }
    double order = std::numeric_limits<double>::quiet_NaN();
    if (fit.size() >= 2) {
      double mx = 0, my = 0;
      for (auto [a, b] : fit) mx += a / double(fit.size()), my += b / double(fit.size());
      double sxy = 0, sxx = 0;
      for (auto [a, b] : fit) sxy += (a - mx) * (b - my), sxx += (a - mx) * (a - mx);
      order = sxy / sxx;
    }
    study.order.emplace_back(rule, order);
  }
  return study;
}

template ConvergenceStudy convergence_study<float>(const nn::Model<float>&, const ad::Tensor<float>&, const ad::Tensor<float>&, int);
template ConvergenceStudy convergence_study<double>(const nn::Model<double>&, const ad::Tensor<double>&, const ad::Tensor<double>&, int);

}  // namespace integrad::attr
