// The vocabulary every attribution method shares: the reference point x′ it explains against, and
// what it returns — the attributions and, where the method defines them, F(x), F(x′) and the
// completeness delta Σ A − (F(x) − F(x′)) (Captum's sign convention).
#pragma once

#include <string>
#include <vector>

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
struct Attribution {
  ad::Tensor<T> values;                      // the inputs' shape (the layer output's for layer methods)
  ad::Tensor<T> token_values;                // [N, T]: per-token scores, where the inputs are token ids
  std::vector<int64_t> targets;              // class per example (empty for a function target)
  std::vector<double> f_input, f_baseline;   // F(x), F(x′) (averaged over baselines)
  std::vector<double> deltas;                // Σ values − (F(x) − F(x′)) per example
  std::vector<std::vector<double>> deltas_per_baseline;
  std::vector<int> steps;                    // per example
  bool is_signed = true;                     // false: magnitudes only (saliency, SmoothGrad²)
  std::vector<std::string> warnings;         // for the user, once each: settings that make the values unreliable
};

}  // namespace integrad::attr
