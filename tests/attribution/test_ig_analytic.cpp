// IG and the gradient methods on functions whose attributions are known in closed form.
#include <doctest/doctest.h>

#include <cmath>

#include "attribution/methods/gradients.h"
#include "attribution/methods/integrated_gradients.h"
#include "attribution/methods/smoothgrad.h"

using namespace integrad;
using namespace integrad::attr;
using ad::Shape;
using ad::Tensor;
using ad::Var;

namespace {
const Rule kRules[] = {Rule::gauss_legendre, Rule::riemann_left, Rule::riemann_right, Rule::riemann_middle, Rule::riemann_trapezoid};

// F(x) = x·w + c as a one-output model.
Forward<double> linear_model(const Tensor<double>& w, double c) {
  return [w, c](ad::Tape<double>& tape, Var<double> x) { return ad::matmul(x, tape.leaf(w)) + c; };
}
// F(x) = x1·x2.
Forward<double> product_model() {
  return [](ad::Tape<double>&, Var<double> x) { return ad::reshape(ad::slice(x, 1, 0, 1) * ad::slice(x, 1, 1, 2), Shape{x.shape()[0], 1}); };
}
// The paper's F(x) = 1 − ReLU(1 − x).
Forward<double> paper_model() {
  return [](ad::Tape<double>&, Var<double> x) { return 1.0 - ad::relu(1.0 - x); };
}
}  // namespace

TEST_CASE("linear model: IG = w ⊙ (x − x′) exactly, for every rule") {
  const Tensor<double> w(Shape{3, 1}, std::vector<double>{2, -1, 0.5});
  const Tensor<double> x(Shape{2, 3}, std::vector<double>{1, 2, 3, -1, 0.5, 4});
  const Tensor<double> base(Shape{3}, std::vector<double>{0.5, 0.5, 0.5});
  for (Rule r : kRules) {
    CAPTURE(rule_name(r));
    IgOptions<double> o;
    o.rule = r;
    o.steps = 7;
    o.baselines = {Baseline<double>::of(base)};
    const Attribution<double> a = integrated_gradients(linear_model(w, 3.0), x, Target<double>::of(0), o);
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 3; ++j) CHECK(a.values.at({i, j}) == doctest::Approx(w[j] * (x.at({i, j}) - base[j])).epsilon(1e-14));
    for (double d : a.deltas) CHECK(std::abs(d) < 1e-13);
  }
}

TEST_CASE("f = x1·x2: IG = ((x1−x1′)(x2+x2′)/2, (x2−x2′)(x1+x1′)/2) for middle, trapezoid and Gauss-Legendre") {
  const Tensor<double> x(Shape{1, 2}, std::vector<double>{3, -2}), base(Shape{1, 2}, std::vector<double>{1, 0.5});
  for (Rule r : {Rule::riemann_middle, Rule::riemann_trapezoid, Rule::gauss_legendre}) {
    CAPTURE(rule_name(r));
    IgOptions<double> o;
    o.rule = r;
    o.steps = 4;
    o.baselines = {Baseline<double>::of(base)};
    const Attribution<double> a = integrated_gradients(product_model(), x, Target<double>::of(0), o);
    CHECK(a.values[0] == doctest::Approx((3 - 1) * (-2 + 0.5) / 2).epsilon(1e-14));
    CHECK(a.values[1] == doctest::Approx((-2 - 0.5) * (3 + 1) / 2).epsilon(1e-14));
    CHECK(std::abs(a.deltas[0]) < 1e-13);
  }
}

TEST_CASE("the paper's 1 − ReLU(1 − x) at x = 2, baseline 0: gradients say 0, IG says 1") {
  const Tensor<double> x(Shape{1, 1}, 2.0);
  CHECK(gradient(paper_model(), x, Target<double>::of(0))[0] == 0.0);
  CHECK(gradient_x_input(paper_model(), x, Target<double>::of(0))[0] == 0.0);
  // The integrand is 1 on [0, 0.5) and 0 after: middle-rule IG with an even step count is exact.
  IgOptions<double> o;
  o.rule = Rule::riemann_middle;
  o.steps = 50;
  CHECK(integrated_gradients(paper_model(), x, Target<double>::of(0), o).values[0] == doctest::Approx(1.0).epsilon(1e-14));
  // Gauss-Legendre: the sum of the weights of the nodes below α = 0.5, times x = 2.
  o.rule = Rule::gauss_legendre;
  const Quadrature q = quadrature(Rule::gauss_legendre, 50);
  double expected = 0;
  for (size_t k = 0; k < q.alphas.size(); ++k) expected += q.alphas[k] < 0.5 ? 2 * q.weights[k] : 0.0;
  CHECK(integrated_gradients(paper_model(), x, Target<double>::of(0), o).values[0] == doctest::Approx(expected).epsilon(1e-14));
  CHECK(expected == doctest::Approx(1.0).epsilon(1e-12));  // GL's weights are symmetric about 0.5
}

TEST_CASE("the result does not depend on the batch size, bit for bit") {
  ad::Rng rng(3);
  const Tensor<double> w1 = Tensor<double>::uniform(Shape{4, 8}, rng, -1, 1), w2 = Tensor<double>::uniform(Shape{8, 3}, rng, -1, 1);
  Forward<double> mlp = [&](ad::Tape<double>& t, Var<double> x) { return ad::matmul(ad::tanh(ad::matmul(x, t.leaf(w1))), t.leaf(w2)); };
  const Tensor<double> x = Tensor<double>::uniform(Shape{5, 4}, rng, -1, 1);
  IgOptions<double> o;
  o.steps = 20;
  o.batch_size = 1;
  const auto reference = integrated_gradients(mlp, x, Target<double>::predicted(), o).values.vector();
  for (int64_t b : {7, 50, 1000}) {
    o.batch_size = b;
    CHECK(integrated_gradients(mlp, x, Target<double>::predicted(), o).values.vector() == reference);
  }
}

TEST_CASE("several baselines are averaged, each with its own delta") {
  const Tensor<double> w(Shape{2, 1}, std::vector<double>{1, 2});
  const Tensor<double> x(Shape{1, 2}, std::vector<double>{1, 1});
  IgOptions<double> o;
  o.baselines = {Baseline<double>::zero(), Baseline<double>::constant(0.5)};
  const auto a = integrated_gradients(linear_model(w, 0), x, Target<double>::of(0), o);
  CHECK(a.values[0] == doctest::Approx((1.0 + 0.5) / 2));
  CHECK(a.values[1] == doctest::Approx((2.0 + 1.0) / 2));
  REQUIRE(a.deltas_per_baseline.size() == 2);
  CHECK(std::abs(a.deltas_per_baseline[1][0]) < 1e-13);
}

TEST_CASE("the delta has Captum's sign: Σ attributions − (F(x) − F(x′))") {
  // x² on [0, 1] with 2 left-Riemann steps underestimates: IG = 2·(0·0.5 + 0.5·0.5)·1 = 0.5 < 1.
  Forward<double> square = [](ad::Tape<double>&, Var<double> x) { return x * x; };
  IgOptions<double> o;
  o.rule = Rule::riemann_left;
  o.steps = 2;
  const auto a = integrated_gradients(square, Tensor<double>(Shape{1, 1}, 1.0), Target<double>::of(0), o);
  CHECK(a.values[0] == doctest::Approx(0.5));
  CHECK(a.deltas[0] == doctest::Approx(-0.5));
}

TEST_CASE("adaptive IG raises the steps until the delta is within tolerance") {
  Forward<double> smooth = [](ad::Tape<double>&, Var<double> x) { return ad::exp(x * 3.0); };
  IgOptions<double> o;
  o.rule = Rule::riemann_right;
  o.steps = 2;
  const auto a = adaptive_integrated_gradients(smooth, Tensor<double>(Shape{2, 1}, std::vector<double>{1.0, 0.01}), Target<double>::of(0), o, 0.01);
  for (size_t i = 0; i < 2; ++i) CHECK(std::abs(a.deltas[i]) <= 0.01 * std::abs(a.f_input[i] - a.f_baseline[i]));
  CHECK(a.steps[0] > a.steps[1]);  // the steeper path needed more steps
}

TEST_CASE("saliency is |gradient|; SmoothGrad with zero noise is the plain method") {
  const Tensor<double> w(Shape{2, 1}, std::vector<double>{-3, 2});
  const Tensor<double> x(Shape{1, 2}, std::vector<double>{1, 1});
  const auto s = saliency(linear_model(w, 0), x, Target<double>::of(0));
  CHECK(s.vector() == std::vector<double>{3, 2});
  SmoothGradOptions so;
  so.stdev = 0;
  so.samples = 3;
  auto method = [&](const Tensor<double>& in) { return gradient(product_model(), in, Target<double>::of(0)); };
  const Tensor<double> y(Shape{1, 2}, std::vector<double>{2, 5});
  CHECK(smoothgrad<double>(method, y, so).vector() == method(y).vector());
  so.kind = NoiseKind::vargrad;
  CHECK(smoothgrad<double>(method, y, so).vector() == std::vector<double>{0, 0});
  // With noise the average of a linear function's gradient is unchanged, and the seed fixes it.
  so.kind = NoiseKind::smoothgrad;
  so.stdev = 0.5;
  auto lin = [&](const Tensor<double>& in) { return gradient(linear_model(w, 0), in, Target<double>::of(0)); };
  CHECK(smoothgrad<double>(lin, x, so).vector() == std::vector<double>{-3, 2});
  CHECK(smoothgrad<double>(method, y, so).vector() == smoothgrad<double>(method, y, so).vector());
}
