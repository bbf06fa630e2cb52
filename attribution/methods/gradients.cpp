#include "attribution/methods/gradients.h"

#include <algorithm>
#include <cmath>

#include "nn/for_each_example.h"
#include "attribution/method.h"
#include "nn/parts.h"
#include "autodiff/thread_tape.h"

namespace integrad::attr {

namespace {

// Rows [begin, end) of x on one tape (one per thread), gradients and values written at those rows.
template <ad::Scalar T>
void gradients_on_one_tape(const Forward<T>& f, const ad::Tensor<T>& x, int64_t begin, int64_t end, const Target<T>& target,
                           std::span<const int64_t> row_targets, GradientsAndValues<T>& out) {
  // IG and SmoothGrad call this once per batch of points: a reused tape keeps its arena warm.
  ad::ThreadTape<T> thread_tape;
  ad::Tape<T>& tape = *thread_tape;
  const int64_t row = x.shape().stride(0);
  ad::Var<T> input = tape.leaf(x.shape().with(0, end - begin), x.data() + begin * row, true);
  const auto targets = row_targets.empty() ? row_targets : row_targets.subspan(size_t(begin), size_t(end - begin));
  ad::Var<T> selected = select_target(f(tape, input), target, targets);
  // Examples never mix, so the gradient of the sum is each example's own gradient.
  tape.backward(ad::sum(selected));
  const ad::Tensor<T> g = input.grad_tensor();
  std::copy(g.data(), g.data() + g.numel(), out.gradients.data() + begin * row);
  std::copy(selected.value().begin(), selected.value().end(), out.values.begin() + begin);
}

// Rows per tape: a batch is cut into parts of at most this many rows, whatever the thread count,
// and fewer when the forward says how many values an example records (Forward::values_per_example):
// about kPartValues of them a part, so that the tape's values and gradients stay in cache between
// the forward and the backward. IG on the ResNet (180,000 values an example by its nodes' shapes,
// fewer once fused) in parts of 50 rows streamed every activation through memory at each
// element-wise op; in parts of 2 to 5 rows it took a sixth less CPU time (5 here). An MLP's few
// values an example keep 64 rows for its GEMMs.
constexpr int64_t kRowsPerPart = 64, kPartValues = int64_t(1) << 20;

template <ad::Scalar T>
int64_t rows_of(const Forward<T>& f) {
  return nn::rows_per_part(f.values_per_example, kPartValues, kRowsPerPart);
}

}  // namespace

template <ad::Scalar T>
GradientsAndValues<T> gradients_and_values(const Forward<T>& f, const ad::Tensor<T>& x, const Target<T>& target, std::span<const int64_t> row_targets) {
  const int64_t rows = x.size(0);
  GradientsAndValues<T> out{ad::Tensor<T>(x.shape()), std::vector<T>(static_cast<size_t>(rows))};
  // The rows in fixed parts, each on a tape of its own, the parts shared among threads: every
  // layer then runs serially within its part (nested regions are inactive), with no barrier per
  // layer, where a batch split at each layer waited at every one. The parts depend on the rows
  // alone, never on the thread count, and they are small enough that each layer's GEMM takes the
  // same path for every part (one block of rows), so an example gets the same bits whichever
  // batch and part it is in.
  const int64_t per_part = rows_of(f), parts = std::max<int64_t>(1, (rows + per_part - 1) / per_part);
  nn::for_each_example(parts, [&](int64_t p) { gradients_on_one_tape(f, x, p * per_part, std::min(rows, (p + 1) * per_part), target, row_targets, out); });
  return out;
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


namespace {

// The registry's three gradient methods in one pass: map(∂F/∂x, x) per scalar, and F(x) from the
// same forward (explain wants F(x) for its summary; computing it apart cost another forward).
template <ad::Scalar T, class Map>
Attribution<T> from_one_pass(const MethodCall<T>& c, Map map) {
  const Forward<T> f = forward_of(c.model);
  std::vector<int64_t> targets = resolve_targets(f, c.inputs, c.target);
  GradientsAndValues<T> g = gradients_and_values(f, c.inputs, c.target, targets);
  for (int64_t i = 0; i < g.gradients.numel(); ++i) g.gradients[i] = map(g.gradients[i], c.inputs[i]);
  return {.values = std::move(g.gradients), .targets = std::move(targets), .f_input = std::vector<double>(g.values.begin(), g.values.end())};
}

}  // namespace

// The registry's entries (attribution/method.h): no baseline, no delta, any differentiable model.
template <ad::Scalar T>
Method<T> gradient_method() {
  Method<T> m{.name = "gradient", .display_name = "gradient", .summary = "raw gradient ∂F/∂x (Captum's Saliency(abs=False))"};
  m.run = [](const MethodCall<T>& c) { return from_one_pass(c, [](T g, T) { return g; }); };
  return m;
}

template <ad::Scalar T>
Method<T> saliency_method() {
  Method<T> m{.name = "saliency", .display_name = "saliency", .summary = "|∂F/∂x| (Captum's Saliency(abs=True))", .is_signed = false};
  m.run = [](const MethodCall<T>& c) { return from_one_pass(c, [](T g, T) { return std::abs(g); }); };
  return m;
}

template <ad::Scalar T>
Method<T> gradxinput_method() {
  // Euler's theorem: a bias-free ReLU network is positively homogeneous of degree 1, so x·∇F(x) = F(x).
  Method<T> m{.name = "gradxinput", .display_name = "gradient × input", .summary = "x ⊙ ∂F/∂x (Captum's InputXGradient)", .conserves_without_bias = true};
  m.run = [](const MethodCall<T>& c) { return from_one_pass(c, [](T g, T x) { return g * x; }); };
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
