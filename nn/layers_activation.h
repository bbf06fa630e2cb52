// Element-wise activations, and Softmax along a dimension of the example (PyTorch's dim, counted
// with the batch as dimension 0).
#pragma once

#include <fmt/format.h>

#include "nn/layer.h"
#include "nn/layer_registry.h"

namespace integrad::nn {

enum class Activation { relu, sigmoid, tanh };

template <ad::Scalar T>
struct ElementWise : Layer<T> {
  Activation fn;
  explicit ElementWise(Activation f) : fn(f) {}

  LayerKind type() const override {
    switch (fn) {
      case Activation::relu: return LayerKind::relu;
      case Activation::sigmoid: return LayerKind::sigmoid;
      default: return LayerKind::tanh;
    }
  }
  std::string kind() const override {
    switch (fn) {
      case Activation::relu: return "ReLU";
      case Activation::sigmoid: return "Sigmoid";
      default: return "Tanh";
    }
  }
  std::string architecture() const override { return kind() + "()"; }
  ad::Var<T> forward(ad::Tape<T>&, ad::Var<T> x, Grads) const override {
    switch (fn) {
      case Activation::relu: return ad::relu(x);
      case Activation::sigmoid: return ad::sigmoid(x);
      default: return ad::tanh(x);
    }
  }
  ad::Shape output_shape(const ad::Shape& s) const override { return s; }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<ElementWise>(*this); }
};

template <ad::Scalar T>
struct Softmax : Layer<T> {
  int dim;
  explicit Softmax(int d = -1) : dim(d) {}
  LayerKind type() const override { return LayerKind::softmax; }
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

template <ad::Scalar T, Activation Fn>
LayerType<T> activation_layer_type() {
  const ElementWise<T> layer(Fn);
  return {layer.kind(), Fn == Activation::relu ? std::vector<std::string>{"inplace"} : std::vector<std::string>{},
          [](const LayerArgs&) -> std::unique_ptr<Layer<T>> { return std::make_unique<ElementWise<T>>(Fn); }};
}

template <ad::Scalar T>
LayerType<T> softmax_layer_type() {
  return {"Softmax", {"dim"}, [](const LayerArgs& a) -> std::unique_ptr<Layer<T>> { return std::make_unique<Softmax<T>>(static_cast<int>(a.integer("dim", -1))); }};
}

}  // namespace integrad::nn
