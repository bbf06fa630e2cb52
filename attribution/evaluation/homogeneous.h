// Bias-free ReLU networks: Linear and Conv2d without bias (or with an all-zero one), ReLU, max and
// average pooling, flattening, residual sums. Such a network is positively homogeneous of degree 1,
// F(αx) = α·F(x) for α ≥ 0, so F(0) = 0 and, where F is differentiable, F(x) = x·∇F(x) (Euler).
// There the methods that share out F(x) − F(x′) from the zero baseline share out F(x) itself: the
// axiom matrix holds the rows that say so (Method::conserves_without_bias) to conservation.
#pragma once

#include <optional>

#include "nn/model.h"

namespace integrad::attr {

// Whether every layer is of the kinds above and every Linear and Conv2d bias is absent or zero.
template <ad::Scalar T>
bool bias_free_relu_network(const nn::Model<T>& model);

// The model with each Linear and Conv2d rebuilt without its bias (another function: the biases
// are gone, not folded), if its other layers are of the kinds above; nullopt otherwise.
template <ad::Scalar T>
std::optional<nn::Model<T>> without_biases(const nn::Model<T>& model);

}  // namespace integrad::attr
