// BatchNorm in training whose input's gradient is handed on image by image instead of written
// whole (ops_norm.cpp), for an op that fuses x's producer into it: conv2d_batch_norm_train
// (ops_conv_batch_norm.cpp). Internal to autodiff.
#pragma once

#include <cstdint>
#include <functional>

#include "autodiff/tape.h"

namespace integrad::ad {

// Called once in the backward, after BatchNorm's sums, with dx_of(image): that image's dx
// [C, ...] in the calling thread's memory, valid until the thread's next call. A function and its
// context (kept in the tape's arena), not a std::function: backward closures live in the arena
// and may hold nothing that needs destroying.
template <Scalar T>
struct InputGradientSink {
  using ImageGradient = std::function<const T*(int64_t image)>;
  void (*take)(Tape<T>&, const void* context, const ImageGradient& dx_of) = nullptr;
  const void* context = nullptr;
  explicit operator bool() const { return take != nullptr; }
};

// One image's plane of one channel: its mean, and the sum of squared deviations from it.
struct PlaneMoments {
  double mean, squares;
};
template <Scalar T>
PlaneMoments plane_moments(const T* plane, int64_t len);

// ad::batch_norm_train. With `moments` (per image and channel, [N·C] image-major: what x's producer
// worked out while each image was in its cache), no pass over x for them. With a sink, x's
// gradient goes to the sink rather than to x (which then needs no gradient of its own: a tape
// value the fused op made).
template <Scalar T>
Var<T> batch_norm_train_with(Var<T> x, Var<T> weight, Var<T> bias, T eps, Tensor<T>& batch_mean, Tensor<T>& batch_var, bool then_relu, Var<T> residual,
                             const PlaneMoments* moments, InputGradientSink<T> sink);

}  // namespace integrad::ad
