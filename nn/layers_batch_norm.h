// BatchNorm1d and BatchNorm2d, as PyTorch's: in training the statistics of the batch (the variance
// biased), and the running statistics updated with momentum (the variance unbiased); in evaluation
// the running statistics, which makes the layer an affine map per channel. The channels are the
// example's dimension 0 (the batch's dimension 1): [C] or [C, L] for BatchNorm1d, [C, H, W] for 2d.
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <optional>

#include "nn/layer.h"
#include "nn/layer_registry.h"
#include "nn/layers_conv.h"

namespace integrad::nn {

template <ad::Scalar T>
struct BatchNorm : Layer<T> {
  int dims;  // 1 or 2: BatchNorm1d or BatchNorm2d
  int64_t features;
  double eps;
  std::optional<double> momentum;  // none: the cumulative average, as momentum=None
  Parameter<T> weight{"weight", ad::Tensor<T>(ad::Shape{features}), ad::Tensor<T>(ad::Shape{features})};
  Parameter<T> bias{"bias", ad::Tensor<T>(ad::Shape{features}), ad::Tensor<T>(ad::Shape{features})};
  // Updated by a training forward, which is otherwise const: a model is not trained from two threads.
  mutable Parameter<T> running_mean{"running_mean", ad::Tensor<T>(ad::Shape{features}), {}, true};
  mutable Parameter<T> running_var{"running_var", ad::Tensor<T>(ad::Shape{features}), {}, true};
  mutable Parameter<T> num_batches_tracked{"num_batches_tracked", ad::Tensor<T>(ad::Shape{}), {}, true};

  BatchNorm(int dims_, int64_t num_features, double eps_ = 1e-5, std::optional<double> momentum_ = 0.1)
      : dims(dims_), features(num_features), eps(eps_), momentum(momentum_) {
    weight.value.fill(T(1));
    running_var.value.fill(T(1));
  }

  std::string kind() const override { return fmt::format("BatchNorm{}d", dims); }
  std::string architecture() const override {
    std::string s = fmt::format("{}({}", kind(), features);
    if (eps != 1e-5) s += fmt::format(", eps={}", eps);
    if (momentum != 0.1) s += momentum ? fmt::format(", momentum={}", *momentum) : std::string(", momentum=None");
    return s + ")";
  }
  ad::Shape output_shape(const ad::Shape& s) const override {
    const bool fits = dims == 2 ? s.rank() == 3 : (s.rank() == 1 || s.rank() == 2);
    if (!fits || s[0] != features)
      throw std::invalid_argument(fmt::format("{} expects input {} with {} channels first, got {}", architecture(), dims == 2 ? "[C, H, W]" : "[C] or [C, L]", features, s.str()));
    return s;
  }
  std::vector<Parameter<T>*> parameters() override { return {&weight, &bias, &running_mean, &running_var, &num_batches_tracked}; }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<BatchNorm>(*this); }

  // The per-channel scale and shift of evaluation: y = x·scale + shift.
  std::pair<ad::Tensor<T>, ad::Tensor<T>> affine() const {
    ad::Tensor<T> scale(ad::Shape{features}), shift(ad::Shape{features});
    for (int64_t c = 0; c < features; ++c) {
      scale[c] = static_cast<T>(double(weight.value[c]) / std::sqrt(double(running_var.value[c]) + eps));
      shift[c] = bias.value[c] - running_mean.value[c] * scale[c];
    }
    return {scale, shift};
  }

  ad::Var<T> forward(ad::Tape<T>& tape, ad::Var<T> x, Grads grads) const override {
    if (grads == Grads::none) {
      auto [scale, shift] = affine();
      return ad::channel_affine(x, tape.leaf(scale), tape.leaf(shift));
    }
    return forward_train(tape, x, grads, false);
  }
  // Training, then a ReLU, in the same passes (Model fuses a ReLU that alone reads this node).
  ad::Var<T> forward_train_relu(ad::Tape<T>& tape, ad::Var<T> x, Grads grads) const { return forward_train(tape, x, grads, true); }
  // Training, then the sum with `residual` and a ReLU (Model fuses a residual block's end: an Add
  // that alone reads this node, and a ReLU that alone reads the Add).
  ad::Var<T> forward_train_add_relu(ad::Tape<T>& tape, ad::Var<T> x, ad::Var<T> residual, Grads grads) const {
    return forward_train(tape, x, grads, true, residual);
  }
  // Training on the output of `conv` (whose only reader this is) applied to x, the two as one op
  // (ad::conv2d_batch_norm_train; Model fuses them), then the ReLU or the residual sum and ReLU
  // as above.
  ad::Var<T> forward_train_after(const Conv2d<T>& conv, ad::Tape<T>& tape, ad::Var<T> x, Grads grads, bool then_relu, ad::Var<T> residual = {}) const {
    return forward_train(tape, x, grads, then_relu, residual, &conv);
  }

 private:
  // Training: the mean and biased variance over every dimension but the channels', in one fused
  // op (ad::batch_norm_train; its element-wise twin is in the tests).
  ad::Var<T> forward_train(ad::Tape<T>& tape, ad::Var<T> x, Grads grads, bool then_relu, ad::Var<T> residual = {}, const Conv2d<T>* conv = nullptr) const {
    ad::Tensor<T> mean, var;
    const ad::Var<T> w = on_tape(tape, weight, grads), b = on_tape(tape, bias, grads);
    const T e = static_cast<T>(eps);
    ad::Var<T> y = conv ? ad::conv2d_batch_norm_train(x, on_tape(tape, conv->weight, grads), conv->has_bias ? on_tape(tape, conv->bias, grads) : ad::Var<T>(),
                                                      conv->stride, conv->padding, w, b, e, mean, var, then_relu, residual)
                        : ad::batch_norm_train(x, w, b, e, mean, var, then_relu, residual);
    update_running(mean, var, y.numel() / features);
    return y;
  }
  void update_running(const ad::Tensor<T>& mean, const ad::Tensor<T>& var, int64_t n) const {
    num_batches_tracked.value[0] += T(1);
    const double m = momentum ? *momentum : 1.0 / double(num_batches_tracked.value[0]);
    const double unbias = n > 1 ? double(n) / double(n - 1) : 1.0;
    for (int64_t c = 0; c < features; ++c) {
      running_mean.value[c] = static_cast<T>((1 - m) * double(running_mean.value[c]) + m * double(mean[c]));
      running_var.value[c] = static_cast<T>((1 - m) * double(running_var.value[c]) + m * double(var[c]) * unbias);
    }
  }
};

// The ONNX exporters of the kinds below (nn/layer_registry.h OnnxExporter), in nn/onnx/export_basic.cpp.
namespace onnx_export {
template <ad::Scalar T>
std::string export_batch_norm(Emitter<T>&, const Layer<T>&, std::span<const std::string>);
}  // namespace onnx_export

template <ad::Scalar T, int Dims>
LayerType<T> batch_norm_layer_type() {
  return {fmt::format("BatchNorm{}d", Dims), {"num_features", "eps", "momentum", "affine", "track_running_stats"},
          [](const LayerArgs& a) -> std::unique_ptr<Layer<T>> {
            if (!a.boolean("affine", true) || !a.boolean("track_running_stats", true))
              a.fail("only affine=True and track_running_stats=True are supported");
            check_size(a, {a.positive("num_features"), 4});
            const std::optional<double> momentum = a.is_none("momentum") ? std::nullopt : std::optional<double>(a.real("momentum", 0.1, 0.0, 1.0));
            return std::make_unique<BatchNorm<T>>(Dims, a.positive("num_features"), a.real("eps", 1e-5, 1e-30, 1.0), momentum);
          },
          [](Layer<T>& layer, ad::Rng&) {  // weight 1, bias 0, running statistics 0 and 1
            auto& l = layer_as<BatchNorm<T>>(layer);
            l.weight.value.fill(T(1));
            l.bias.value.fill(T(0));
            l.running_mean.value.fill(T(0));
            l.running_var.value.fill(T(1));
            l.num_batches_tracked.value.fill(T(0));
          },
          onnx_export::export_batch_norm<T>};
}

}  // namespace integrad::nn
