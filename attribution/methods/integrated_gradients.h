// Integrated Gradients (Sundararajan, Taly and Yan, 2017):
//   IG_i(x) = (x_i − x′_i) · ∫₀¹ ∂F/∂x_i(x′ + α(x − x′)) dα,
// the integral by one of five quadrature rules, the path points evaluated in batches. With
// Captum's names: steps = n_steps, rule = method, batch_size = internal_batch_size,
// multiply_by_inputs, and the convergence delta Σ IG − (F(x) − F(x′)) (Captum's sign).
#pragma once

#include <vector>

#include "attribution/methods/quadrature.h"
#include "attribution/target.h"

namespace integrad::attr {

// The reference point x′: zero, a constant, one example's shape shared by all, or [N, ...].
template <ad::Scalar T>
struct Baseline {
  enum class Kind { zero, constant, tensor } kind = Kind::zero;
  T value = 0;
  ad::Tensor<T> tensor;

  static Baseline zero() { return {}; }
  static Baseline constant(T v) { return {Kind::constant, v, {}}; }
  static Baseline of(ad::Tensor<T> t) { return {Kind::tensor, 0, std::move(t)}; }
  // As a tensor of the inputs' shape [N, ...].
  ad::Tensor<T> expand(const ad::Tensor<T>& inputs) const;
};

template <ad::Scalar T>
struct IgOptions {
  int steps = 50;
  Rule rule = Rule::gauss_legendre;
  // Several baselines are averaged (expected-gradients style), each with its own deltas.
  std::vector<Baseline<T>> baselines = {Baseline<T>::zero()};
  int64_t batch_size = 512;  // path points (rows) per forward/backward; the result does not depend on it
  bool multiply_by_inputs = true;
};

template <ad::Scalar T>
struct Attribution {
  ad::Tensor<T> values;                      // the inputs' shape
  std::vector<int64_t> targets;              // class per example (empty for a function target)
  std::vector<double> f_input, f_baseline;   // F(x), F(x′) (averaged over baselines)
  std::vector<double> deltas;                // Σ values − (F(x) − F(x′)) per example
  std::vector<std::vector<double>> deltas_per_baseline;
  std::vector<int> steps;                    // per example
};

template <ad::Scalar T>
Attribution<T> integrated_gradients(const Forward<T>& f, const ad::Tensor<T>& inputs, const Target<T>& target, const IgOptions<T>& options);

// Adaptive IG: doubles the steps of each example until |delta| <= tolerance·|F(x) − F(x′)| (the
// original authors suggest 5%), up to max_steps; `steps` reports what each example needed.
template <ad::Scalar T>
Attribution<T> adaptive_integrated_gradients(const Forward<T>& f, const ad::Tensor<T>& inputs, const Target<T>& target, IgOptions<T> options,
                                             double tolerance = 0.05, int max_steps = 4096);

// F_target(x) per example, no gradients.
template <ad::Scalar T>
std::vector<double> target_values(const Forward<T>& f, const ad::Tensor<T>& x, const Target<T>& target, std::span<const int64_t> targets);

}  // namespace integrad::attr
