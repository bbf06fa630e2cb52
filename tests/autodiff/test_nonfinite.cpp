// NaN and ±Inf through every op, forward and backward, against the rule PyTorch applies (stated at
// each case; PyTorch is not installed here, so the expected values are written from its kernels:
// ATen's CPU kernels and the formulas of tools/autograd/derivatives.yaml). A NaN expected means
// NaN; an infinity expected means exactly that infinity; a finite value is compared to 1e-12
// relative. Where an element's neighbours are not finite but it is, its gradient is also checked
// against central differences, as gradcheck does.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <vector>

#include "autodiff/add_relu.h"
#include "autodiff/conv_naive.h"
#include "autodiff/ops.h"

using namespace integrad::ad;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

template <Scalar T>
using Fn = std::function<Var<T>(const std::vector<Var<T>>&)>;

template <Scalar T>
struct Run {
  std::vector<T> value;
  std::vector<std::vector<T>> grads;  // one per input
};

// Records fn on the inputs, seeds the backward with `seed` (ones when empty) and returns the
// output's values and every input's gradient.
template <Scalar T>
Run<T> run(const Fn<T>& fn, const std::vector<Tensor<T>>& inputs, std::vector<T> seed = {}) {
  Tape<T> tape;
  std::vector<Var<T>> vars;
  for (const Tensor<T>& x : inputs) vars.push_back(tape.leaf(x, true));
  Var<T> out = fn(vars);
  if (seed.empty()) seed.assign(size_t(out.numel()), T(1));
  REQUIRE(seed.size() == size_t(out.numel()));
  tape.backward(out, std::span<const T>(seed));
  Run<T> r{{out.value().begin(), out.value().end()}, {}};
  for (Var<T>& v : vars) r.grads.emplace_back(v.grad().begin(), v.grad().end());
  return r;
}

bool same(double actual, double expected, double rtol) {
  if (std::isnan(expected)) return std::isnan(actual);
  if (std::isinf(expected)) return actual == expected;
  return std::abs(actual - expected) <= rtol * std::abs(expected) + 1e-300;
}

template <Scalar T>
void check_values(const std::vector<T>& actual, const std::vector<double>& expected, double rtol = 1e-12) {
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    CAPTURE(i);
    CAPTURE(actual[i]);
    CAPTURE(expected[i]);
    CHECK(same(double(actual[i]), expected[i], rtol));
  }
}

// For an element-wise op: every finite input element whose output is finite gets the gradient
// that central differences give (eps 1e-6, |a − n| <= 1e-5 + 1e-3·|n|, PyTorch's gradcheck),
// whatever its non-finite neighbours are.
void check_finite_entries(const Fn<double>& fn, const Tensor<double>& x) {
  const Run<double> base = run(fn, {x});
  int checked = 0;
  for (int64_t j = 0; j < x.numel(); ++j) {
    if (!std::isfinite(x[j]) || !std::isfinite(base.value[size_t(j)])) continue;
    Tensor<double> plus = x, minus = x;
    plus[j] += 1e-6;
    minus[j] -= 1e-6;
    const double numeric = (run(fn, {plus}).value[size_t(j)] - run(fn, {minus}).value[size_t(j)]) / 2e-6;
    CAPTURE(j);
    CHECK(std::abs(base.grads[0][size_t(j)] - numeric) <= 1e-5 + 1e-3 * std::abs(numeric));
    ++checked;
  }
  CHECK(checked > 0);
}

// The inputs every element-wise op sees: NaN, ±Inf, then finite values.
const Tensor<double> specials(Shape{6}, std::vector<double>{kNaN, kInf, -kInf, 2.0, -3.0, 0.5});

}  // namespace

TEST_CASE("non-finite: relu keeps NaN forward; backward is PyTorch's select y <= 0 ? 0 : g") {
  const Fn<double> f = [](auto& v) { return relu(v[0]); };
  // torch.relu = clamp_min(x, 0): relu(NaN) = NaN, relu(Inf) = Inf, relu(−Inf) = 0.
  // threshold_backward(g, y, 0): where y = NaN, NaN <= 0 is false, so g passes.
  const Run<double> r = run(f, {specials});
  check_values(r.value, {kNaN, kInf, 0, 2, 0, 0.5});
  check_values(r.grads[0], {1, 1, 0, 1, 0, 1});
  // A NaN or Inf gradient is stopped where y <= 0 and passed where y > 0 or y is NaN.
  const Run<double> s = run(f, {specials}, {kNaN, kInf, kNaN, kNaN, kInf, -kInf});
  check_values(s.grads[0], {kNaN, kInf, 0, kNaN, 0, -kInf});
  check_finite_entries(f, specials);
  // float gives the same rule.
  const Tensor<float> xf(Shape{3}, std::vector<float>{std::nanf(""), -1.0f, 1.0f});
  const Run<float> rf = run<float>([](auto& v) { return relu(v[0]); }, {xf}, {1.0f, std::nanf(""), 2.0f});
  check_values(rf.value, {kNaN, 0, 1});
  check_values(rf.grads[0], {1, 0, 2});
}

TEST_CASE_TEMPLATE("non-finite: add_relu has the bits of relu(add(a, b)), NaN, ±Inf and ±0 included", T, float, double) {
  const T nan = std::numeric_limits<T>::quiet_NaN(), inf = std::numeric_limits<T>::infinity();
  const Tensor<T> a(Shape{9}, std::vector<T>{nan, inf, -inf, T(1), T(-0.0), T(0), T(2), T(-1), inf});
  const Tensor<T> b(Shape{9}, std::vector<T>{T(1), T(1), T(5), nan, T(-0.0), T(-0.0), T(-3), T(3), -inf});
  const std::vector<T> dy{T(1), nan, T(2), T(3), inf, T(-0.0), T(-0.0), T(-0.0), T(4)};
  const Run<T> fused = run<T>([](auto& v) { return add_relu(v[0], v[1]); }, {a, b}, dy);
  const Run<T> separate = run<T>([](auto& v) { return relu(add(v[0], v[1])); }, {a, b}, dy);
  // Then the same with b's gradient already partly there (a later use of b runs backward first).
  const Run<T> fused_again = run<T>([](auto& v) { Var<T> later = v[1] * v[1]; return add_relu(v[0], v[1]) + later; }, {a, b}, dy);
  const Run<T> separate_again = run<T>([](auto& v) { Var<T> later = v[1] * v[1]; return relu(add(v[0], v[1])) + later; }, {a, b}, dy);
  auto same_bits = [](const std::vector<T>& x, const std::vector<T>& y) {
    return x.size() == y.size() && std::memcmp(x.data(), y.data(), sizeof(T) * x.size()) == 0;
  };
  CHECK(same_bits(fused.value, separate.value));
  CHECK(same_bits(fused.grads[0], separate.grads[0]));
  CHECK(same_bits(fused.grads[1], separate.grads[1]));
  CHECK(same_bits(fused_again.grads[0], separate_again.grads[0]));
  CHECK(same_bits(fused_again.grads[1], separate_again.grads[1]));
  CHECK(std::isnan(fused.value[0]));
  CHECK(fused.value[1] == inf);
  CHECK(!std::signbit(fused.grads[0][7]));  // dY = −0 where y = 2 > 0: +0, as add's zeroed slot plus −0
}

TEST_CASE("non-finite: exp, log, sqrt, pow with the backward formulas of derivatives.yaml") {
  // exp: grad · result.
  Run<double> r = run<double>([](auto& v) { return exp(v[0]); }, {specials}, {1, 1, kInf, 1, 1, 1});
  check_values(r.value, {kNaN, kInf, 0, std::exp(2.0), std::exp(-3.0), std::exp(0.5)});
  check_values(r.grads[0], {kNaN, kInf, kNaN, std::exp(2.0), std::exp(-3.0), std::exp(0.5)});  // Inf · 0 = NaN
  check_finite_entries([](auto& v) { return exp(v[0]); }, specials);

  // log: grad / self. log(−x) = NaN; 1 / ±Inf = ±0. A gradient 1e-5 at x = 1e-310 is
  // 1e-5 / 1e-310 = 1e305, finite, where 1e-5 · (1 / 1e-310) would be 1e-5 · Inf.
  const Tensor<double> xl(Shape{6}, std::vector<double>{kNaN, kInf, -kInf, 2.0, 0.0, 1e-310});
  r = run<double>([](auto& v) { return log(v[0]); }, {xl}, {1, 1, 1, 1, 1, 1e-5});
  check_values(r.value, {kNaN, kInf, kNaN, std::log(2.0), -kInf, std::log(1e-310)});
  check_values(r.grads[0], {kNaN, 0, -0.0, 0.5, kInf, 1e305});
  CHECK(std::signbit(r.grads[0][2]));

  // sqrt: grad / (2 · result): 1 / (2 · 0) = Inf, and 0 / 0 = NaN for a zero gradient there.
  const Tensor<double> xs(Shape{6}, std::vector<double>{kNaN, kInf, -kInf, 2.0, 0.0, 0.0});
  r = run<double>([](auto& v) { return sqrt(v[0]); }, {xs}, {1, 1, 1, 1, 1, 0});
  check_values(r.value, {kNaN, kInf, kNaN, std::sqrt(2.0), 0, 0});
  check_values(r.grads[0], {kNaN, 0, kNaN, 0.5 / std::sqrt(2.0), kInf, kNaN});

  // pow(x, 2): grad · 2 · x.
  r = run<double>([](auto& v) { return pow(v[0], 2.0); }, {specials});
  check_values(r.value, {kNaN, kInf, kInf, 4, 9, 0.25});
  check_values(r.grads[0], {kNaN, kInf, -kInf, 4, -6, 1});
  check_finite_entries([](auto& v) { return pow(v[0], 2.0); }, specials);
  // pow(x, 0) = 1 even at NaN, and pow_backward returns zeros for the exponent 0, whatever g is.
  r = run<double>([](auto& v) { return pow(v[0], 0.0); }, {specials}, {kNaN, kInf, 1, 1, 1, 1});
  check_values(r.value, {1, 1, 1, 1, 1, 1});
  check_values(r.grads[0], {0, 0, 0, 0, 0, 0});
  // pow(x, 0.5) of a negative number is NaN, and so is its gradient.
  r = run<double>([](auto& v) { return pow(v[0], 0.5); }, {specials});
  check_values(r.value, {kNaN, kInf, kInf, std::sqrt(2.0), kNaN, std::sqrt(0.5)});
  check_values(r.grads[0], {kNaN, 0, 0, 0.5 / std::sqrt(2.0), kNaN, 0.5 / std::sqrt(0.5)});
}

TEST_CASE("non-finite: sigmoid, tanh, softplus saturate at ±Inf and keep NaN") {
  auto sig = [](double x) { return 1 / (1 + std::exp(-x)); };
  // sigmoid_backward: g · (1 − y) · y: 0 at both infinities.
  Run<double> r = run<double>([](auto& v) { return sigmoid(v[0]); }, {specials});
  check_values(r.value, {kNaN, 1, 0, sig(2), sig(-3), sig(0.5)});
  check_values(r.grads[0], {kNaN, 0, 0, sig(2) * (1 - sig(2)), sig(-3) * (1 - sig(-3)), sig(0.5) * (1 - sig(0.5))});
  check_finite_entries([](auto& v) { return sigmoid(v[0]); }, specials);
  // An infinite gradient meets (1 − y)·y = 0 at ±Inf: NaN, as in PyTorch.
  r = run<double>([](auto& v) { return sigmoid(v[0]); }, {specials}, {1, kInf, -kInf, 1, 1, 1});
  check_values(r.grads[0], {kNaN, kNaN, kNaN, sig(2) * (1 - sig(2)), sig(-3) * (1 - sig(-3)), sig(0.5) * (1 - sig(0.5))});

  // tanh_backward: g · (1 − y²).
  r = run<double>([](auto& v) { return tanh(v[0]); }, {specials});
  check_values(r.value, {kNaN, 1, -1, std::tanh(2.0), std::tanh(-3.0), std::tanh(0.5)});
  check_values(r.grads[0], {kNaN, 0, 0, 1 - std::pow(std::tanh(2.0), 2), 1 - std::pow(std::tanh(-3.0), 2), 1 - std::pow(std::tanh(0.5), 2)});
  check_finite_entries([](auto& v) { return tanh(v[0]); }, specials);

  // softplus (beta 1, threshold 20): Inf → Inf with gradient g, −Inf → 0 with gradient g · 0.
  r = run<double>([](auto& v) { return softplus(v[0]); }, {specials});
  check_values(r.value, {kNaN, kInf, 0, std::log1p(std::exp(2.0)), std::log1p(std::exp(-3.0)), std::log1p(std::exp(0.5))}, 1e-15);
  check_values(r.grads[0], {kNaN, 1, 0, sig(2), sig(-3), sig(0.5)}, 1e-15);
  check_finite_entries([](auto& v) { return softplus(v[0]); }, specials);
}

TEST_CASE("non-finite: scalar ops and the broadcasting binary ops") {
  // x · 0 is NaN at ±Inf (and NaN); its gradient g · 0 is 0 for finite g, NaN for an infinite one.
  Run<double> r = run<double>([](auto& v) { return v[0] * 0.0; }, {specials}, {1, 1, 1, kInf, 1, 1});
  check_values(r.value, {kNaN, kNaN, kNaN, 0, -0.0, 0});
  check_values(r.grads[0], {0, 0, 0, kNaN, 0, 0});
  r = run<double>([](auto& v) { return 1.0 - v[0]; }, {specials}, {kNaN, 1, 1, 1, 1, 1});
  check_values(r.value, {kNaN, -kInf, kInf, -1, 4, 0.5});
  check_values(r.grads[0], {kNaN, -1, -1, -1, -1, -1});

  // add: Inf + (−Inf) = NaN; both gradients are g, also where the sum is NaN. b broadcasts over
  // rows, so its gradient sums g over them.
  const Tensor<double> a(Shape{2, 2}, std::vector<double>{kInf, 1, kNaN, 2}), b(Shape{2}, std::vector<double>{-kInf, 3});
  r = run<double>([](auto& v) { return v[0] + v[1]; }, {a, b});
  check_values(r.value, {kNaN, 4, kNaN, 5});
  check_values(r.grads[0], {1, 1, 1, 1});
  check_values(r.grads[1], {2, 2});
  // mul: grad · other and grad · self; summed over the broadcast rows: −Inf + NaN = NaN.
  r = run<double>([](auto& v) { return v[0] * v[1]; }, {a, b});
  check_values(r.value, {-kInf, 3, kNaN, 6});
  check_values(r.grads[0], {-kInf, 3, -kInf, 3});
  check_values(r.grads[1], {kNaN, 3});

  // div: grad / other and −grad · ((self / other) / other). At x = 1e300, y = 1e200 the latter
  // is −1e-100; formed as −x / y², y² would overflow and give −0.
  const Tensor<double> x(Shape{4}, std::vector<double>{1e300, 1, 1, kInf}), y(Shape{4}, std::vector<double>{1e200, 0, kInf, kInf});
  r = run<double>([](auto& v) { return v[0] / v[1]; }, {x, y});
  check_values(r.value, {1e100, kInf, 0, kNaN});
  check_values(r.grads[0], {1e-200, kInf, 0, 0});
  check_values(r.grads[1], {-1e-100, -kInf, -0.0, kNaN});
}

TEST_CASE("non-finite: sum and mean propagate NaN and Inf; their gradients stay g") {
  const Tensor<double> x(Shape{3, 2}, std::vector<double>{1, kNaN, kInf, 2, kInf, -kInf});
  Run<double> r = run<double>([](auto& v) { return sum(v[0], 1); }, {x});
  check_values(r.value, {kNaN, kInf, kNaN});
  check_values(r.grads[0], {1, 1, 1, 1, 1, 1});
  r = run<double>([](auto& v) { return mean(v[0], 0); }, {x}, {2, kNaN});
  check_values(r.value, {kInf, kNaN});
  check_values(r.grads[0], {2.0 / 3, kNaN, 2.0 / 3, kNaN, 2.0 / 3, kNaN});
  r = run<double>([](auto& v) { return sum(v[0]); }, {x});
  check_values(r.value, {kNaN});
}

TEST_CASE("non-finite: max along a dimension picks the first NaN, and its gradient goes there") {
  // torch.max(x, dim) (max_kernel_impl): `if (!(value <= max)) { max = value; index = i; if
  // (isnan(value)) break; }`: the first of tied maxima, the first NaN when there is one.
  const Tensor<double> x(Shape{4, 4}, std::vector<double>{1, kNaN, 3, kNaN,  //
                                                          2, 5, 5, -kInf,   //
                                                          -kInf, -kInf, -kInf, -kInf,  //
                                                          kInf, 1, kInf, kNaN});
  const Run<double> r = run<double>([](auto& v) { return max(v[0], 1); }, {x}, {1, 2, 3, 4});
  check_values(r.value, {kNaN, 5, -kInf, kNaN});
  check_values(r.grads[0], {0, 1, 0, 0, 0, 2, 0, 0, 3, 0, 0, 0, 0, 0, 0, 4});
}

TEST_CASE("non-finite: max of all elements is NaN if any is; the gradient is shared by the NaNs") {
  // max(Tensor) backward is evenly_distribute_backward: grad / count to each element equal to the
  // result, to each NaN when the result is NaN.
  Run<double> r = run<double>([](auto& v) { return max(v[0]); }, {Tensor<double>(Shape{5}, std::vector<double>{1, kNaN, kInf, kNaN, 2})}, {3});
  check_values(r.value, {kNaN});
  check_values(r.grads[0], {0, 1.5, 0, 1.5, 0});
  r = run<double>([](auto& v) { return max(v[0]); }, {Tensor<double>(Shape{4}, std::vector<double>{kInf, 1, kInf, -kInf})}, {1});
  check_values(r.value, {kInf});
  check_values(r.grads[0], {0.5, 0, 0.5, 0});
  r = run<double>([](auto& v) { return max(v[0]); }, {Tensor<double>(Shape{3}, std::vector<double>{2, 5, 4})}, {1});
  check_values(r.grads[0], {0, 1, 0});
}

TEST_CASE("non-finite: softmax and log_softmax rows with NaN or +Inf are NaN; −Inf is a zero weight") {
  // PyTorch's softmax subtracts the row max (NaN if any element is): a NaN row is all NaN; +Inf
  // gives Inf − Inf = NaN; an all −Inf row gives −Inf − (−Inf) = NaN; −Inf among finite values
  // gets weight 0. Backward: y · (g − Σ g·y) and g − exp(y) · Σ g.
  const Tensor<double> x(Shape{4, 3}, std::vector<double>{1, kNaN, 2,  //
                                                          kInf, 1, 2,   //
                                                          -kInf, 0, 0,  //
                                                          -kInf, -kInf, -kInf});
  const std::vector<double> g = {1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3};
  Run<double> r = run<double>([](auto& v) { return softmax(v[0], 1); }, {x}, g);
  check_values(r.value, {kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, 0, 0.5, 0.5, kNaN, kNaN, kNaN});
  check_values(r.grads[0], {kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, 0, -0.25, 0.25, kNaN, kNaN, kNaN});
  r = run<double>([](auto& v) { return log_softmax(v[0], 1); }, {x}, g);
  check_values(r.value, {kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, -kInf, -std::log(2.0), -std::log(2.0), kNaN, kNaN, kNaN});
  check_values(r.grads[0], {kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, 1, -1, 0, kNaN, kNaN, kNaN});
  // Along dim 0 (the strided path): column 1 holds the NaN and the +Inf.
  r = run<double>([](auto& v) { return softmax(v[0], 0); }, {x});
  CHECK(std::isnan(r.value[1]));
  CHECK(std::isnan(r.value[4]));
}

TEST_CASE("non-finite: cross_entropy and mse") {
  // cross_entropy = nll_loss(log_softmax(x)): a row with NaN or +Inf makes the loss NaN and that
  // row's gradient NaN; other rows keep (softmax − one-hot) / N. A target at −Inf costs +Inf.
  const Tensor<double> logits(Shape{3, 3}, std::vector<double>{1, kNaN, 2, 0, 0, -kInf, kInf, 0, 0});
  const std::vector<int64_t> targets = {0, 1, 1};
  Run<double> r = run<double>([&](auto& v) { return cross_entropy(v[0], targets); }, {logits});
  check_values(r.value, {kNaN});
  check_values(r.grads[0], {kNaN, kNaN, kNaN, 0.5 / 3, -0.5 / 3, 0, kNaN, kNaN, kNaN});
  const std::vector<int64_t> at_minus_inf = {2};
  r = run<double>([&](auto& v) { return cross_entropy(v[0], at_minus_inf); }, {Tensor<double>(Shape{1, 3}, std::vector<double>{0, 0, -kInf})});
  check_values(r.value, {kInf});
  check_values(r.grads[0], {0.5, 0.5, -1});
  // mse: (Inf − Inf)² = NaN; the gradient 2·(a − b)/N is NaN there, ±Inf where a is infinite.
  const Tensor<double> a(Shape{2}, std::vector<double>{kInf, kInf}), b(Shape{2}, std::vector<double>{kInf, 0});
  r = run<double>([](auto& v) { return mse(v[0], v[1]); }, {a, b});
  check_values(r.value, {kNaN});
  check_values(r.grads[0], {kNaN, kInf});
  check_values(r.grads[1], {kNaN, -kInf});
}

TEST_CASE_TEMPLATE("non-finite: max_pool2d lets NaN win, the last NaN of a window, and routes the gradient there", T, float, double) {
  // PyTorch's cpu_max_pool: `if ((val > maxval) || std::isnan(val))` over the window in row-major
  // order, from maxval = −Inf and index = the window's first element.
  const T n = std::numeric_limits<T>::quiet_NaN(), i = std::numeric_limits<T>::infinity();
  const Tensor<T> x(Shape{1, 1, 4, 4}, std::vector<T>{n, 5, 1, i,  //
                                                      1, 9, n, n,  //
                                                      -i, -i, 3, 3,  //
                                                      -i, -i, 3, 1});
  const Run<T> r = run<T>([](auto& v) { return max_pool2d(v[0], 2, 2); }, {x}, {1, 2, 3, 4});
  check_values(r.value, {kNaN, kNaN, -kInf, 3});
  check_values(r.grads[0], {1, 0, 0, 0,  //
                            0, 0, 0, 2,  // the window's last NaN
                            3, 0, 4, 0,  // all −Inf: its first element; tied 3s: the first
                            0, 0, 0, 0});
  // The general (not unrolled) kernel size: 3×3 windows, stride 1.
  const Run<T> k3 = run<T>([](auto& v) { return max_pool2d(v[0], 3, 1); }, {x});
  check_values(k3.value, {kNaN, kNaN, kNaN, kNaN});
  // The two windows on the left end on the NaN at (1, 2), the two on the right on that at (1, 3).
  check_values(k3.grads[0], {0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("non-finite: avg_pool2d sums NaN and ±Inf in; its gradient is g / k² to every element") {
  const Tensor<double> x(Shape{1, 1, 2, 4}, std::vector<double>{kNaN, 1, kInf, -kInf, 1, 1, 1, 1});
  const Run<double> r = run<double>([](auto& v) { return avg_pool2d(v[0], 2, 2); }, {x}, {4, kInf});
  check_values(r.value, {kNaN, kNaN});
  check_values(r.grads[0], {1, 1, kInf, kInf, 1, 1, kInf, kInf});
}

TEST_CASE("non-finite: matmul propagates as its products do: Inf · 0 = NaN") {
  const Tensor<double> a(Shape{2, 2}, std::vector<double>{kInf, 0, 1, 2}), b(Shape{2, 2}, std::vector<double>{0, 1, 1, kNaN});
  const Run<double> r = run<double>([](auto& v) { return matmul(v[0], v[1]); }, {a, b});
  check_values(r.value, {kNaN, kNaN, 2, kNaN});
  check_values(r.grads[0], {1, kNaN, 1, kNaN});  // g · bᵀ
  check_values(r.grads[1], {kInf, kInf, 2, 2});  // aᵀ · g
}

TEST_CASE("non-finite: shape and index ops carry NaN and Inf to where the values go") {
  const Tensor<double> x(Shape{2, 3}, std::vector<double>{kNaN, 1, kInf, 2, -kInf, 3});
  Run<double> r = run<double>([](auto& v) { return transpose(v[0], 0, 1); }, {x}, {1, 2, 3, 4, kNaN, 6});
  check_values(r.value, {kNaN, 2, 1, -kInf, kInf, 3});
  check_values(r.grads[0], {1, 3, kNaN, 2, 4, 6});
  const std::vector<int64_t> ids = {1, 1, 0};
  r = run<double>([&](auto& v) { return embedding(v[0], ids, Shape{3}); }, {x}, {1, 1, 1, 1, 1, kInf, kInf, kNaN, 1});
  check_values(r.value, {2, -kInf, 3, 2, -kInf, 3, kNaN, 1, kInf});
  check_values(r.grads[0], {kInf, kNaN, 1, 2, 2, kInf});
}

namespace {

// Reference convolution gradients by direct loops, with padding a zero that is multiplied (as
// PyTorch's im2col convolution): dW[o,c,i,j] = Σ dY[n,o,oy,ox] · xpad[n,c,oy·s+i,ox·s+j] over the
// valid outputs only, and dx[n,c,y,x] = Σ W[o,c,i,j] · dY[n,o,oy,ox] over those that read (y, x).
struct ConvGrads {
  std::vector<double> dx, dw;
};
ConvGrads conv_grads_naive(const Tensor<double>& x, const Tensor<double>& w, const std::vector<double>& dy, int stride, int padding) {
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), wd = x.size(3), o = w.size(0), kh = w.size(2), kw = w.size(3);
  const int64_t ho = (h + 2 * padding - kh) / stride + 1, wo = (wd + 2 * padding - kw) / stride + 1;
  ConvGrads g{std::vector<double>(size_t(x.numel()), 0.0), std::vector<double>(size_t(w.numel()), 0.0)};
  for (int64_t b = 0; b < n; ++b)
    for (int64_t oc = 0; oc < o; ++oc)
      for (int64_t oy = 0; oy < ho; ++oy)
        for (int64_t ox = 0; ox < wo; ++ox) {
          const double d = dy[size_t(((b * o + oc) * ho + oy) * wo + ox)];
          for (int64_t ic = 0; ic < c; ++ic)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                const int64_t iy = oy * stride - padding + i, ix = ox * stride - padding + j;
                const bool inside = iy >= 0 && iy < h && ix >= 0 && ix < wd;
                g.dw[size_t(((oc * c + ic) * kh + i) * kw + j)] += d * (inside ? x.at({b, ic, iy, ix}) : 0.0);
                if (inside) g.dx[size_t(((b * c + ic) * h + iy) * wd + ix)] += d * w.at({oc, ic, i, j});
              }
        }
  return g;
}

void check_same_nonfinite(const std::vector<double>& actual, const std::vector<double>& expected) {
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    CAPTURE(i);
    CAPTURE(actual[i]);
    CAPTURE(expected[i]);
    CHECK(same(actual[i], expected[i], 1e-9));
  }
}

}  // namespace

TEST_CASE("non-finite: conv2d's dX with 8 input channels (the adjoint convolution, col2im), strides 1 and 2, against direct loops") {
  // With finite weights and stride 1, dX is the flipped-weight convolution of the padded dY, whose
  // padding zeros meet only finite weights: NaN and Inf in x and dY reach dX as in the direct
  // loops. Stride 2, or a NaN weight, takes col2im, where only real outputs' terms are added
  // (0 · NaN is never formed).
  Rng rng(32);
  for (int stride : {1, 2})
    for (bool nan_weight : {false, true}) {
      CAPTURE(stride);
      CAPTURE(nan_weight);
      Tensor<double> x = Tensor<double>::uniform(Shape{2, 8, 5, 6}, rng, -1, 1), w = Tensor<double>::uniform(Shape{3, 8, 3, 3}, rng, -1, 1);
      const Tensor<double> bias = Tensor<double>::uniform(Shape{3}, rng, -0.5, 0.5);
      if (nan_weight) w.at({1, 4, 0, 2}) = kNaN;
      else x.at({0, 5, 2, 0}) = kNaN, x.at({1, 0, 3, 4}) = kInf;
      const int64_t ho = (5 + 2 - 3) / stride + 1, wo = (6 + 2 - 3) / stride + 1;
      std::vector<double> dy(size_t(2 * 3 * ho * wo));
      for (size_t k = 0; k < dy.size(); ++k) dy[k] = std::sin(double(k));
      if (!nan_weight) dy[7] = kInf, dy[14] = kNaN;
      const ConvGrads expected = conv_grads_naive(x, w, dy, stride, 1);
      const Run<double> r = run<double>([&](auto& v) { return conv2d(v[0], v[1], v[2], stride, 1); }, {x, w, bias}, dy);
      check_same_nonfinite(r.grads[0], expected.dx);
      CHECK(std::count_if(r.grads[0].begin(), r.grads[0].end(), [](double v) { return std::isnan(v); }) > 0);
      CHECK(std::count_if(r.grads[0].begin(), r.grads[0].end(), [](double v) { return !std::isnan(v); }) > 0);
      // And through a fused ReLU, whose mask stops dY where the output is 0.
      const Run<double> fused = run<double>([&](auto& v) { return conv2d_relu(v[0], v[1], v[2], stride, 1); }, {x, w, bias}, dy);
      const Run<double> apart = run<double>([&](auto& v) { return relu(conv2d(v[0], v[1], v[2], stride, 1)); }, {x, w, bias}, dy);
      check_same_nonfinite(fused.grads[0], apart.grads[0]);
    }
}

TEST_CASE("conv2d of every kernel size, stride and padding (phase planes a kernel never reads left out) against direct loops") {
  // A 1×1 kernel of stride 2 (a downsampling shortcut) reads only the even rows and columns, which
  // is all pad_image loads; a 2×2 kernel of stride 3 skips a row and a column phase of three.
  Rng rng(34);
  for (int64_t kernel : {1, 2, 3})
    for (int stride : {1, 2, 3})
      for (int padding : {0, 1}) {
        CAPTURE(kernel);
        CAPTURE(stride);
        CAPTURE(padding);
        const Tensor<double> x = Tensor<double>::uniform(Shape{3, 8, 7, 6}, rng, -1, 1), w = Tensor<double>::uniform(Shape{8, 8, kernel, kernel}, rng, -1, 1);
        const Tensor<double> bias = Tensor<double>::uniform(Shape{8}, rng, -0.5, 0.5);
        const int64_t ho = (7 + 2 * padding - kernel) / stride + 1, wo = (6 + 2 * padding - kernel) / stride + 1;
        std::vector<double> dy(static_cast<size_t>(3 * 8 * ho * wo));
        for (size_t k = 0; k < dy.size(); ++k) dy[k] = std::sin(double(k));
        const Run<double> r = run<double>([&](auto& v) { return conv2d(v[0], v[1], v[2], stride, padding); }, {x, w, bias}, dy);
        const ConvGrads expected = conv_grads_naive(x, w, dy, stride, padding);
        check_same_nonfinite(r.value, conv2d_naive(x, w, &bias, stride, padding).vector());
        check_same_nonfinite(r.grads[0], expected.dx);
        check_same_nonfinite(r.grads[1], expected.dw);
      }
}

TEST_CASE("non-finite: conv2d's dW read pixel-major (8 output channels), strides 1 and 2, one image with NaN and Inf, against direct loops") {
  // Output channels a multiple of 8 and a patch of 32 or more: dW sums dY against the padded image
  // transposed to (pixel, channel), each kernel row's taps as one GEMM read in place, its columns
  // in tap order; over the real outputs alone, or (through a fused ReLU's mask) over the wide
  // layout's span, where an image with NaN or Inf takes the unfolded path instead. Both add into
  // the same partial sums of one group of images, so the tap order must be the same in both, and
  // the extra columns' wrapped pixels must bring no NaN.
  Rng rng(33);
  for (int stride : {1, 2})
    for (int64_t channels : {4, 16}) {
      CAPTURE(stride);
      CAPTURE(channels);
      Tensor<double> x = Tensor<double>::uniform(Shape{5, channels, 6, 7}, rng, -1, 1), w = Tensor<double>::uniform(Shape{8, channels, 3, 3}, rng, -1, 1);
      const Tensor<double> bias = Tensor<double>::uniform(Shape{8}, rng, -0.5, 0.5);
      x.at({2, 1, 2, 0}) = kNaN, x.at({2, 3, 5, 6}) = kInf;
      const int64_t outputs = 5 * 8 * ((6 + 2 - 3) / stride + 1) * ((7 + 2 - 3) / stride + 1);
      std::vector<double> dy(static_cast<size_t>(outputs));
      for (size_t k = 0; k < dy.size(); ++k) dy[k] = std::sin(double(k));
      const ConvGrads expected = conv_grads_naive(x, w, dy, stride, 1);
      const Run<double> r = run<double>([&](auto& v) { return conv2d(v[0], v[1], v[2], stride, 1); }, {x, w, bias}, dy);
      check_same_nonfinite(r.grads[1], expected.dw);
      CHECK(std::count_if(r.grads[1].begin(), r.grads[1].end(), [](double v) { return std::isnan(v); }) > 0);
      CHECK(std::count_if(r.grads[1].begin(), r.grads[1].end(), [](double v) { return std::isfinite(v); }) > 0);
      const Run<double> fused = run<double>([&](auto& v) { return conv2d_relu(v[0], v[1], v[2], stride, 1); }, {x, w, bias}, dy);
      const Run<double> apart = run<double>([&](auto& v) { return relu(conv2d(v[0], v[1], v[2], stride, 1)); }, {x, w, bias}, dy);
      check_same_nonfinite(fused.grads[1], apart.grads[1]);
      CHECK(std::count_if(fused.grads[1].begin(), fused.grads[1].end(), [](double v) { return std::isfinite(v); }) > 0);
      // With every image finite, all five go the pixel-major way.
      x.at({2, 1, 2, 0}) = 0.25, x.at({2, 3, 5, 6}) = -0.5;
      const ConvGrads finite = conv_grads_naive(x, w, dy, stride, 1);
      const Run<double> all = run<double>([&](auto& v) { return conv2d(v[0], v[1], v[2], stride, 1); }, {x, w, bias}, dy);
      check_same_nonfinite(all.grads[1], finite.dw);
    }
}

TEST_CASE("non-finite: conv2d and conv2d_relu, strides 1 and 2, against direct loops") {
  // A NaN pixel at the left edge and an Inf one inside, and (separately) a NaN weight whose tap
  // meets only padding at the border outputs: padding is a zero that is multiplied (0 · NaN = NaN),
  // as in PyTorch's im2col path. The rows kernel computes extra columns that wrap into the next
  // row: they must not bring NaN (0 · Inf) into dW or dx where the direct loops have none.
  Rng rng(31);
  for (int stride : {1, 2})
    for (bool nan_weight : {false, true}) {
      CAPTURE(stride);
      CAPTURE(nan_weight);
      Tensor<double> x = Tensor<double>::uniform(Shape{2, 2, 6, 7}, rng, -1, 1), w = Tensor<double>::uniform(Shape{3, 2, 3, 3}, rng, -1, 1);
      const Tensor<double> bias = Tensor<double>::uniform(Shape{3}, rng, -0.5, 0.5);
      if (nan_weight) w.at({1, 0, 0, 2}) = kNaN;
      else x.at({0, 1, 2, 0}) = kNaN, x.at({1, 0, 3, 4}) = kInf;
      const int64_t outputs = 2 * 3 * ((6 + 2 - 3) / stride + 1) * ((7 + 2 - 3) / stride + 1);
      std::vector<double> dy(static_cast<size_t>(outputs));
      for (size_t k = 0; k < dy.size(); ++k) dy[k] = std::sin(double(k));
      const Tensor<double> expected = conv2d_naive(x, w, &bias, stride, 1);
      const ConvGrads expected_grads = conv_grads_naive(x, w, dy, stride, 1);
      const Run<double> r = run<double>([&](auto& v) { return conv2d(v[0], v[1], v[2], stride, 1); }, {x, w, bias}, dy);
      check_same_nonfinite(r.value, expected.vector());
      check_same_nonfinite(r.grads[0], expected_grads.dx);
      check_same_nonfinite(r.grads[1], expected_grads.dw);
      // The non-finite values are really there, and the border outputs of a NaN weight are NaN.
      CHECK(std::count_if(r.value.begin(), r.value.end(), [](double v) { return std::isnan(v); }) > 0);
      if (nan_weight) CHECK(std::isnan(expected.at({0, 1, 0, 0})));

      // Fused and separate ReLU agree bit for bit (NaN where the conv is NaN; dY passes there).
      const Run<double> fused = run<double>([&](auto& v) { return conv2d_relu(v[0], v[1], v[2], stride, 1); }, {x, w, bias}, dy);
      const Run<double> separate = run<double>([&](auto& v) { return relu(conv2d(v[0], v[1], v[2], stride, 1)); }, {x, w, bias}, dy);
      for (size_t k = 0; k < fused.value.size(); ++k) {
        const double c = r.value[k];
        CHECK(same(fused.value[k], std::isnan(c) ? kNaN : (c <= 0 ? 0 : c), 0));
      }
      for (size_t in = 0; in < 3; ++in) {
        CAPTURE(in);
        const std::vector<double>&fa = fused.grads[in], &sa = separate.grads[in];
        REQUIRE(fa.size() == sa.size());
        for (size_t k = 0; k < fa.size(); ++k) CHECK((fa[k] == sa[k] || (std::isnan(fa[k]) && std::isnan(sa[k]))));
      }
      // And with the 2×2 max pooling fused too: a NaN wins its window, its gradient goes there.
      const int64_t pooled_outputs = 2 * 3 * (((6 + 2 - 3) / stride + 1) / 2) * (((7 + 2 - 3) / stride + 1) / 2);
      const std::vector<double> pooled_dy(dy.begin(), dy.begin() + pooled_outputs);
      const Run<double> pooled = run<double>([&](auto& v) { return conv2d_relu_max_pool2d(v[0], v[1], v[2], stride, 1); }, {x, w, bias}, pooled_dy);
      const Run<double> chain = run<double>([&](auto& v) { return max_pool2d(relu(conv2d(v[0], v[1], v[2], stride, 1)), 2, 2); }, {x, w, bias}, pooled_dy);
      REQUIRE(pooled.value.size() == chain.value.size());
      CHECK(std::count_if(pooled.value.begin(), pooled.value.end(), [](double v) { return std::isnan(v); }) > 0);
      for (size_t k = 0; k < pooled.value.size(); ++k) CHECK(same(pooled.value[k], chain.value[k], 0));
      for (size_t in = 0; in < 3; ++in) {
        CAPTURE(in);
        for (size_t k = 0; k < pooled.grads[in].size(); ++k) CHECK(same(pooled.grads[in][k], chain.grads[in][k], 0));
      }
    }
}

TEST_CASE("non-finite: batch_norm_train makes a channel with NaN or ±Inf all NaN, its mean NaN or ±Inf, and leaves the others alone") {
  // ATen's batch_norm_cpu_collect_stats: the mean sums the channel (Inf stays Inf, Inf − Inf and
  // NaN give NaN), the variance sums (x − mean)², NaN for any non-finite x; y = (x − mean)·invstd·w
  // + b is then NaN everywhere in that channel. Float and double, with the ReLU fused and without.
  const auto run = [](auto zero, bool then_relu) {
    using T = decltype(zero);
    Tensor<T> x(Shape{3, 4, 2, 5});
    for (int64_t i = 0; i < x.numel(); ++i) x[i] = T(std::sin(double(i)));
    x[(0 * 4 + 1) * 10 + 3] = T(kInf);                          // channel 1: +Inf
    x[(2 * 4 + 2) * 10 + 7] = T(kNaN);                          // channel 2: NaN
    x[(1 * 4 + 3) * 10 + 0] = T(kInf), x[(2 * 4 + 3) * 10 + 9] = T(-kInf);  // channel 3: both
    Tensor<T> w(Shape{4}), b(Shape{4});
    w.fill(T(1.5));
    b.fill(T(0.25));
    Tape<T> tape;
    Tensor<T> mean, var;
    Var<T> y = batch_norm_train(tape.leaf(x), tape.leaf(w), tape.leaf(b), T(1e-5), mean, var, then_relu);
    CHECK(std::isfinite(mean[0]));
    CHECK(std::isfinite(var[0]));
    CHECK(mean[1] == T(kInf));
    CHECK(std::isnan(mean[2]));
    CHECK(std::isnan(mean[3]));
    for (int64_t c = 1; c < 4; ++c) CHECK(std::isnan(var[c]));
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t c = 0; c < 4; ++c)
        for (int64_t k = 0; k < 10; ++k) {
          const T v = y.value()[size_t((i * 4 + c) * 10 + k)];
          if (c == 0) CHECK(std::isfinite(v));
          else CHECK(std::isnan(v));
        }
  };
  for (bool then_relu : {false, true}) {
    CAPTURE(then_relu);
    run(0.0f, then_relu);
    run(0.0, then_relu);
  }
}
