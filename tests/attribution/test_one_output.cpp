// Models with one output per example (a regression, a single binary logit) and the axiom checks'
// tolerances: the defects of issue 27, each a case that failed before it was fixed.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <map>

#include "attribution/evaluation/axiom_matrix.h"
#include "attribution/method.h"
#include "attribution/metric.h"
#include "nn/architecture.h"

using namespace integrad;
using namespace integrad::attr;

namespace {
using T = double;

// F(x) = w·x + bias as a one-output Linear(n, 1).
nn::Model<T> affine(std::vector<T> w, T bias) {
  const int64_t n = int64_t(w.size());
  auto model = nn::parse_architecture<T>(fmt::format("Linear({}, 1)", n), ad::Shape{n}, nn::InputDtype::float64, 1);
  auto params = model.named_parameters();
  params[0].second->value = ad::Tensor<T>(ad::Shape{1, n}, std::move(w));
  params[1].second->value = ad::Tensor<T>(ad::Shape{1}, bias);
  return model;
}

std::vector<double> score(const std::string& metric, const nn::Model<T>& model, const ad::Tensor<T>& x, const ad::Tensor<T>& a) {
  const Metric<T>& m = find_metric<T>(metric);
  const Options o = parse_options(m.name, m.options, {{"steps", "2"}});
  const Baseline<T> zero = Baseline<T>::zero();
  return m.score({model, x, a, zero, Target<T>::predicted(), o});
}

double sigmoid(double z) { return 1 / (1 + std::exp(-z)); }
}  // namespace

// F(x) = x0 + 2·x1 + 1 at x = (1, 1), baseline 0, K = 2, attributions ordering x1 first.
// Before: a softmax over the one output made every point of the curve 1 (area 1 for every example).
TEST_CASE("deletion and insertion on one output: raw values for a regression, the sigmoid for a binary logit") {
  auto model = affine({1, 2}, 1);
  const ad::Tensor<T> x(ad::Shape{1, 2}, std::vector<T>{1, 1}), a(ad::Shape{1, 2}, std::vector<T>{1, 2});
  // Deletion points: F = 4 (all kept), 2 (x1 gone), 1 (both gone); insertion: 1, 3, 4.
  model.output_kind = "regression";
  CHECK(score("deletion", model, x, a)[0] == doctest::Approx((4 + 2) / 4.0 + (2 + 1) / 4.0).epsilon(1e-14));
  CHECK(score("insertion", model, x, a)[0] == doctest::Approx((1 + 3) / 4.0 + (3 + 4) / 4.0).epsilon(1e-14));
  model.output_kind = "binary-logit";
  CHECK(score("deletion", model, x, a)[0] == doctest::Approx((sigmoid(4) + sigmoid(2)) / 4 + (sigmoid(2) + sigmoid(1)) / 4).epsilon(1e-14));
  CHECK(score("insertion", model, x, a)[0] == doctest::Approx((sigmoid(1) + sigmoid(3)) / 4 + (sigmoid(3) + sigmoid(4)) / 4).epsilon(1e-14));
  // Not said what the output is: refused, not a curve of ones.
  model.output_kind = "";
  CHECK_THROWS_WITH_AS(score("deletion", model, x, a), doctest::Contains("one output"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(score("insertion", model, x, a), doctest::Contains("output=regression"), std::invalid_argument);
}

// A method whose total misses ΔF by 0.004 where F(x) = 5.001 and F(x′) = 5: relative to |ΔF| that
// was 4.0, a FAIL; against the outputs' size (0.1·5.001) it is 0.008, within 5%.
TEST_CASE("completeness: absolute plus relative tolerance where F(x) ≈ F(x′)") {
  const auto model = affine({0.001}, 5);
  const ad::Tensor<T> x(ad::Shape{1, 1}, 1.0), b(ad::Shape{1, 1}, 0.0);
  const ExplainFn<T> off_by = [](const auto&, const auto& xs, const auto&, const auto&) { return ad::Tensor<T>(xs.shape(), 0.005); };
  const CheckResult near = check_completeness(model, off_by, x, b, {0});
  CHECK(near.passed);
  CHECK(near.figure == doctest::Approx(0.004 / 0.5001).epsilon(1e-9));
  // The same error where the outputs are small is a real violation and still fails.
  const auto small = affine({0.001}, 0);
  const CheckResult far = check_completeness(small, off_by, x, b, {0});
  CHECK_FALSE(far.passed);
  CHECK(far.figure == doctest::Approx(4.0).epsilon(1e-6));
  // ΔF = 0 and a total of 1e-17 (rounding): a pass, at any sane tolerance.
  const auto flat = affine({0.0}, 3);
  const ExplainFn<T> rounding = [](const auto&, const auto& xs, const auto&, const auto&) { return ad::Tensor<T>(xs.shape(), 1e-17); };
  const CheckResult zero = check_completeness(flat, rounding, x, b, {0});
  CHECK(zero.passed);
  CHECK(zero.figure <= zero.tolerance);
}

// KernelSHAP's least squares left 5.6e-17 on the dummy feature, and `FAIL 5.6e-17` was printed.
TEST_CASE("dummy: rounding on an ignored feature passes, a real share fails") {
  const auto model = affine({1, -2, 0.5}, 0);
  const ad::Tensor<T> x(ad::Shape{1, 3}, std::vector<T>{1, 1, 1}), b(ad::Shape{1, 3});
  const auto with_dummy_value = [](double v) {
    return ExplainFn<T>([v](const auto& m, const auto& xs, const auto&, const auto&) {
      ad::Tensor<T> a(xs.shape());
      const int64_t f = xs.size(1);
      for (int64_t j = 0; j + 1 < f; ++j) a[j] = xs[j];  // anything on the real features
      a[f - 1] = v;                                      // the appended dummy is the last input
      (void)m;
      return a;
    });
  };
  const CheckResult rounding = check_dummy(model, with_dummy_value(5.6e-17), x, b, {0});
  CHECK(rounding.passed);
  CHECK(rounding.figure == doctest::Approx(5.6e-17).epsilon(1e-6));
  CHECK_FALSE(check_dummy(model, with_dummy_value(0.3), x, b, {0}).passed);
}

// The image model's matrix dropped every perturbation row without a word.
TEST_CASE("axiom matrix on an image model: the perturbation methods left out say why") {
  const auto model = nn::parse_architecture<T>("Conv2d(1, 2, 3, padding=1); ReLU(); Flatten(); Linear(800, 3)", ad::Shape{1, 20, 20},
                                               nn::InputDtype::float64, 3);
  const auto methods = matrix_methods(model, {{"steps", "8"}});
  for (const std::string name : {"kernelshap", "shapley", "occlusion", "ablation", "lime", "shapley-sampling"}) {
    CAPTURE(name);
    const auto it = std::find_if(methods.begin(), methods.end(), [&](const auto& m) { return m.name == name; });
    REQUIRE(it != methods.end());
    CHECK(it->left_out.find("400 input scalars") != std::string::npos);
    CHECK(it->left_out.find(name == "occlusion" ? "--window" : "--patch") != std::string::npos);
  }
  ad::Rng rng(5);
  const ad::Tensor<T> x = ad::Tensor<T>::uniform(ad::Shape{1, 1, 20, 20}, rng, 0, 1);
  std::vector<NamedMethod<T>> two;
  for (const auto& m : methods)
    if (m.name == "gradient" || m.name == "kernelshap") two.push_back(m);
  const auto rows = axiom_matrix(model, two, x, ad::Tensor<T>(x.shape()), {});
  REQUIRE(rows.size() == 2);
  const auto& left = rows[0].method == "kernelshap" ? rows[0] : rows[1];
  CHECK_FALSE(left.left_out.empty());
  for (const auto& c : left.checks) CHECK_FALSE(c.applicable);
}

TEST_CASE("kernelshap warns when its coalitions are too few for the groups") {
  const auto model = affine(std::vector<T>(64, 0.1), 0);
  ad::Rng rng(6);
  const ad::Tensor<T> x = ad::Tensor<T>::uniform(ad::Shape{2, 64}, rng, -1, 1);
  const Method<T>& m = find_method<T>("kernelshap");
  const auto run = [&](const std::string& samples) {
    return explain(m, model, x, Baseline<T>::zero(), Target<T>::of(0), parse_options(m.name, m.options, {{"samples", samples}}));
  };
  const auto few = run("200");
  REQUIRE(few.warnings.size() == 1);  // once, not once per example
  CHECK(few.warnings[0].find("200 coalitions for 64 feature groups") != std::string::npos);
  CHECK(run("512").warnings.empty());
}
