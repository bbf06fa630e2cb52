// The gradient family, with Captum's definitions: gradient (raw ∂F/∂x), saliency (|∂F/∂x|, as
// Saliency(abs=True)), and gradient × input.
#pragma once

#include "attribution/target.h"

namespace integrad::attr {

template <ad::Scalar T>
struct GradientsAndValues {
  ad::Tensor<T> gradients;  // [R, ...]
  std::vector<T> values;    // F_target per row
};

// ∂F/∂x for every row of x (one forward and one backward on a fresh tape, input gradients only).
template <ad::Scalar T>
GradientsAndValues<T> gradients_and_values(const Forward<T>& f, const ad::Tensor<T>& x, const Target<T>& target,
                                           std::span<const int64_t> row_targets);

template <ad::Scalar T>
ad::Tensor<T> gradient(const Forward<T>& f, const ad::Tensor<T>& x, const Target<T>& target);
template <ad::Scalar T>
ad::Tensor<T> saliency(const Forward<T>& f, const ad::Tensor<T>& x, const Target<T>& target);
template <ad::Scalar T>
ad::Tensor<T> gradient_x_input(const Forward<T>& f, const ad::Tensor<T>& x, const Target<T>& target);

// For images [N, C, H, W]: the maximum over channels, [N, 1, H, W] (saliency maps as Simonyan et al. draw them).
template <ad::Scalar T>
ad::Tensor<T> max_over_channels(const ad::Tensor<T>& a);

}  // namespace integrad::attr
