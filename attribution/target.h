// What is explained: a differentiable model (any function recording a batch's outputs on a tape)
// and a target — which scalar of each example's output the attribution is for.
#pragma once

#include <algorithm>
#include <functional>
#include <vector>

#include "autodiff/ops.h"
#include "nn/model.h"

namespace integrad::attr {

// Records the forward of a batch x [N, ...] on the tape; returns outputs [N, C]. Any callable
// converts to one. `values_per_example`, when known (forward_of sets it), is how many values the
// forward of one example records, about: the gradient methods size their batches by it so that
// a batch's tape stays in cache (methods/gradients.cpp); 0 means unknown.
template <ad::Scalar T>
struct Forward : std::function<ad::Var<T>(ad::Tape<T>&, ad::Var<T>)> {
  using std::function<ad::Var<T>(ad::Tape<T>&, ad::Var<T>)>::function;
  int64_t values_per_example = 0;
};

// A model's forward with its parameters as constants: attribution never computes parameter
// gradients.
template <ad::Scalar T>
Forward<T> forward_of(const nn::Model<T>& model, size_t from = 0, size_t to = nn::Model<T>::npos) {
  Forward<T> f = [&model, from, to](ad::Tape<T>& tape, ad::Var<T> x) { return model.forward(tape, x, nn::Grads::none, from, to); };
  f.values_per_example = model.values_per_example(from, to);
  return f;
}

template <ad::Scalar T>
struct Target {
  enum class Kind { predicted, index, per_example, function } kind = Kind::predicted;
  int64_t index = 0;
  std::vector<int64_t> indices;
  // outputs [N, C] -> [N]: any scalar function of each example's output.
  std::function<ad::Var<T>(ad::Var<T>)> function;

  static Target predicted() { return {}; }
  static Target of(int64_t k) { return {Kind::index, k, {}, {}}; }
  static Target each(std::vector<int64_t> ks) { return {Kind::per_example, 0, std::move(ks), {}}; }
  static Target scalar(std::function<ad::Var<T>(ad::Var<T>)> fn) { return {Kind::function, 0, {}, std::move(fn)}; }
};

// The target resolved to one class per example (predicted = argmax of F(x)); empty for a
// function target.
template <ad::Scalar T>
std::vector<int64_t> resolve_targets(const Forward<T>& f, const ad::Tensor<T>& inputs, const Target<T>& target);

// F_target for each row of a batch of outputs [R, C], as a Var [R]: row r selects class
// row_targets[r] (ignored for a function target).
template <ad::Scalar T>
ad::Var<T> select_target(ad::Var<T> outputs, const Target<T>& target, std::span<const int64_t> row_targets);

// F_target(x) per example, no gradients.
template <ad::Scalar T>
std::vector<double> target_values(const Forward<T>& f, const ad::Tensor<T>& x, const Target<T>& target, std::span<const int64_t> targets);

}  // namespace integrad::attr
