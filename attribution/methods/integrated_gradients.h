// Integrated Gradients (Sundararajan, Taly and Yan, 2017):
//   IG_i(x) = (x_i − x′_i) · ∫₀¹ ∂F/∂x_i(x′ + α(x − x′)) dα,
// the integral by one of five quadrature rules, the path points evaluated in batches. With
// Captum's names: steps = n_steps, rule = method, batch_size = internal_batch_size,
// multiply_by_inputs, and the convergence delta Σ IG − (F(x) − F(x′)) (Captum's sign).
#pragma once

#include <functional>
#include <vector>

#include "attribution/attribution.h"
#include "attribution/methods/quadrature.h"

namespace integrad::attr {

template <ad::Scalar T>
struct IgOptions {
  int steps = 50;
  Rule rule = Rule::gauss_legendre;
  // Several baselines are averaged (expected-gradients style), each with its own deltas.
  std::vector<Baseline<T>> baselines = {Baseline<T>::zero()};
  int64_t batch_size = 512;  // path points (rows) per forward/backward; the result does not depend on it
  std::function<void(double)> progress;  // if set: the fraction of the path points done, after each pass
  bool multiply_by_inputs = true;
};


template <ad::Scalar T>
Attribution<T> integrated_gradients(const Forward<T>& f, const ad::Tensor<T>& inputs, const Target<T>& target, const IgOptions<T>& options);

// Adaptive IG: doubles the steps of each example until |delta| <= tolerance·|F(x) − F(x′)| (the
// original authors suggest 5%), up to max_steps; `steps` reports what each example needed.
template <ad::Scalar T>
Attribution<T> adaptive_integrated_gradients(const Forward<T>& f, const ad::Tensor<T>& inputs, const Target<T>& target, IgOptions<T> options,
                                             double tolerance = 0.05, int max_steps = 4096);

}  // namespace integrad::attr
