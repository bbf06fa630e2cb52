#include "attribution/target.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "autodiff/thread_tape.h"

namespace integrad::attr {

template <ad::Scalar T>
std::vector<int64_t> resolve_targets(const Forward<T>& f, const ad::Tensor<T>& inputs, const Target<T>& target) {
  const int64_t n = inputs.size(0);
  switch (target.kind) {
    case Target<T>::Kind::function: return {};
    case Target<T>::Kind::index: return std::vector<int64_t>(static_cast<size_t>(n), target.index);
    case Target<T>::Kind::per_example:
      if (static_cast<int64_t>(target.indices.size()) != n)
        throw std::invalid_argument(fmt::format("{} targets for {} examples", target.indices.size(), n));
      return target.indices;
    case Target<T>::Kind::predicted: break;
  }
  ad::ThreadTape<T> thread_tape;
  ad::Tape<T>& tape = *thread_tape;
  ad::Var<T> out = f(tape, tape.leaf(inputs));
  if (out.rank() == 1) return std::vector<int64_t>(static_cast<size_t>(n), 0);  // one output per example: F is that output
  return ad::row_argmax(out.tensor());
}

template <ad::Scalar T>
ad::Var<T> select_target(ad::Var<T> outputs, const Target<T>& target, std::span<const int64_t> row_targets) {
  if (target.kind == Target<T>::Kind::function) {
    ad::Var<T> v = target.function(outputs);
    if (v.rank() != 1 || v.shape()[0] != outputs.shape()[0]) throw std::invalid_argument("a target function must return one value per example");
    return v;
  }
  if (outputs.rank() == 1) {  // outputs [N] (a regression, one logit): F is the output, class 0 its only one
    for (int64_t k : row_targets)
      if (k != 0) throw std::invalid_argument(fmt::format("target class {}: the model has one output per example (shape [N]); leave --target out", k));
    return outputs;
  }
  if (outputs.rank() != 2) throw std::invalid_argument("class targets need outputs [N, C]; got " + outputs.shape().str());
  const int64_t rows = outputs.shape()[0], c = outputs.shape()[1];
  // A constant one-hot mask picks each row's class: sum(outputs ⊙ mask, dim 1).
  ad::Tensor<T> mask(outputs.shape());
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t k = row_targets[static_cast<size_t>(r)];
    if (k < 0 || k >= c) throw std::invalid_argument(fmt::format("target class {} outside the model's {} outputs", k, c));
    mask[r * c + k] = T(1);
  }
  return ad::sum(outputs * outputs.tape().leaf(mask), 1);
}

template <ad::Scalar T>
std::vector<double> target_values(const Forward<T>& f, const ad::Tensor<T>& x, const Target<T>& target, std::span<const int64_t> targets) {
  ad::ThreadTape<T> thread_tape;
  ad::Tape<T>& tape = *thread_tape;
  ad::Var<T> v = select_target(f(tape, tape.leaf(x)), target, targets);
  return std::vector<double>(v.value().begin(), v.value().end());
}

template std::vector<int64_t> resolve_targets<float>(const Forward<float>&, const ad::Tensor<float>&, const Target<float>&);
template std::vector<int64_t> resolve_targets<double>(const Forward<double>&, const ad::Tensor<double>&, const Target<double>&);
template ad::Var<float> select_target<float>(ad::Var<float>, const Target<float>&, std::span<const int64_t>);
template ad::Var<double> select_target<double>(ad::Var<double>, const Target<double>&, std::span<const int64_t>);
template std::vector<double> target_values<float>(const Forward<float>&, const ad::Tensor<float>&, const Target<float>&, std::span<const int64_t>);
template std::vector<double> target_values<double>(const Forward<double>&, const ad::Tensor<double>&, const Target<double>&, std::span<const int64_t>);

}  // namespace integrad::attr
