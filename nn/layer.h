// The module interface: a layer is a small struct with its parameters as public fields and a
// forward that records ops on a tape. A layer is a node of the model's graph (nn/model.h): most
// read one value, a few (the residual Add, Concat) several.
//
// Modes, as PyTorch's train() and eval(): a forward with Grads::parameters is training, one with
// Grads::none is evaluation. In evaluation no layer mixes examples, so one backward of a sum over
// the batch gives each example's own gradient, which every attribution method relies on. In
// training BatchNorm does mix them (batch statistics) and updates its running statistics; Dropout
// draws its masks. Attribution always runs in evaluation.
#pragma once

#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "autodiff/ops.h"

namespace integrad::nn {

template <ad::Scalar T>
struct Parameter {
  std::string name;  // "weight" or "bias", as in PyTorch's state_dict
  ad::Tensor<T> value;
  ad::Tensor<T> grad;
  // A buffer (BatchNorm's running statistics) is saved and loaded with the parameters, as in a
  // state_dict, but no optimiser steps it and no gradient reaches it.
  bool buffer = false;
};

// none: evaluation; parameters enter the tape as constants (attribution: only input gradients).
// parameters: training; their gradients accumulate into Parameter::grad.
enum class Grads { none, parameters };

template <ad::Scalar T>
class Layer {
 public:
  virtual ~Layer() = default;
  // PyTorch's class name ("Linear", "ReLU", ...): the layer's entry in the registry
  // (nn/layer_registry.h), and the key of the rule tables that look inside a model by name.
  virtual std::string kind() const = 0;
  virtual std::string architecture() const = 0;  // "Linear(784, 10)", as written in model files
  // x has the batch as dimension 0.
  virtual ad::Var<T> forward(ad::Tape<T>& tape, ad::Var<T> x, Grads grads) const = 0;
  // Per-example shapes (no batch dimension); throws when the input does not fit the layer.
  virtual ad::Shape output_shape(const ad::Shape& input) const = 0;
  // A layer that reads several values (the residual Add, Concat) says how many (0: any number from
  // two) and overrides the two functions below; a one-input layer keeps these defaults.
  virtual size_t arity() const { return 1; }
  virtual ad::Var<T> forward(ad::Tape<T>& tape, std::span<const ad::Var<T>> xs, Grads grads) const { return forward(tape, xs[0], grads); }
  virtual ad::Shape output_shape(std::span<const ad::Shape> inputs) const { return output_shape(inputs[0]); }
  virtual std::vector<Parameter<T>*> parameters() { return {}; }
  virtual std::unique_ptr<Layer<T>> clone() const = 0;
};

// What a layer is, for the code that looks inside a model (model surgery, exact IG, DeepLift, fused
// kernels): its concrete class, so that a new layer kind needs no entry in a list of kinds. The
// layer as L, or nullptr when it is of another class (a dynamic_cast: resolve it once per node per
// pass, never per element).
template <class L, ad::Scalar T>
const L* layer_if(const Layer<T>& layer) {
  return dynamic_cast<const L*>(&layer);
}
template <class L, ad::Scalar T>
L* layer_if(Layer<T>& layer) {
  return dynamic_cast<L*>(&layer);
}
template <class L, ad::Scalar T>
bool layer_is(const Layer<T>& layer) {
  return layer_if<L>(layer) != nullptr;
}
// The layer as L; throws if it is of another class.
template <class L, ad::Scalar T>
const L& layer_as(const Layer<T>& layer) {
  if (const L* l = layer_if<L>(layer)) return *l;
  throw std::logic_error("layer " + layer.architecture() + " is not of the class asked for");
}
template <class L, ad::Scalar T>
L& layer_as(Layer<T>& layer) {
  return const_cast<L&>(layer_as<L>(std::as_const(layer)));
}

// The values a layer trains: its parameters, without buffers (as PyTorch's numel over parameters()).
template <ad::Scalar T>
int64_t trained_parameter_count(Layer<T>& layer) {
  int64_t n = 0;
  for (const Parameter<T>* p : layer.parameters()) n += p->buffer ? 0 : p->value.numel();
  return n;
}

// Puts a parameter on the tape: in place, with its gradient buffer when training.
template <ad::Scalar T>
ad::Var<T> on_tape(ad::Tape<T>& tape, const Parameter<T>& p, Grads grads) {
  return tape.parameter(p.value, grads == Grads::parameters ? const_cast<ad::Tensor<T>*>(&p.grad) : nullptr);
}

// The batch dimension added in front of a per-example shape.
inline ad::Shape with_batch(int64_t n, const ad::Shape& s) {
  std::vector<int64_t> dims{n};
  for (int64_t d : s.dims()) dims.push_back(d);
  return ad::Shape(dims);
}

}  // namespace integrad::nn
