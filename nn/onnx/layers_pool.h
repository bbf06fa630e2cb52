// OnnxMaxPool: ONNX's MaxPool with padding, as torch.nn.MaxPool2d(k, s, padding=p) (torchvision's
// ResNet stem): the input padded with −∞ on every side, then integrad's max pooling. The padding
// never wins a window (PyTorch requires p ≤ k/2), so values and gradients are MaxPool2d's.
#pragma once

#include <limits>

#include "nn/onnx/layer_base.h"

namespace integrad::nn {

template <ad::Scalar T>
struct OnnxMaxPool : OnnxLayer<T> {
  int kernel = 1, stride = 1, pad = 0;
  std::string kind() const override { return "OnnxMaxPool"; }
  std::string architecture() const override { return fmt::format("OnnxMaxPool({}, {}, {}, {})", kernel, stride, pad, this->common_text()); }
  ad::Var<T> compute(std::span<const ad::Var<T>> v) const override {
    ad::Var<T> x = v[0];
    ad::Tape<T>& tape = x.tape();
    auto wall = [&](ad::Shape s) {
      ad::Var<T> w = tape.make(s, false);
      std::fill_n(tape.write(w), s.numel(), -std::numeric_limits<T>::infinity());
      return w;
    };
    if (pad > 0) {
      for (int dim : {3, 2}) {
        const ad::Shape side = x.shape().with(dim, pad);
        const ad::Var<T> parts[] = {wall(side), x, wall(side)};
        x = ad::concat(std::span<const ad::Var<T>>(parts), dim);
      }
    }
    return ad::max_pool2d(x, kernel, stride);
  }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<OnnxMaxPool>(*this); }
};

template <ad::Scalar T>
LayerType<T> onnx_max_pool_layer_type() {
  return {"OnnxMaxPool", OnnxLayer<T>::common_arguments({"kernel_size", "stride", "padding"}), [](const LayerArgs& a) -> std::unique_ptr<Layer<T>> {
            auto l = std::make_unique<OnnxMaxPool<T>>();
            l->parse_common(a);
            l->kernel = static_cast<int>(a.positive("kernel_size"));
            l->stride = static_cast<int>(a.positive("stride"));
            l->pad = static_cast<int>(a.integer("padding", 0));
            if (l->pad < 0 || 2 * l->pad > l->kernel) a.fail("'padding' must be in [0, kernel_size / 2], as PyTorch requires");
            if (l->operands != "r") a.fail("reads one value");
            return l;
          }};
}

}  // namespace integrad::nn
