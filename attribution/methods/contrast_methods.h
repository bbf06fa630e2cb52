// Two methods implemented to be contrasted with IG in the axiom matrix, for Model models:
//
// DeepLift, rescale rule (Shrikumar et al. 2017): each element-wise nonlinearity σ is replaced by
//   its secant slope between input and baseline, (σ(z) − σ(z′)) / (z − z′) (σ′(z) where z ≈ z′);
//   linear layers and max pooling pass multipliers as gradients do. Attributions are (x − x′) times
//   the resulting multipliers. It is complete, but not implementation invariant (the paper's
//   Appendix-B pair).
// Guided Backprop (Springenberg et al. 2015): the gradient, except that every ReLU passes back only
//   positive gradients, and only where its input was positive. It fails sensitivity: a feature
//   whose increase lowers the output can get zero.
#pragma once

#include "attribution/target.h"

namespace integrad::attr {

template <ad::Scalar T>
ad::Tensor<T> deeplift_rescale(const nn::Model<T>& model, const ad::Tensor<T>& x, const ad::Tensor<T>& baseline, const Target<T>& target);

// The gradient with every ReLU layer's backward replaced (Captum's ModifiedReluGradientAttribution):
// `guided` passes g where g > 0 and the ReLU's input was > 0 (guided backprop); `deconvolution`
// passes max(g, 0) whatever the input (Zeiler & Fergus's deconvnet, Captum's Deconvolution).
// Other layers, max pooling included, pass gradients as usual.
enum class ReluBackward { guided, deconvolution };
template <ad::Scalar T>
ad::Tensor<T> modified_relu_gradient(const nn::Model<T>& model, const ad::Tensor<T>& x, const Target<T>& target, ReluBackward rule);

template <ad::Scalar T>
ad::Tensor<T> guided_backprop(const nn::Model<T>& model, const ad::Tensor<T>& x, const Target<T>& target);

}  // namespace integrad::attr
