// ReLU's value and gradient for one element, shared by ad::relu and the ReLU fused into conv2d
// (conv_rows.cpp) so that both give the same bits, NaN and ±Inf included. Internal to autodiff.
#pragma once

namespace integrad::ad {

// torch.relu is clamp_min(x, 0), which keeps NaN: relu(NaN) = NaN, relu(±Inf) = Inf / 0.
// x <= 0 is false for NaN, so NaN is returned as it is (and −0 becomes +0, as x > 0 ? x : 0 did).
template <class T>
T relu_value(T x) {
  return x <= T(0) ? T(0) : x;
}

// PyTorch's relu backward is threshold_backward(g, y, 0) on the output y: `y <= 0 ? 0 : g`, a
// select and not the product g · relu′(x). Where x was NaN (y NaN) the gradient g passes; where
// y = 0 it is 0 even when g is NaN or ±Inf.
template <class T>
T relu_grad(T g, T y) {
  return y <= T(0) ? T(0) : g;
}

}  // namespace integrad::ad
