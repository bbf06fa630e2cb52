// Exact Integrated Gradients for piecewise-linear networks (Linear, Conv2d, ReLU, MaxPool2d,
// AvgPool2d, Flatten, Mean). On the straight path x(α) = x′ + α(x − x′) such a network is affine
// between the α where some ReLU input changes sign or some max-pool window changes its winner.
// Walking the path piece by piece — each layer's value and its rate of change dv/dα carried
// forward together, so the next kink is found in closed form — and integrating each piece
// exactly (the gradient is constant on it) gives IG with a delta of zero up to rounding: the
// ground truth that quadrature rules are measured against.
#pragma once

#include "attribution/methods/integrated_gradients.h"
#include "nn/model.h"

namespace integrad::attr {

// Throws std::invalid_argument naming the first layer that is not piecewise-linear.
// `steps` in the result reports the number of linear pieces of each example's path.
template <ad::Scalar T>
Attribution<T> exact_integrated_gradients(const nn::Model<T>& model, const ad::Tensor<T>& inputs, const Target<T>& target,
                                          const Baseline<T>& baseline = Baseline<T>::zero(), int64_t max_pieces = 1'000'000);

// Piecewise-linear, and small enough that walking every kink is quick: the path of a wide CNN
// crosses ~10⁴ kinks (one gradient each), so tools fall back to Gauss-Legendre there.
template <ad::Scalar T>
bool exact_ig_affordable(const nn::Model<T>& model, int64_t max_relu_units = 4096);

}  // namespace integrad::attr
