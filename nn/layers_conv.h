// Conv2d with a square kernel, stride and zero padding, as torch.nn.Conv2d; weight [O, C, k, k].
#pragma once

#include <fmt/format.h>

#include "nn/layer.h"
#include "nn/layer_registry.h"

namespace integrad::nn {

template <ad::Scalar T>
struct Conv2d : Layer<T> {
  int64_t in_ch, out_ch;
  int kernel, stride, padding;
  bool has_bias;
  Parameter<T> weight{"weight", ad::Tensor<T>(ad::Shape{out_ch, in_ch, kernel, kernel}), ad::Tensor<T>(ad::Shape{out_ch, in_ch, kernel, kernel})};
  Parameter<T> bias{"bias", ad::Tensor<T>(ad::Shape{has_bias ? out_ch : 0}), ad::Tensor<T>(ad::Shape{has_bias ? out_ch : 0})};

  Conv2d(int64_t in_channels, int64_t out_channels, int kernel_size, int stride_ = 1, int padding_ = 0, bool with_bias = true)
      : in_ch(in_channels), out_ch(out_channels), kernel(kernel_size), stride(stride_), padding(padding_), has_bias(with_bias) {}

  std::string kind() const override { return "Conv2d"; }
  std::string architecture() const override {
    std::string s = fmt::format("Conv2d({}, {}, {}", in_ch, out_ch, kernel);
    if (stride != 1) s += fmt::format(", stride={}", stride);
    if (padding != 0) s += fmt::format(", padding={}", padding);
    if (!has_bias) s += ", bias=False";
    return s + ")";
  }
  ad::Var<T> forward(ad::Tape<T>& tape, ad::Var<T> x, Grads grads) const override {
    return ad::conv2d(x, on_tape(tape, weight, grads), has_bias ? on_tape(tape, bias, grads) : ad::Var<T>(), stride, padding);
  }
  // This layer and a ReLU after it, in one op (Model uses it).
  ad::Var<T> forward_relu(ad::Tape<T>& tape, ad::Var<T> x, Grads grads) const {
    return ad::conv2d_relu(x, on_tape(tape, weight, grads), has_bias ? on_tape(tape, bias, grads) : ad::Var<T>(), stride, padding);
  }
  // This layer, a ReLU and a MaxPool2d(2) after it, in one op (Model uses it).
  ad::Var<T> forward_relu_max_pool(ad::Tape<T>& tape, ad::Var<T> x, Grads grads) const {
    return ad::conv2d_relu_max_pool2d(x, on_tape(tape, weight, grads), has_bias ? on_tape(tape, bias, grads) : ad::Var<T>(), stride, padding);
  }
  ad::Shape output_shape(const ad::Shape& s) const override {
    if (s.rank() != 3 || s[0] != in_ch || s[1] + 2 * padding < kernel || s[2] + 2 * padding < kernel)
      throw std::invalid_argument(fmt::format("{} expects input [{}, H, W] with H, W >= {}, got {}", architecture(), in_ch, kernel - 2 * padding, s.str()));
    return ad::Shape{out_ch, (s[1] + 2 * padding - kernel) / stride + 1, (s[2] + 2 * padding - kernel) / stride + 1};
  }
  std::vector<Parameter<T>*> parameters() override {
    if (has_bias) return {&weight, &bias};
    return {&weight};
  }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Conv2d>(*this); }
};

// The ONNX exporters of the kinds below (nn/layer_registry.h OnnxExporter), in nn/onnx/export_basic.cpp.
namespace onnx_export {
template <ad::Scalar T>
std::string export_conv2d(Emitter<T>&, const Layer<T>&, std::span<const std::string>);
}  // namespace onnx_export

template <ad::Scalar T>
LayerType<T> conv2d_layer_type() {
  return {"Conv2d", {"in_channels", "out_channels", "kernel_size", "stride", "padding", "bias"},
          [](const LayerArgs& a) -> std::unique_ptr<Layer<T>> {
            const int64_t padding = a.integer("padding", 0);
            if (padding < 0 || padding > 1024) a.fail("'padding' must be in [0, 1024]");
            if (a.positive("kernel_size") > 1024 || a.positive("stride", 1) > 1024) a.fail("'kernel_size' and 'stride' must be at most 1024");
            check_size(a, {a.positive("in_channels"), a.positive("out_channels"), a.positive("kernel_size"), a.positive("kernel_size")});
            return std::make_unique<Conv2d<T>>(a.positive("in_channels"), a.positive("out_channels"), static_cast<int>(a.positive("kernel_size")),
                                               static_cast<int>(a.positive("stride", 1)), static_cast<int>(padding), a.boolean("bias", true));
          },
          [](Layer<T>& layer, ad::Rng& rng) {
            auto& c = layer_as<Conv2d<T>>(layer);
            const double bound = 1.0 / std::sqrt(static_cast<double>(c.in_ch * c.kernel * c.kernel));
            fill_uniform(c.weight.value, rng, bound);
            fill_uniform(c.bias.value, rng, bound);
          },
          onnx_export::export_conv2d<T>};
}

}  // namespace integrad::nn
