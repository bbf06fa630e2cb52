// SmoothGrad and its variants (Smilkov et al. 2017; Captum's NoiseTunnel): average an attribution
// method over noisy copies of the input, x + N(0, σ²).
//   smoothgrad:    mean of A(x + ε)
//   smoothgrad_sq: mean of A(x + ε)²
//   vargrad:       variance of A(x + ε)  (mean of squares − square of the mean, Captum's formula;
//                  refused for one sample, where it is 0 whatever the model)
// σ is absolute (Captum's stdevs) or, with `relative`, a fraction of each example's value range
// max(x) − min(x) (the paper's convention). Noise comes from one seeded generator per example
// (seeded by the seed and the example's index in the whole set): same seed, same result, whatever
// the batch.
#pragma once

#include <functional>
#include <string>

#include "autodiff/tensor.h"

namespace integrad::attr {

enum class NoiseKind { smoothgrad, smoothgrad_sq, vargrad };

struct SmoothGradOptions {
  int samples = 50;
  double stdev = 0.15;
  bool relative = false;
  uint64_t seed = 0;
  int64_t first_example = 0;  // x's row 0 is this example of the whole set: each example has its own stream
  NoiseKind kind = NoiseKind::smoothgrad;
  // If set, the noise itself, [N, samples, ...] (already scaled), instead of the seeded draws: a
  // test replays the noise a Captum fixture used.
  const ad::Tensor<double>* noise = nullptr;
};

// `method` maps a batch [N, ...] to attributions of the same shape (targets fixed beforehand).
template <ad::Scalar T>
ad::Tensor<T> smoothgrad(const std::function<ad::Tensor<T>(const ad::Tensor<T>&)>& method, const ad::Tensor<T>& x, const SmoothGradOptions& options);

NoiseKind parse_noise_kind(const std::string& name);

}  // namespace integrad::attr
