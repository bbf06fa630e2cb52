// MaxPool2d and AvgPool2d (no padding; stride defaults to the kernel size, as in PyTorch).
#pragma once

#include <fmt/format.h>

#include "nn/layer.h"
#include "nn/layer_registry.h"

namespace integrad::nn {

template <ad::Scalar T, bool IsMax>
struct Pool2d : Layer<T> {
  int kernel, stride;
  Pool2d(int kernel_size, int stride_) : kernel(kernel_size), stride(stride_) {}

  std::string kind() const override { return IsMax ? "MaxPool2d" : "AvgPool2d"; }
  std::string architecture() const override {
    return stride == kernel ? fmt::format("{}({})", kind(), kernel) : fmt::format("{}({}, stride={})", kind(), kernel, stride);
  }
  ad::Var<T> forward(ad::Tape<T>&, ad::Var<T> x, Grads) const override {
    return IsMax ? ad::max_pool2d(x, kernel, stride) : ad::avg_pool2d(x, kernel, stride);
  }
  ad::Shape output_shape(const ad::Shape& s) const override {
    if (s.rank() != 3 || s[1] < kernel || s[2] < kernel)
      throw std::invalid_argument(fmt::format("{} expects input [C, H, W] with H, W >= {}, got {}", architecture(), kernel, s.str()));
    return ad::Shape{s[0], (s[1] - kernel) / stride + 1, (s[2] - kernel) / stride + 1};
  }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Pool2d>(*this); }
};

template <ad::Scalar T>
using MaxPool2d = Pool2d<T, true>;
template <ad::Scalar T>
using AvgPool2d = Pool2d<T, false>;

// The ONNX exporters of the kinds below (nn/layer_registry.h OnnxExporter), in nn/onnx/export_basic.cpp.
namespace onnx_export {
template <ad::Scalar T>
std::string export_pool2d(Emitter<T>&, const Layer<T>&, std::span<const std::string>);
template <ad::Scalar T>
std::string export_adaptive_avg_pool2d(Emitter<T>&, const Layer<T>&, std::span<const std::string>);
}  // namespace onnx_export

template <ad::Scalar T, bool IsMax>
LayerType<T> pool2d_layer_type() {
  return {IsMax ? "MaxPool2d" : "AvgPool2d", {"kernel_size", "stride"}, [](const LayerArgs& a) -> std::unique_ptr<Layer<T>> {
            if (a.positive("kernel_size") > 1024 || (a.has("stride") && !a.is_none("stride") && a.positive("stride") > 1024))
              a.fail("'kernel_size' and 'stride' must be at most 1024");
            const int k = static_cast<int>(a.positive("kernel_size"));
            const int s = a.has("stride") && !a.is_none("stride") ? static_cast<int>(a.positive("stride")) : k;
            return std::make_unique<Pool2d<T, IsMax>>(k, s);
          }, {}, onnx_export::export_pool2d<T>};
}

// AdaptiveAvgPool2d(1): the global average pool of a ResNet's head, [C, H, W] -> [C, 1, 1]. Other
// output sizes are refused.
template <ad::Scalar T>
struct AdaptiveAvgPool2d : Layer<T> {
  std::string kind() const override { return "AdaptiveAvgPool2d"; }
  std::string architecture() const override { return "AdaptiveAvgPool2d(1)"; }
  ad::Var<T> forward(ad::Tape<T>&, ad::Var<T> x, Grads) const override { return ad::mean(ad::mean(x, 3, true), 2, true); }
  ad::Shape output_shape(const ad::Shape& s) const override {
    if (s.rank() != 3) throw std::invalid_argument(fmt::format("AdaptiveAvgPool2d(1) expects input [C, H, W], got {}", s.str()));
    return ad::Shape{s[0], 1, 1};
  }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<AdaptiveAvgPool2d>(*this); }
};

template <ad::Scalar T>
LayerType<T> adaptive_avg_pool2d_layer_type() {
  return {"AdaptiveAvgPool2d", {"output_size"}, [](const LayerArgs& a) -> std::unique_ptr<Layer<T>> {
            if (a.integer("output_size") != 1) a.fail("only output_size=1 (the global average) is supported");
            return std::make_unique<AdaptiveAvgPool2d<T>>();
          }, {}, onnx_export::export_adaptive_avg_pool2d<T>};
}

}  // namespace integrad::nn
