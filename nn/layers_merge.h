// The layers that join branches of a graph: Add, the residual sum (x + f(x) in a ResNet block, of
// any number of addends of one shape), and Concat, torch.cat along a dimension counted with the
// batch as dimension 0.
#pragma once

#include <fmt/format.h>

#include "nn/layer.h"
#include "nn/layer_registry.h"

namespace integrad::nn {

template <ad::Scalar T>
struct Add : Layer<T> {
  std::string kind() const override { return "Add"; }
  std::string architecture() const override { return "Add()"; }
  size_t arity() const override { return 0; }
  ad::Var<T> forward(ad::Tape<T>&, ad::Var<T> x, Grads) const override { return x; }
  ad::Var<T> forward(ad::Tape<T>&, std::span<const ad::Var<T>> xs, Grads) const override {
    ad::Var<T> sum = xs[0];
    for (size_t i = 1; i < xs.size(); ++i) sum = ad::add(sum, xs[i]);
    return sum;
  }
  ad::Shape output_shape(const ad::Shape& s) const override { return s; }
  ad::Shape output_shape(std::span<const ad::Shape> in) const override {
    for (const ad::Shape& s : in)
      if (s != in[0]) throw std::invalid_argument(fmt::format("Add() needs addends of one shape, got {} and {}", in[0].str(), s.str()));
    return in[0];
  }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Add>(*this); }
};

template <ad::Scalar T>
struct Concat : Layer<T> {
  int dim;  // PyTorch's, with the batch as dimension 0
  explicit Concat(int d) : dim(d) {}
  std::string kind() const override { return "Concat"; }
  std::string architecture() const override { return fmt::format("Concat(dim={})", dim); }
  size_t arity() const override { return 0; }
  ad::Var<T> forward(ad::Tape<T>&, ad::Var<T> x, Grads) const override { return x; }
  ad::Var<T> forward(ad::Tape<T>&, std::span<const ad::Var<T>> xs, Grads) const override {
    return ad::concat(xs, dim < 0 ? dim + xs[0].shape().rank() : dim);
  }
  ad::Shape output_shape(const ad::Shape& s) const override { return s; }
  ad::Shape output_shape(std::span<const ad::Shape> in) const override {
    const int rank = in[0].rank(), d = (dim < 0 ? dim + rank + 1 : dim) - 1;  // per example
    if (d < 0 || d >= rank) throw std::invalid_argument(fmt::format("{} does not fit inputs of shape {}", architecture(), in[0].str()));
    std::vector<int64_t> out(in[0].dims().begin(), in[0].dims().end());
    for (size_t i = 1; i < in.size(); ++i) {
      bool fits = in[i].rank() == rank;
      for (int k = 0; fits && k < rank; ++k) fits = k == d || in[i][k] == in[0][k];
      if (!fits) throw std::invalid_argument(fmt::format("{} cannot join {} and {}", architecture(), in[0].str(), in[i].str()));
      out[d] += in[i][d];
    }
    return ad::Shape(out);
  }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Concat>(*this); }
};

// The ONNX exporters of the kinds below (nn/layer_registry.h OnnxExporter), in nn/onnx/export_basic.cpp.
namespace onnx_export {
template <ad::Scalar T>
std::string export_add(Emitter<T>&, const Layer<T>&, std::span<const std::string>);
template <ad::Scalar T>
std::string export_concat(Emitter<T>&, const Layer<T>&, std::span<const std::string>);
}  // namespace onnx_export

template <ad::Scalar T>
LayerType<T> add_layer_type() {
  return {"Add", {}, [](const LayerArgs&) -> std::unique_ptr<Layer<T>> { return std::make_unique<Add<T>>(); }, {}, onnx_export::export_add<T>};
}

template <ad::Scalar T>
LayerType<T> concat_layer_type() {
  return {"Concat", {"dim"}, [](const LayerArgs& a) -> std::unique_ptr<Layer<T>> {
            const int64_t dim = a.integer("dim", 1);
            if (dim == 0 || dim < -6 || dim > 5) a.fail("'dim' must be in [-6, 5] and not 0 (the batch)");
            return std::make_unique<Concat<T>>(static_cast<int>(dim));
          }, {}, onnx_export::export_concat<T>};
}

}  // namespace integrad::nn
