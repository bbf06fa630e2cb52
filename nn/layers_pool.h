// MaxPool2d and AvgPool2d (no padding; stride defaults to the kernel size, as in PyTorch).
#pragma once

#include <fmt/format.h>

#include "nn/layer.h"

namespace integrad::nn {

template <ad::Scalar T, bool IsMax>
struct Pool2d : Layer<T> {
  int kernel, stride;
  Pool2d(int kernel_size, int stride_) : kernel(kernel_size), stride(stride_) {}

  static constexpr LayerKind kType = IsMax ? LayerKind::max_pool2d : LayerKind::avg_pool2d;
  LayerKind type() const override { return kType; }
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

}  // namespace integrad::nn
