#include "attribution/methods/gradients.h"

#include <cmath>
#include <memory>

#include "attribution/method.h"

namespace integrad::attr {

template <ad::Scalar T>
GradientsAndValues<T> gradients_and_values(const Forward<T>& f, const ad::Tensor<T>& x, const Target<T>& target, std::span<const int64_t> row_targets) {
  // IG and SmoothGrad call this once per batch of points: one tape per thread, rewound and reused,
  // keeps its arena warm instead of mapping (and faulting in) fresh memory for every batch. A call
  // made from inside `f` (a nested attribution) gets a tape of its own, one per nesting depth.
  static thread_local std::vector<std::unique_ptr<ad::Tape<T>>> tapes;
  static thread_local size_t depth = 0;
  if (tapes.size() <= depth) tapes.push_back(std::make_unique<ad::Tape<T>>());
  ad::Tape<T>& tape = *tapes[depth];
  struct Nesting {
    size_t& depth;
    explicit Nesting(size_t& d) : depth(++d) {}
    ~Nesting() { --depth; }
  } nesting(depth);
  tape.rewind();
  ad::Var<T> input = tape.leaf(x, true);
  ad::Var<T> selected = select_target(f(tape, input), target, row_targets);
  // Examples never mix, so the gradient of the sum is each example's own gradient.
  tape.backward(ad::sum(selected));
  return {input.grad_tensor(), std::vector<T>(selected.value().begin(), selected.value().end())};
}

template <ad::Scalar T>
ad::Tensor<T> gradient(const Forward<T>& f, const ad::Tensor<T>& x, const Target<T>& target) {
  const std::vector<int64_t> targets = resolve_targets(f, x, target);
  return gradients_and_values(f, x, target, targets).gradients;
}

template <ad::Scalar T>
ad::Tensor<T> saliency(const Forward<T>& f, const ad::Tensor<T>& x, const Target<T>& target) {
  ad::Tensor<T> g = gradient(f, x, target);
  for (T& v : g.span()) v = std::abs(v);
  return g;
}

template <ad::Scalar T>
ad::Tensor<T> gradient_x_input(const Forward<T>& f, const ad::Tensor<T>& x, const Target<T>& target) {
  ad::Tensor<T> g = gradient(f, x, target);
  for (int64_t i = 0; i < g.numel(); ++i) g[i] *= x[i];
  return g;
}

template <ad::Scalar T>
ad::Tensor<T> max_over_channels(const ad::Tensor<T>& a) {
  if (a.rank() != 4) throw std::invalid_argument("max over channels needs [N, C, H, W], got " + a.shape().str());
  const int64_t n = a.size(0), c = a.size(1), hw = a.size(2) * a.size(3);
  ad::Tensor<T> out(ad::Shape{n, 1, a.size(2), a.size(3)});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t p = 0; p < hw; ++p) {
      T m = a[i * c * hw + p];
      for (int64_t k = 1; k < c; ++k) m = std::max(m, a[(i * c + k) * hw + p]);
      out[i * hw + p] = m;
    }
  return out;
}


// The registry's entries (attribution/method.h): no baseline, no delta, any differentiable model.
template <ad::Scalar T>
Method<T> gradient_method() {
  Method<T> m{.name = "gradient", .display_name = "gradient", .summary = "raw gradient ∂F/∂x (Captum's Saliency(abs=False))"};
  m.run = [](const MethodCall<T>& c) { return Attribution<T>{.values = gradient(forward_of(c.model), c.inputs, c.target)}; };
  return m;
}

template <ad::Scalar T>
Method<T> saliency_method() {
  Method<T> m{.name = "saliency", .display_name = "saliency", .summary = "|∂F/∂x| (Captum's Saliency(abs=True))", .is_signed = false};
  m.run = [](const MethodCall<T>& c) { return Attribution<T>{.values = saliency(forward_of(c.model), c.inputs, c.target)}; };
  return m;
}

template <ad::Scalar T>
Method<T> gradxinput_method() {
  Method<T> m{.name = "gradxinput", .display_name = "gradient × input", .summary = "x ⊙ ∂F/∂x (Captum's InputXGradient)"};
  m.run = [](const MethodCall<T>& c) { return Attribution<T>{.values = gradient_x_input(forward_of(c.model), c.inputs, c.target)}; };
  return m;
}

#define INTEGRAD_INSTANTIATE(T)                                                                                          \
  template GradientsAndValues<T> gradients_and_values(const Forward<T>&, const ad::Tensor<T>&, const Target<T>&,        \
                                                      std::span<const int64_t>);                                        \
  template ad::Tensor<T> gradient(const Forward<T>&, const ad::Tensor<T>&, const Target<T>&);                          \
  template ad::Tensor<T> saliency(const Forward<T>&, const ad::Tensor<T>&, const Target<T>&);                          \
  template ad::Tensor<T> gradient_x_input(const Forward<T>&, const ad::Tensor<T>&, const Target<T>&);                  \
  template ad::Tensor<T> max_over_channels(const ad::Tensor<T>&);                                                      \
  template Method<T> gradient_method<T>();                                                                             \
  template Method<T> saliency_method<T>();                                                                             \
  template Method<T> gradxinput_method<T>();
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)
#undef INTEGRAD_INSTANTIATE

}  // namespace integrad::attr
