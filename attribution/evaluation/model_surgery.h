// Functionally equal or deliberately changed copies of a model, for the axiom checks that change a
// model: implementation invariance compares a model with twins computing the same function by other
// weights, dummy adds an input the function ignores, symmetry makes two inputs interchangeable.
// Models whose first weighted layer is Linear are changed there; image models (Conv2d first) in
// their channels.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "nn/model.h"

namespace integrad::attr {

// Twins built from the first Conv2d whose output channels reach the next weighted layer (Conv2d,
// or Linear after Flatten) through ReLU, max- or average-pooling only: its channels permuted, one
// channel scaled by c and its outgoing weights by 1/c, and an identity 1×1 convolution inserted.
// Empty when the model has no such block.
template <ad::Scalar T>
std::vector<std::pair<std::string, nn::Model<T>>> conv_twins(const nn::Model<T>& model);

// For a model whose first layer is Conv2d: a copy taking one more input channel, last, whose
// weights are all zero, so the function ignores it. Throws std::invalid_argument otherwise.
template <ad::Scalar T>
nn::Model<T> with_dummy_channel(const nn::Model<T>& model);

// For a model whose first layer is Conv2d: a copy taking one more input channel, last, that shares
// channel 0's weights half and half with it; fed a copy of channel 0 it computes the model's
// function, and each pixel of channel 0 is interchangeable with the same pixel of the new channel.
template <ad::Scalar T>
nn::Model<T> with_shared_channel(const nn::Model<T>& model);

// Inputs [N, C, H, W] with one more channel appended, last: every pixel `value` (for the dummy
// channel), or a copy of channel 0 (for the shared one).
template <ad::Scalar T>
ad::Tensor<T> with_constant_channel(const ad::Tensor<T>& x, T value);
template <ad::Scalar T>
ad::Tensor<T> with_channel_0_repeated(const ad::Tensor<T>& x);

// Index of the first layer if it is a Linear reached through Flatten layers only (so input
// features map one-to-one to its columns), else -1.
template <ad::Scalar T>
int first_linear(const nn::Model<T>& model);

// Twins built from the first Linear–ReLU–Linear block: hidden units permuted, one unit scaled by c
// and its outgoing weights by 1/c, one unit split in two, an identity layer inserted. Empty when
// the model has no such block.
template <ad::Scalar T>
std::vector<std::pair<std::string, nn::Model<T>>> linear_twins(const nn::Model<T>& model);

// For a model with a first_linear: a copy taking flat inputs with one more feature, last, whose
// column of weights is zero, so the function ignores it.
template <ad::Scalar T>
nn::Model<T> with_dummy_feature(const nn::Model<T>& model);

// For a model with a first_linear of at least two inputs: a copy where features 0 and 1 share the
// mean of their weight columns, so they are interchangeable.
template <ad::Scalar T>
nn::Model<T> with_features_0_1_shared(const nn::Model<T>& model);

}  // namespace integrad::attr
