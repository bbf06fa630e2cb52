// The method registry: a method added through it alone (here, in this file) is explainable, listed
// where the CLI lists methods, and gets its row in the axiom matrix; options are checked against
// what each method declares.
#include <doctest/doctest.h>

#include <algorithm>

#include "attribution/evaluation/axiom_matrix.h"
#include "attribution/method.h"
#include "attribution/methods/gradients.h"
#include "attribution/methods/integrated_gradients.h"
#include "nn/architecture.h"

using namespace integrad;
using namespace integrad::attr;

namespace {

using T = double;

nn::Model<T> linear_model() {
  auto m = nn::parse_architecture<T>("Linear(3, 2)", ad::Shape{3}, nn::InputDtype::float64, 1);
  return m;
}

// Twice the gradient: a method a test can define in a few lines, with one option.
Method<T> doubled_gradient() {
  Method<T> m{.name = "test_doubled_gradient", .display_name = "2 × gradient", .summary = "twice the gradient (a test method)"};
  m.options = {{.name = "factor", .kind = OptionSpec::Kind::real, .default_value = "2", .help = "the multiplier", .min = 0, .max = 10}};
  m.run = [](const MethodCall<T>& c) {
    ad::Tensor<T> g = gradient(forward_of(c.model), c.inputs, c.target);
    for (T& v : g.span()) v *= T(c.options.real("factor"));
    return Attribution<T>{.values = g};
  };
  return m;
}

}  // namespace

TEST_CASE("a method registered in a test file is listed, explainable and in the axiom matrix") {
  register_method<T>(doubled_gradient());
  {
    // The CLI lists and accepts the float registry's names; register there too, as a method file does.
    Method<float> mf{.name = "test_doubled_gradient", .display_name = "2 × gradient", .summary = "twice the gradient (a test method)"};
    mf.run = [](const MethodCall<float>& c) { return Attribution<float>{.values = gradient(forward_of(c.model), c.inputs, c.target)}; };
    register_method<float>(mf);
    const auto names = method_names();
    CHECK(std::find(names.begin(), names.end(), "test_doubled_gradient") != names.end());
  }
  CHECK_THROWS_WITH_AS(register_method<T>(doubled_gradient()), "a method called 'test_doubled_gradient' is registered already", std::invalid_argument);

  const auto model = linear_model();
  const ad::Tensor<T> x(ad::Shape{2, 3}, std::vector<T>{1, 2, 3, -1, 0.5, 2});
  const Method<T>& m = find_method<T>("test_doubled_gradient");
  const Attribution<T> a = explain(m, model, x, Baseline<T>::zero(), Target<T>::of(1), parse_options(m.name, m.options, {{"factor", "3"}}));
  const auto& w = model.layers[0]->parameters()[0]->value;  // [2, 3]
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j) CHECK(a.values[i * 3 + j] == doctest::Approx(3 * w.at({1, j})).epsilon(1e-15));
  CHECK(a.targets == std::vector<int64_t>{1, 1});
  CHECK(a.f_input.size() == 2);

  const auto rows = axiom_matrix(model, matrix_methods(model), x, ad::Tensor<T>(x.shape()), {});
  const auto row = std::find_if(rows.begin(), rows.end(), [](const MatrixRow& r) { return r.method == "test_doubled_gradient"; });
  REQUIRE(row != rows.end());
  CHECK(row->checks.size() == axiom_names().size());
  CHECK(row->checks[0].name == "completeness");
  CHECK_FALSE(row->checks[0].passed);  // twice the gradient of a linear model sums to 2·w·x, not w·x
}

TEST_CASE("options are checked against the method's declaration") {
  const Method<T>& ig = find_method<T>("ig");
  CHECK(parse_options("ig", ig.options, {}).integer("steps") == 50);
  CHECK(parse_options("ig", ig.options, {{"steps", "7"}}).integer("steps") == 7);
  CHECK_THROWS_WITH_AS(parse_options("ig", ig.options, {{"steps", "0"}}), "--steps (an option of ig) must be a whole number in [1, 1000000]; got '0'",
                       std::invalid_argument);
  CHECK_THROWS_AS(parse_options("ig", ig.options, {{"steps", "1e3"}}), std::invalid_argument);
  CHECK_THROWS_AS(parse_options("ig", ig.options, {{"adaptive", "nan"}}), std::invalid_argument);
  CHECK_THROWS_AS(parse_options("ig", ig.options, {{"adaptive", "0"}}), std::invalid_argument);
  CHECK_THROWS_AS(parse_options("ig", ig.options, {{"quadrature", "exact"}}), std::invalid_argument);
  const Method<T>& saliency = find_method<T>("saliency");
  CHECK_THROWS_WITH_AS(parse_options("saliency", saliency.options, {{"steps", "10"}}), "--steps is not an option of saliency (it takes none)",
                       std::invalid_argument);
  const Method<T>& sg = find_method<T>("smoothgrad");
  CHECK_THROWS_AS(parse_options("smoothgrad", sg.options, {{"seed", "-1"}}), std::invalid_argument);
  CHECK_THROWS_AS(parse_options("smoothgrad", sg.options, {{"stdev", "inf"}}), std::invalid_argument);
  // Presets apply where declared and are overridden by what the caller gives.
  const Options o = parse_options("smoothgrad", sg.options, {{"samples", "3"}}, {{"samples", "20"}, {"steps", "9"}});
  CHECK(o.integer("samples") == 3);
  CHECK_FALSE(o.has("steps"));
}

TEST_CASE("IG through the registry is IG") {
  const auto model = linear_model();
  const ad::Tensor<T> x(ad::Shape{1, 3}, std::vector<T>{1, 2, 3});
  const Method<T>& ig = find_method<T>("ig");
  const Attribution<T> a = explain(ig, model, x, Baseline<T>::constant(0.5), Target<T>::of(0), parse_options("ig", ig.options, {{"steps", "4"}}));
  const auto& w = model.layers[0]->parameters()[0]->value;
  for (int64_t j = 0; j < 3; ++j) CHECK(a.values[j] == doctest::Approx(w.at({0, j}) * (x[j] - 0.5)).epsilon(1e-14));  // IG = w·(x − x′)
  REQUIRE(a.deltas.size() == 1);
  CHECK(std::abs(a.deltas[0]) < 1e-12);
  CHECK_THROWS_AS(explain(ig, model, x, Baseline<T>::zero(), Target<T>::of(0), parse_options("ig", ig.options, {{"layer", "0"}, {"adaptive", "0.05"}})),
                  std::invalid_argument);
}
