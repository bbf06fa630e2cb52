// Element-wise activations, and Softmax along a dimension of the example (PyTorch's dim, counted
// with the batch as dimension 0).
#pragma once

#include <fmt/format.h>

#include "nn/layer.h"
#include "nn/layer_registry.h"

namespace integrad::nn {

enum class Activation { relu, sigmoid, tanh };

// One class per function (ReLU<T>, Sigmoid<T>, Tanh<T>), so that the code looking inside a model
// tells them apart by class.
template <ad::Scalar T, Activation Fn>
struct ElementWise : Layer<T> {
  static constexpr Activation fn = Fn;

  std::string kind() const override {
    switch (Fn) {
      case Activation::relu: return "ReLU";
      case Activation::sigmoid: return "Sigmoid";
      default: return "Tanh";
    }
  }
  std::string architecture() const override { return kind() + "()"; }
  ad::Var<T> forward(ad::Tape<T>&, ad::Var<T> x, Grads) const override {
    switch (Fn) {
      case Activation::relu: return ad::relu(x);
      case Activation::sigmoid: return ad::sigmoid(x);
      default: return ad::tanh(x);
    }
  }
  ad::Shape output_shape(const ad::Shape& s) const override { return s; }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<ElementWise>(*this); }
};

template <ad::Scalar T>
using ReLU = ElementWise<T, Activation::relu>;
template <ad::Scalar T>
using Sigmoid = ElementWise<T, Activation::sigmoid>;
template <ad::Scalar T>
using Tanh = ElementWise<T, Activation::tanh>;

// The layer of `fn`, for a reader that learns the function at run time (ONNX's Relu, Sigmoid, Tanh).
template <ad::Scalar T>
std::unique_ptr<Layer<T>> make_activation(Activation fn) {
  switch (fn) {
    case Activation::relu: return std::make_unique<ReLU<T>>();
    case Activation::sigmoid: return std::make_unique<Sigmoid<T>>();
    default: return std::make_unique<Tanh<T>>();
  }
}

template <ad::Scalar T>
struct Softmax : Layer<T> {
  int dim;
  explicit Softmax(int d = -1) : dim(d) {}
  std::string kind() const override { return "Softmax"; }
  std::string architecture() const override { return dim == -1 ? "Softmax(dim=-1)" : fmt::format("Softmax(dim={})", dim); }
  ad::Var<T> forward(ad::Tape<T>&, ad::Var<T> x, Grads) const override { return ad::softmax(x, dim); }
  ad::Shape output_shape(const ad::Shape& s) const override {
    if (dim == 0) throw std::invalid_argument("Softmax(dim=0) would mix the examples of a batch");
    if (dim > s.rank() || dim < -s.rank()) throw std::invalid_argument(fmt::format("{} does not fit input {}", architecture(), s.str()));
    return s;
  }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Softmax>(*this); }
};

// The ONNX exporters of the kinds below (nn/layer_registry.h OnnxExporter), in nn/onnx/export_basic.cpp.
namespace onnx_export {
template <ad::Scalar T>
std::string export_activation(Emitter<T>&, const Layer<T>&, std::span<const std::string>);
template <ad::Scalar T>
std::string export_softmax(Emitter<T>&, const Layer<T>&, std::span<const std::string>);
}  // namespace onnx_export

template <ad::Scalar T, Activation Fn>
LayerType<T> activation_layer_type() {
  return {ElementWise<T, Fn>().kind(), Fn == Activation::relu ? std::vector<std::string>{"inplace"} : std::vector<std::string>{},
          [](const LayerArgs&) -> std::unique_ptr<Layer<T>> { return std::make_unique<ElementWise<T, Fn>>(); }, {}, onnx_export::export_activation<T>};
}

template <ad::Scalar T>
LayerType<T> softmax_layer_type() {
  return {"Softmax", {"dim"}, [](const LayerArgs& a) -> std::unique_ptr<Layer<T>> { return std::make_unique<Softmax<T>>(static_cast<int>(a.integer("dim", -1))); }, {}, onnx_export::export_softmax<T>};
}

}  // namespace integrad::nn
