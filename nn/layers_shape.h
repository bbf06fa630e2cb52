// Layers that regroup values: Flatten (start_dim=1) and Mean(dim), integrad's own layer, equal to
// x.mean(dim=dim) with the batch as dimension 0.
#pragma once

#include <fmt/format.h>

#include "nn/layer.h"
#include "nn/layer_registry.h"

namespace integrad::nn {

template <ad::Scalar T>
struct Flatten : Layer<T> {
  std::string kind() const override { return "Flatten"; }
  std::string architecture() const override { return "Flatten()"; }
  ad::Var<T> forward(ad::Tape<T>&, ad::Var<T> x, Grads) const override {
    return ad::reshape(x, ad::Shape{x.shape()[0], x.numel() / std::max<int64_t>(1, x.shape()[0])});
  }
  ad::Shape output_shape(const ad::Shape& s) const override { return ad::Shape{s.numel()}; }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Flatten>(*this); }
};

template <ad::Scalar T>
struct Mean : Layer<T> {
  int dim;
  explicit Mean(int d) : dim(d) {}
  std::string kind() const override { return "Mean"; }
  std::string architecture() const override { return fmt::format("Mean({})", dim); }
  ad::Var<T> forward(ad::Tape<T>&, ad::Var<T> x, Grads) const override { return ad::mean(x, dim); }
  ad::Shape output_shape(const ad::Shape& s) const override {
    if (dim == 0) throw std::invalid_argument("Mean(0) would average over the batch");
    const int per_example = dim > 0 ? dim - 1 : dim;
    if (per_example >= s.rank() || per_example < -s.rank()) throw std::invalid_argument(fmt::format("{} does not fit input {}", architecture(), s.str()));
    return s.without(per_example);
  }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Mean>(*this); }
};

// The ONNX exporters of the kinds below (nn/layer_registry.h OnnxExporter), in nn/onnx/export_basic.cpp.
namespace onnx_export {
template <ad::Scalar T>
std::string export_flatten(Emitter<T>&, const Layer<T>&, std::span<const std::string>);
template <ad::Scalar T>
std::string export_mean(Emitter<T>&, const Layer<T>&, std::span<const std::string>);
template <ad::Scalar T>
std::string export_identity(Emitter<T>&, const Layer<T>&, std::span<const std::string>);
}  // namespace onnx_export

template <ad::Scalar T>
LayerType<T> flatten_layer_type() {
  return {"Flatten", {"start_dim"}, [](const LayerArgs& a) -> std::unique_ptr<Layer<T>> {
            if (a.integer("start_dim", 1) != 1) a.fail("only start_dim=1 is supported");
            return std::make_unique<Flatten<T>>();
          }, {}, onnx_export::export_flatten<T>};
}

template <ad::Scalar T>
LayerType<T> mean_layer_type() {
  return {"Mean", {"dim"}, [](const LayerArgs& a) -> std::unique_ptr<Layer<T>> { return std::make_unique<Mean<T>>(static_cast<int>(a.integer("dim"))); }, {}, onnx_export::export_mean<T>};
}

// Identity: passes its input on (a named place in a graph, e.g. a downsample that does nothing).
template <ad::Scalar T>
struct Identity : Layer<T> {
  std::string kind() const override { return "Identity"; }
  std::string architecture() const override { return "Identity()"; }
  ad::Var<T> forward(ad::Tape<T>&, ad::Var<T> x, Grads) const override { return x; }
  ad::Shape output_shape(const ad::Shape& s) const override { return s; }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Identity>(*this); }
};

template <ad::Scalar T>
LayerType<T> identity_layer_type() {
  return {"Identity", {}, [](const LayerArgs&) -> std::unique_ptr<Layer<T>> { return std::make_unique<Identity<T>>(); }, {}, onnx_export::export_identity<T>};
}

}  // namespace integrad::nn
