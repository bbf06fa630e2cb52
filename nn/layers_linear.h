// Linear: y = x·Wᵀ + b with W [out, in], as torch.nn.Linear (the transpose is a GEMM flag).
#pragma once

#include <fmt/format.h>

#include "nn/layer.h"
#include "nn/layer_registry.h"

namespace integrad::nn {

template <ad::Scalar T>
struct Linear : Layer<T> {
  int64_t in, out;
  bool has_bias;
  Parameter<T> weight{"weight", ad::Tensor<T>(ad::Shape{out, in}), ad::Tensor<T>(ad::Shape{out, in})};
  Parameter<T> bias{"bias", ad::Tensor<T>(ad::Shape{has_bias ? out : 0}), ad::Tensor<T>(ad::Shape{has_bias ? out : 0})};

  Linear(int64_t in_features, int64_t out_features, bool with_bias = true) : in(in_features), out(out_features), has_bias(with_bias) {}

  std::string kind() const override { return "Linear"; }
  std::string architecture() const override { return fmt::format("Linear({}, {}{})", in, out, has_bias ? "" : ", bias=False"); }
  ad::Var<T> forward(ad::Tape<T>& tape, ad::Var<T> x, Grads grads) const override {
    ad::Var<T> y = ad::matmul(x, on_tape(tape, weight, grads), false, true);
    return has_bias ? y + on_tape(tape, bias, grads) : y;
  }
  ad::Shape output_shape(const ad::Shape& input) const override {
    if (input.rank() != 1 || input[0] != in)
      throw std::invalid_argument(fmt::format("{} expects input of shape [{}], got {}", architecture(), in, input.str()));
    return ad::Shape{out};
  }
  std::vector<Parameter<T>*> parameters() override {
    if (has_bias) return {&weight, &bias};
    return {&weight};
  }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Linear>(*this); }
};

// The ONNX exporters of the kinds below (nn/layer_registry.h OnnxExporter), in nn/onnx/export_basic.cpp.
namespace onnx_export {
template <ad::Scalar T>
std::string export_linear(Emitter<T>&, const Layer<T>&, std::span<const std::string>);
}  // namespace onnx_export

template <ad::Scalar T>
LayerType<T> linear_layer_type() {
  return {"Linear", {"in_features", "out_features", "bias"},
          [](const LayerArgs& a) -> std::unique_ptr<Layer<T>> {
            check_size(a, {a.positive("in_features"), a.positive("out_features")});
            return std::make_unique<Linear<T>>(a.positive("in_features"), a.positive("out_features"), a.boolean("bias", true));
          },
          [](Layer<T>& layer, ad::Rng& rng) {
            auto& l = layer_as<Linear<T>>(layer);
            const double bound = 1.0 / std::sqrt(static_cast<double>(l.in));
            fill_uniform(l.weight.value, rng, bound);
            fill_uniform(l.bias.value, rng, bound);
          },
          onnx_export::export_linear<T>};
}

}  // namespace integrad::nn
