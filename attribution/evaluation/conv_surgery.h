// Functionally equal or deliberately extended copies of image models (Conv2d first), for the axiom
// checks that change a model: implementation invariance compares a model with twins computing the
// same function by other weights, dummy adds an input the function ignores, symmetry adds an input
// interchangeable with another. The Linear-first counterparts live in axioms.cpp.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "nn/sequential.h"

namespace integrad::attr {

// Twins built from the first Conv2d whose output channels reach the next weighted layer (Conv2d,
// or Linear after Flatten) through ReLU, max- or average-pooling only: its channels permuted, one
// channel scaled by c and its outgoing weights by 1/c, and an identity 1×1 convolution inserted.
// Empty when the model has no such block.
template <ad::Scalar T>
std::vector<std::pair<std::string, nn::Sequential<T>>> conv_twins(const nn::Sequential<T>& model);

// For a model whose first layer is Conv2d: a copy taking one more input channel, last, whose
// weights are all zero, so the function ignores it. Throws std::invalid_argument otherwise.
template <ad::Scalar T>
nn::Sequential<T> with_dummy_channel(const nn::Sequential<T>& model);

// For a model whose first layer is Conv2d: a copy taking one more input channel, last, that shares
// channel 0's weights half and half with it; fed a copy of channel 0 it computes the model's
// function, and each pixel of channel 0 is interchangeable with the same pixel of the new channel.
template <ad::Scalar T>
nn::Sequential<T> with_shared_channel(const nn::Sequential<T>& model);

// Inputs [N, C, H, W] with one more channel appended, last: every pixel `value` (for the dummy
// channel), or a copy of channel 0 (for the shared one).
template <ad::Scalar T>
ad::Tensor<T> with_constant_channel(const ad::Tensor<T>& x, T value);
template <ad::Scalar T>
ad::Tensor<T> with_channel_0_repeated(const ad::Tensor<T>& x);

}  // namespace integrad::attr
