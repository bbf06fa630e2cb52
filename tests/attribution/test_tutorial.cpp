// The answers to docs/tutorial.md's exercises.
#include <doctest/doctest.h>

#include "attribution/methods/contrast_methods.h"
#include "attribution/methods/gradients.h"
#include "attribution/methods/integrated_gradients.h"
#include "attribution/evaluation/paper_models.h"

using namespace integrad;
using namespace integrad::attr;
using ad::Shape;
using ad::Tensor;
using ad::Var;

TEST_CASE("tutorial exercise 1: IG of x1·x2 at (2, 3) is (3, 3); gradient × input is (6, 6)") {
  Forward<double> product = [](ad::Tape<double>&, Var<double> x) { return ad::reshape(ad::slice(x, 1, 0, 1) * ad::slice(x, 1, 1, 2), Shape{x.shape()[0], 1}); };
  const Tensor<double> x(Shape{1, 2}, std::vector<double>{2, 3});
  const auto ig = integrated_gradients(product, x, Target<double>::of(0), IgOptions<double>{}).values;
  CHECK(ig[0] == doctest::Approx(3));
  CHECK(ig[1] == doctest::Approx(3));
  CHECK(gradient_x_input(product, x, Target<double>::of(0)).vector() == std::vector<double>{6, 6});
}

TEST_CASE("tutorial exercise 2: on 1 - ReLU(1 - x) at 2, gradient and gradient x input are 0, IG is 1") {
  const auto m = paper_one_minus_relu();
  const Tensor<double> x(Shape{1, 1}, 2.0);
  CHECK(gradient(forward_of(m), x, Target<double>::of(0))[0] == 0);
  CHECK(gradient_x_input(forward_of(m), x, Target<double>::of(0))[0] == 0);
  CHECK(integrated_gradients(forward_of(m), x, Target<double>::of(0), IgOptions<double>{}).values[0] == doctest::Approx(1));
}

TEST_CASE("tutorial exercise 3: DeepLift on g at (3, 1) gives (2, -1)") {
  const Tensor<double> x(Shape{1, 2}, std::vector<double>{3, 1});
  const auto d = deeplift_rescale(paper_appendix_b_g(), x, Tensor<double>(x.shape()), Target<double>::of(0));
  CHECK(d[0] == doctest::Approx(2));
  CHECK(d[1] == doctest::Approx(-1));
}

TEST_CASE("tutorial exercise 4: Captum's trapezoid gives (0.9, 1.8), integrad's (1, 2)") {
  const Tensor<double> w(Shape{2, 1}, std::vector<double>{1, 2});
  Forward<double> linear = [w](ad::Tape<double>& t, Var<double> x) { return ad::matmul(x, t.leaf(w)); };
  const Tensor<double> x(Shape{1, 2}, std::vector<double>{1, 1});
  IgOptions<double> o;
  o.rule = Rule::riemann_trapezoid;
  o.steps = 10;
  const auto ours = integrated_gradients(linear, x, Target<double>::of(0), o).values;
  CHECK(ours[0] == doctest::Approx(1).epsilon(1e-14));
  CHECK(ours[1] == doctest::Approx(2).epsilon(1e-14));
  const Quadrature captum = captum_trapezoid(10);
  double captum_sum = 0;
  for (double wk : captum.weights) captum_sum += wk;  // the gradient is constant: IG = w·Σ weights
  CHECK(captum_sum * 1 == doctest::Approx(0.9));
  CHECK(captum_sum * 2 == doctest::Approx(1.8));
}

TEST_CASE("tutorial exercise 5: a steeper path needs more adaptive steps") {
  Forward<double> steep = [](ad::Tape<double>&, Var<double> x) { return ad::exp(x * 3.0); };
  IgOptions<double> o;
  o.rule = Rule::riemann_right;
  o.steps = 2;
  const auto a = adaptive_integrated_gradients(steep, Tensor<double>(Shape{2, 1}, std::vector<double>{1.0, 0.01}), Target<double>::of(0), o, 0.01);
  CHECK(a.steps[0] > a.steps[1]);
}
