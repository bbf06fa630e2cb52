// The perturbation methods (occlusion, ablation, shapley, kernelshap, shapley-sampling, lime) and
// GradientSHAP: on a linear model each gives w·(x − x′); occlusion's window arithmetic on a
// hand-computed case; Shapley values of a product; masks and group limits refused; the same bits
// for the same seed; exact Shapley's axioms in the axiom matrix, and a broken variant failing them.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>
#include <omp.h>

#include "attribution/evaluation/axiom_matrix.h"
#include "nn/for_each_example.h"
#include "attribution/method.h"
#include "attribution/methods/kernelshap.h"
#include "autodiff/parallel.h"
#include "nn/architecture.h"
#include "nn/npy.h"

using namespace integrad;
using namespace integrad::attr;

namespace {

using T = double;

// F = W x + b with fixed, distinct weights.
nn::Model<T> linear(int64_t in, int64_t out, ad::Shape input_shape, const std::string& prefix = "") {
  auto m = nn::parse_architecture<T>(prefix + fmt::format("Linear({}, {})", in, out), input_shape, nn::InputDtype::float64, 1);
  auto params = m.layers.back()->parameters();
  for (int64_t k = 0; k < params[0]->value.numel(); ++k) params[0]->value[k] = T(0.5 + 0.25 * double(k % 7) - 0.1 * double(k % 3));
  for (int64_t k = 0; k < params[1]->value.numel(); ++k) params[1]->value[k] = T(0.3 * double(k + 1));
  return m;
}

Attribution<T> run(const std::string& method, const nn::Model<T>& model, const ad::Tensor<T>& x, const Baseline<T>& b, const Target<T>& t,
                   const std::map<std::string, std::string>& options = {}) {
  const Method<T>& m = find_method<T>(method);
  return explain(m, model, x, b, t, parse_options(m.name, m.options, options));
}

std::string temp_mask(const std::string& name, std::vector<int64_t> ids, ad::Shape shape) {
  const std::string path = (std::filesystem::temp_directory_path() / ("integrad_test_" + name + ".npy")).string();
  nn::npy_write_labels(path, ids, shape);
  return path;
}

// outputs[:, 0] · outputs[:, 1]: with an identity layer, f = x1·x2.
Target<T> product_target() {
  return Target<T>::scalar([](ad::Var<T> out) {
    const int64_t n = out.shape()[0], c = out.shape()[1];
    ad::Tensor<T> m0(out.shape()), m1(out.shape());
    for (int64_t r = 0; r < n; ++r) m0[r * c] = m1[r * c + 1] = T(1);
    return ad::sum(out * out.tape().leaf(m0), 1) * ad::sum(out * out.tape().leaf(m1), 1);
  });
}

}  // namespace

TEST_CASE("on a linear model occlusion (window 1), ablation and shapley give w·(x − x′)") {
  const auto model = linear(4, 2, ad::Shape{4});
  const ad::Tensor<T> x(ad::Shape{2, 4}, std::vector<T>{1, -2, 3, 0.5, 0.25, 4, -1, 2});
  const ad::Tensor<T> b(ad::Shape{4}, std::vector<T>{0.5, 0.5, -1, 1});
  const auto& w = model.layers[0]->parameters()[0]->value;  // [2, 4]
  for (const std::string method : {"occlusion", "ablation", "shapley"}) {
    CAPTURE(method);
    const std::map<std::string, std::string> options = method == "occlusion" ? std::map<std::string, std::string>{{"window", "1"}}
                                                                               : std::map<std::string, std::string>{};
    const Attribution<T> a = run(method, model, x, Baseline<T>::of(b), Target<T>::of(1), options);
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 4; ++j) CHECK(a.values[i * 4 + j] == doctest::Approx(w.at({1, j}) * (x[i * 4 + j] - b[j])).epsilon(1e-12));
    if (method == "shapley")
      for (double d : a.deltas) CHECK(std::abs(d) < 1e-12);
  }
}

TEST_CASE("occlusion: windows start at 0, the last is clipped at the edge, covered elements average their windows") {
  const auto model = linear(5, 1, ad::Shape{5});
  const auto& w = model.layers[0]->parameters()[0]->value;
  const ad::Tensor<T> x(ad::Shape{1, 5}, std::vector<T>{1, 2, 3, 4, 5});
  auto term = [&](int64_t j) { return w[j] * x[j]; };
  {  // window 2, stride 2: ceil(3/2) + 1 = 3 windows [0,2) [2,4) [4,5): each element covered once.
    const Attribution<T> a = run("occlusion", model, x, Baseline<T>::zero(), Target<T>::of(0), {{"window", "2"}, {"stride", "2"}});
    const double first = term(0) + term(1), second = term(2) + term(3), third = term(4);
    const std::vector<double> want{first, first, second, second, third};
    for (int64_t j = 0; j < 5; ++j) CHECK(a.values[j] == doctest::Approx(want[size_t(j)]).epsilon(1e-12));
  }
  {  // window 3, stride 2: ceil(2/2) + 1 = 2 windows [0,3) [2,5); element 2 gets their mean.
    const Attribution<T> a = run("occlusion", model, x, Baseline<T>::zero(), Target<T>::of(0), {{"window", "3"}, {"stride", "2"}});
    const double first = term(0) + term(1) + term(2), second = term(2) + term(3) + term(4);
    const std::vector<double> want{first, first, (first + second) / 2, second, second};
    for (int64_t j = 0; j < 5; ++j) CHECK(a.values[j] == doctest::Approx(want[size_t(j)]).epsilon(1e-12));
  }
  {  // two dims [2, 3], window 2,2 stride 1,2: windows rows [0,2) × cols [0,2) and [2,3) (clipped).
    const auto m2 = linear(6, 1, ad::Shape{2, 3}, "Flatten(); ");
    const auto& w2 = m2.layers.back()->parameters()[0]->value;
    const ad::Tensor<T> x2(ad::Shape{1, 2, 3}, std::vector<T>{1, 2, 3, 4, 5, 6});
    const Attribution<T> a = run("occlusion", m2, x2, Baseline<T>::zero(), Target<T>::of(0), {{"window", "2,2"}, {"stride", "1,2"}});
    auto t2 = [&](int64_t j) { return w2[j] * x2[j]; };
    const double left = t2(0) + t2(1) + t2(3) + t2(4), right = t2(2) + t2(5);
    const std::vector<double> want{left, left, right, left, left, right};
    for (int64_t j = 0; j < 6; ++j) CHECK(a.values[j] == doctest::Approx(want[size_t(j)]).epsilon(1e-12));
    // One number is the same window (or stride) along every dim.
    const Attribution<T> one = run("occlusion", m2, x2, Baseline<T>::zero(), Target<T>::of(0), {{"window", "2"}, {"stride", "1,2"}});
    for (int64_t j = 0; j < 6; ++j) CHECK(one.values[j] == a.values[j]);
  }
  CHECK_THROWS_WITH_AS(run("occlusion", model, x, Baseline<T>::zero(), Target<T>::of(0), {{"window", "2,2"}}),
                       doctest::Contains("one entry per input dim"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(run("occlusion", model, x, Baseline<T>::zero(), Target<T>::of(0), {{"window", "6"}}), doctest::Contains("larger"),
                       std::invalid_argument);
}

TEST_CASE("shapley on f = x1·x2 (and a dummy x3): each gets half the interaction, efficiency exactly") {
  auto model = nn::parse_architecture<T>("Linear(3, 3)", ad::Shape{3}, nn::InputDtype::float64, 1);
  auto params = model.layers[0]->parameters();
  for (int64_t k = 0; k < 9; ++k) params[0]->value[k] = T(k % 4 == 0 ? 1 : 0);
  for (int64_t k = 0; k < 3; ++k) params[1]->value[k] = T(0);
  const ad::Tensor<T> x(ad::Shape{1, 3}, std::vector<T>{3, 5, 7});
  const Attribution<T> a = run("shapley", model, x, Baseline<T>::zero(), product_target());
  CHECK(a.values[0] == doctest::Approx(7.5).epsilon(1e-15));
  CHECK(a.values[1] == doctest::Approx(7.5).epsilon(1e-15));
  CHECK(a.values[2] == 0.0);
  REQUIRE(a.deltas.size() == 1);
  CHECK(a.deltas[0] == 0.0);
  // Baseline (1, 2, 0): φ1 = ½[(3·2 − 1·2) + (15 − 1·5)] = 7, φ2 = ½[(1·5 − 2) + (15 − 3·2)] = 6.
  const ad::Tensor<T> b(ad::Shape{3}, std::vector<T>{1, 2, 0});
  const Attribution<T> c = run("shapley", model, x, Baseline<T>::of(b), product_target());
  CHECK(c.values[0] == doctest::Approx(7).epsilon(1e-15));
  CHECK(c.values[1] == doctest::Approx(6).epsilon(1e-15));
  CHECK(std::abs(c.deltas[0]) < 1e-12);
}

TEST_CASE("feature masks: groups by id in any order, shared or per example; bad shapes and too many groups refused") {
  const auto model = linear(3, 1, ad::Shape{3});
  const auto& w = model.layers[0]->parameters()[0]->value;
  const ad::Tensor<T> x(ad::Shape{2, 3}, std::vector<T>{1, 2, 3, -1, 4, 2});
  const std::string shared = temp_mask("shared", {7, -2, 7}, ad::Shape{3});
  for (const std::string method : {"ablation", "shapley"}) {
    const Attribution<T> a = run(method, model, x, Baseline<T>::zero(), Target<T>::of(0), {{"feature-mask", shared}});
    for (int64_t i = 0; i < 2; ++i) {
      const double g = w[0] * x[i * 3] + w[2] * x[i * 3 + 2];
      CHECK(a.values[i * 3] == doctest::Approx(g).epsilon(1e-12));
      CHECK(a.values[i * 3 + 2] == doctest::Approx(g).epsilon(1e-12));
      CHECK(a.values[i * 3 + 1] == doctest::Approx(w[1] * x[i * 3 + 1]).epsilon(1e-12));
    }
  }
  const std::string each = temp_mask("each", {0, 0, 0, 5, 1, 5}, ad::Shape{2, 3});
  const Attribution<T> a = run("ablation", model, x, Baseline<T>::zero(), Target<T>::of(0), {{"feature-mask", each}});
  const double all = w[0] * x[0] + w[1] * x[1] + w[2] * x[2];
  CHECK(a.values[0] == doctest::Approx(all).epsilon(1e-12));
  CHECK(a.values[5] == doctest::Approx(w[0] * x[3] + w[2] * x[5]).epsilon(1e-12));

  const std::string wrong = temp_mask("wrong", {0, 1, 2, 3}, ad::Shape{4});
  CHECK_THROWS_WITH_AS(run("ablation", model, x, Baseline<T>::zero(), Target<T>::of(0), {{"feature-mask", wrong}}),
                       doctest::Contains("integrad_test_wrong.npy: shape [4] matches neither"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(run("ablation", model, x, Baseline<T>::zero(), Target<T>::of(0), {{"feature-mask", "/nonexistent/mask.npy"}}),
                       doctest::Contains("--feature-mask /nonexistent/mask.npy"), std::invalid_argument);
  const auto wide = linear(17, 1, ad::Shape{17});
  const ad::Tensor<T> xw(ad::Shape{1, 17}, T(1));
  CHECK_THROWS_WITH_AS(run("shapley", wide, xw, Baseline<T>::zero(), Target<T>::of(0)), doctest::Contains("at most 16 feature groups; example 0 has 17"),
                       std::invalid_argument);
  for (const auto& p : {shared, each, wrong}) std::remove(p.c_str());
}

TEST_CASE("kernelshap: w·(x − x′) on a linear model sampled or not, equals shapley when every coalition is used, efficiency, same bits per seed") {
  const auto model = linear(6, 2, ad::Shape{6});
  const auto& w = model.layers[0]->parameters()[0]->value;  // [2, 6]
  const ad::Tensor<T> x(ad::Shape{2, 6}, std::vector<T>{1, -2, 3, 0.5, 0.25, 4, -1, 2, 0, 1.5, -3, 2});
  for (const std::string samples : {"30", "62"}) {  // 2^6 − 2 = 62: all coalitions
    CAPTURE(samples);
    const Attribution<T> a = run("kernelshap", model, x, Baseline<T>::constant(0.5), Target<T>::of(0), {{"samples", samples}, {"seed", "3"}});
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 6; ++j) CHECK(a.values[i * 6 + j] == doctest::Approx(w.at({0, j}) * (x[i * 6 + j] - 0.5)).epsilon(1e-10));
    for (double d : a.deltas) CHECK(std::abs(d) < 1e-12);
  }

  // A non-additive model: f = x1·x2 + a dummy, and a product of sums over 5 inputs.
  auto prod = nn::parse_architecture<T>("Linear(5, 2)", ad::Shape{5}, nn::InputDtype::float64, 1);
  auto params = prod.layers[0]->parameters();
  const std::vector<T> wp{1, 0.5, 0, -1, 0, 0, 1, 2, 0.5, 1};
  for (int64_t k = 0; k < 10; ++k) params[0]->value[k] = wp[size_t(k)];
  params[1]->value[0] = 0.25;
  params[1]->value[1] = -0.5;
  const ad::Tensor<T> xp(ad::Shape{1, 5}, std::vector<T>{3, 5, 7, -2, 1});
  const Attribution<T> exact = run("shapley", prod, xp, Baseline<T>::zero(), product_target());
  const Attribution<T> all = run("kernelshap", prod, xp, Baseline<T>::zero(), product_target(), {{"samples", "30"}});
  for (int64_t j = 0; j < 5; ++j) CHECK(all.values[j] == doctest::Approx(exact.values[j]).epsilon(1e-10));
  const Attribution<T> s1 = run("kernelshap", prod, xp, Baseline<T>::zero(), product_target(), {{"samples", "12"}, {"seed", "7"}});
  const Attribution<T> s2 = run("kernelshap", prod, xp, Baseline<T>::zero(), product_target(), {{"samples", "12"}, {"seed", "7"}});
  for (int64_t j = 0; j < 5; ++j) CHECK(std::memcmp(s1.values.data() + j, s2.values.data() + j, sizeof(T)) == 0);
  CHECK(std::abs(s1.deltas[0]) < 1e-9);
  CHECK_THROWS_WITH_AS(run("kernelshap", model, x, Baseline<T>::zero(), Target<T>::of(0), {{"samples", "2"}}), doctest::Contains("use more --samples"),
                       std::invalid_argument);
}

namespace {

// A model with 5 inputs, 2 outputs and an interaction through the product target; its own weights.
nn::Model<T> product_model() {
  auto prod = nn::parse_architecture<T>("Linear(5, 2)", ad::Shape{5}, nn::InputDtype::float64, 1);
  auto params = prod.layers[0]->parameters();
  const std::vector<T> wp{1, 0.5, 0, -1, 0, 0, 1, 2, 0.5, 1};
  for (int64_t k = 0; k < 10; ++k) params[0]->value[k] = wp[size_t(k)];
  params[1]->value[0] = 0.25;
  params[1]->value[1] = -0.5;
  return prod;
}

bool same_bits(const ad::Tensor<T>& a, const ad::Tensor<T>& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), size_t(a.numel()) * sizeof(T)) == 0;
}

}  // namespace

TEST_CASE("shapley-sampling, lime and gradientshap give w·(x − x′) on a linear model") {
  const auto model = linear(4, 2, ad::Shape{4});
  const ad::Tensor<T> x(ad::Shape{2, 4}, std::vector<T>{1, -2, 3, 0.5, 0.25, 4, -1, 2});
  const ad::Tensor<T> b(ad::Shape{4}, std::vector<T>{0.5, 0.5, -1, 1});
  const auto& w = model.layers[0]->parameters()[0]->value;  // [2, 4]
  const std::vector<std::pair<std::string, std::map<std::string, std::string>>> runs{
      {"shapley-sampling", {{"samples", "3"}}}, {"lime", {{"samples", "40"}}}, {"gradientshap", {{"samples", "3"}}}};
  for (const auto& run_options : runs) {
    const auto& method = run_options.first;  // not a structured binding: clang 14 cannot capture one (CAPTURE)
    const auto& options = run_options.second;
    CAPTURE(method);
    const Attribution<T> a = run(method, model, x, Baseline<T>::of(b), Target<T>::of(1), options);
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 4; ++j) CHECK(a.values[i * 4 + j] == doctest::Approx(w.at({1, j}) * (x[i * 4 + j] - b[j])).epsilon(1e-10));
    if (method != "lime") {
      REQUIRE(a.deltas.size() == 2);
      for (double d : a.deltas) CHECK(std::abs(d) < 1e-12);
    }
  }
  // A set of baselines [K, 4] (K = 3 ≠ N = 2), all equal: the same as the one baseline; F(x′) their mean.
  ad::Tensor<T> set(ad::Shape{3, 4});
  for (int64_t k = 0; k < 3; ++k) std::copy(b.data(), b.data() + 4, set.data() + k * 4);
  const Attribution<T> one = run("gradientshap", model, x, Baseline<T>::of(b), Target<T>::of(1), {{"samples", "4"}});
  const Attribution<T> many = run("gradientshap", model, x, Baseline<T>::of(set), Target<T>::of(1), {{"samples", "4"}});
  for (int64_t j = 0; j < 8; ++j) CHECK(many.values[j] == doctest::Approx(one.values[j]).epsilon(1e-14));
  for (size_t i = 0; i < 2; ++i) CHECK(many.f_baseline[i] == doctest::Approx(one.f_baseline[i]).epsilon(1e-14));
  // Distinct baselines: each draw is w·(x − b_k), so the mean lies between; Σ A − (F(x) − mean F(b_k)) only in expectation.
  ad::Tensor<T> two(ad::Shape{3, 4});
  for (int64_t j = 0; j < 4; ++j) two[j] = 0, two[4 + j] = 2, two[8 + j] = 1;
  const Attribution<T> g = run("gradientshap", model, x, Baseline<T>::of(two), Target<T>::of(1), {{"samples", "400"}, {"seed", "1"}});
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 4; ++j) {
      const double lo = w.at({1, j}) * (x[i * 4 + j] - 2), hi = w.at({1, j}) * x[i * 4 + j];
      CHECK(g.values[i * 4 + j] >= std::min(lo, hi) - 1e-12);
      CHECK(g.values[i * 4 + j] <= std::max(lo, hi) + 1e-12);
      CHECK(g.values[i * 4 + j] == doctest::Approx(w.at({1, j}) * (x[i * 4 + j] - 1)).epsilon(0.1));
    }
  CHECK_THROWS_AS(run("gradientshap", model, x, Baseline<T>::of(ad::Tensor<T>(ad::Shape{3, 5})), Target<T>::of(1)), std::invalid_argument);
}

TEST_CASE("shapley-sampling: exact on additive models, efficiency exact, near shapley with many permutations; lime's Lasso shrinks") {
  const auto prod = product_model();
  const ad::Tensor<T> xp(ad::Shape{1, 5}, std::vector<T>{3, 5, 7, -2, 1});
  const Attribution<T> exact = run("shapley", prod, xp, Baseline<T>::zero(), product_target());
  const Attribution<T> few = run("shapley-sampling", prod, xp, Baseline<T>::zero(), product_target(), {{"samples", "3"}, {"seed", "2"}});
  CHECK(std::abs(few.deltas[0]) < 1e-9);  // every permutation telescopes to F(x) − F(x′)
  const Attribution<T> many = run("shapley-sampling", prod, xp, Baseline<T>::zero(), product_target(), {{"samples", "4000"}, {"seed", "2"}});
  double scale = 0;
  for (int64_t j = 0; j < 5; ++j) scale = std::max(scale, std::abs(exact.values[j]));
  for (int64_t j = 0; j < 5; ++j) CHECK(std::abs(many.values[j] - exact.values[j]) < 0.05 * scale);

  // LIME's Lasso: the penalty shrinks every coefficient towards 0, a large one zeroes them all.
  const auto model = linear(4, 1, ad::Shape{4});
  const ad::Tensor<T> x(ad::Shape{1, 4}, std::vector<T>{1, -2, 3, 0.5});
  const Attribution<T> ls = run("lime", model, x, Baseline<T>::zero(), Target<T>::of(0), {{"samples", "64"}});
  const Attribution<T> lasso = run("lime", model, x, Baseline<T>::zero(), Target<T>::of(0), {{"samples", "64"}, {"lime-alpha", "0.01"}});
  const Attribution<T> zero = run("lime", model, x, Baseline<T>::zero(), Target<T>::of(0), {{"samples", "64"}, {"lime-alpha", "100"}});
  for (int64_t j = 0; j < 4; ++j) {
    CHECK(std::abs(lasso.values[j]) < std::abs(ls.values[j]));
    CHECK(std::abs(lasso.values[j]) > 0.8 * std::abs(ls.values[j]));
    CHECK(zero.values[j] == 0.0);
  }
  CHECK_THROWS_WITH_AS(run("lime", model, x, Baseline<T>::zero(), Target<T>::of(0), {{"samples", "2"}}), doctest::Contains("use more"),
                       std::invalid_argument);
}

TEST_CASE("the sampling methods give the same bits for the same seed, other bits for another") {
  const auto prod = product_model();
  const ad::Tensor<T> xp(ad::Shape{2, 5}, std::vector<T>{3, 5, 7, -2, 1, 1, -1, 2, 0.5, 4});
  for (const std::string method : {"shapley-sampling", "lime", "gradientshap", "kernelshap"}) {
    CAPTURE(method);
    std::map<std::string, std::string> o{{"samples", "20"}, {"seed", "11"}};
    if (method == "gradientshap") o["stdev"] = "0.3";
    const Baseline<T> b = Baseline<T>::constant(0.5);
    const Attribution<T> a = run(method, prod, xp, b, product_target(), o);
    const Attribution<T> again = run(method, prod, xp, b, product_target(), o);
    CHECK(same_bits(a.values, again.values));
    o["seed"] = "12";
    CHECK_FALSE(same_bits(a.values, run(method, prod, xp, b, product_target(), o).values));
  }
}

TEST_CASE("the axiom matrix: exact shapley satisfies efficiency, dummy and symmetry; a broken variant fails them") {
  // A small ReLU network: 3 inputs (room for the dummy check's extra one under shapley's limit).
  auto model = nn::parse_architecture<T>("Linear(3, 4); ReLU(); Linear(4, 2)", ad::Shape{3}, nn::InputDtype::float64, 7);
  const ad::Tensor<T> x(ad::Shape{2, 3}, std::vector<T>{1, -0.5, 2, 0.3, 1.5, -1});
  const ad::Tensor<T> b(x.shape());
  const auto methods = matrix_methods(model);
  auto find = [&](const std::vector<MatrixRow>& rows, const std::string& method, const std::string& axiom) {
    for (const auto& r : rows)
      if (r.method == method)
        for (const auto& c : r.checks)
          if (c.name == axiom) return c;
    FAIL("no cell " << method << "/" << axiom);
    return CheckResult{};
  };
  const auto rows = axiom_matrix(model, methods, x, b, {});
  for (const std::string method : {"shapley", "kernelshap", "shapley-sampling", "occlusion", "ablation", "lime", "gradientshap"}) {
    CAPTURE(method);
    for (const auto& r : rows)
      if (r.method == method)
        for (const auto& c : r.checks)
          if (must_satisfy(r, c.name)) CHECK_MESSAGE(c.passed, c.name << ": " << c.detail);
  }
  for (const std::string axiom : {"completeness", "dummy", "symmetry", "linearity"}) CHECK(find(rows, "shapley", axiom).passed);
  CHECK(find(rows, "shapley", "completeness").figure < 1e-12);

  // Broken: every value scaled by 1.5 except the first feature's, which also leaks 0.1 of F(x)
  // into the last feature (a dummy there gets a share).
  const auto shapley = std::find_if(methods.begin(), methods.end(), [](const NamedMethod<T>& m) { return m.name == "shapley"; });
  REQUIRE(shapley != methods.end());
  NamedMethod<T> broken{"broken-shapley", [fn = shapley->fn](const nn::Model<T>& m, const ad::Tensor<T>& xx, const ad::Tensor<T>& bb, const Target<T>& t) {
                          ad::Tensor<T> a = fn(m, xx, bb, t);
                          const int64_t row = xx.shape().stride(0);
                          for (int64_t i = 0; i < xx.size(0); ++i) {
                            for (int64_t j = 1; j < row; ++j) a[i * row + j] *= T(1.5);
                            a[i * row + row - 1] += T(0.1);
                          }
                          return a;
                        },
                        shapley->guarantees};
  const auto bad = axiom_matrix(model, std::vector<NamedMethod<T>>{broken}, x, b, {});
  CHECK_FALSE(find(bad, "broken-shapley", "completeness").passed);
  CHECK_FALSE(find(bad, "broken-shapley", "dummy").passed);
  CHECK_FALSE(find(bad, "broken-shapley", "symmetry").passed);
}

TEST_CASE("the tables run a perturbation method only where it is affordable, and say why where not") {
  auto names = [](const nn::Model<T>& model) {
    std::set<std::string> out;
    for (const auto& m : matrix_methods(model))
      if (m.left_out.empty()) out.insert(m.name);
    return out;
  };
  const auto small = names(linear(4, 2, ad::Shape{4}));
  for (const std::string m : {"occlusion", "ablation", "shapley", "kernelshap", "shapley-sampling", "lime", "gradientshap"}) CHECK(small.count(m) == 1);
  const auto wide = names(linear(16, 2, ad::Shape{16}));
  CHECK(wide.count("shapley") == 0);  // the dummy check's 17th input would exceed its 16 groups
  CHECK(wide.count("kernelshap") == 1);
  const auto image = names(linear(784, 2, ad::Shape{1, 28, 28}, "Flatten(); "));
  for (const std::string m : {"occlusion", "ablation", "shapley", "kernelshap", "shapley-sampling", "lime"}) CHECK(image.count(m) == 0);
  CHECK(image.count("gradientshap") == 1);
}

TEST_CASE("kernelshap's sampled coalitions: distinct, by size, weights summing to the kernel's mass, the same for a seed") {
  for (const auto& m_samples : std::vector<std::pair<size_t, int64_t>>{{6, 30}, {6, 61}, {10, 1000}, {10, 100}, {16, 200}, {49, 200}, {2, 1}}) {
    const size_t m = m_samples.first;  // not a structured binding: clang 14 cannot capture one (CAPTURE)
    const int64_t samples = m_samples.second;
    CAPTURE(m);
    CAPTURE(samples);
    const Coalitions c = sampled_coalitions(m, samples, 5);
    CHECK(int64_t(c.keep.size()) == samples);
    CHECK(std::set<std::vector<char>>(c.keep.begin(), c.keep.end()).size() == c.keep.size());  // no repeats
    double total = 0, mass = 0;
    for (size_t s = 1; s < m; ++s) mass += double(m - 1) / (double(s) * double(m - s));
    for (size_t k = 0; k < c.keep.size(); ++k) {
      const size_t size = size_t(std::count(c.keep[k].begin(), c.keep[k].end(), 1));
      CHECK((size >= 1 && size < m));
      total += c.weight[k];
    }
    CHECK(total == doctest::Approx(mass).epsilon(1e-12));
    CHECK(sampled_coalitions(m, samples, 5).keep == c.keep);
    if (m > 6) CHECK(sampled_coalitions(m, samples, 6).keep != c.keep);
  }
  // 30 of the 62 coalitions of 6 groups: sizes 1 and 5 (12 coalitions) fit their share and are all there.
  const Coalitions c = sampled_coalitions(6, 30, 1);
  int64_t edge = 0;
  for (const auto& k : c.keep) edge += std::count(k.begin(), k.end(), 1) % 4 == 1;  // size 1 or 5
  CHECK(edge == 12);
}

TEST_CASE("for_each_example: every example once, and a serial loop's exception") {
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    std::vector<int> seen(100, 0);
    nn::for_each_example(100, [&](int64_t i) { seen[size_t(i)] += 1; });
    CHECK(std::count(seen.begin(), seen.end(), 1) == 100);
    // Examples 30 and 70 fail: whichever a thread meets first, example 30's error is raised.
    for (int repeat = 0; repeat < 20; ++repeat) {
      try {
        nn::for_each_example(100, [](int64_t i) {
          if (i == 30 || i == 70) throw std::invalid_argument("example " + std::to_string(i));
        });
        FAIL("no exception");
      } catch (const std::invalid_argument& e) {
        CHECK(std::string(e.what()) == "example 30");
      }
    }
  }
  omp_set_num_threads(saved);
}

TEST_CASE("kernelshap and the sampling methods: the same bits with 1 and 2 threads") {
  auto cnn = nn::parse_architecture<T>("Conv2d(1, 32, 5, padding=2); ReLU(); Flatten(); Linear(8192, 3)", ad::Shape{1, 16, 16}, nn::InputDtype::float64, 4);
  // Examples run side by side (for_each_example), each with the same kernels as alone: Linear's
  // k = 8192 takes the GEMM's split-k path whether or not it runs inside a parallel region.
  ad::Rng rng(3);
  const ad::Tensor<T> x = ad::Tensor<T>::uniform(ad::Shape{2, 1, 16, 16}, rng, -1, 1);
  std::vector<int64_t> ids(256);
  for (int64_t k = 0; k < 256; ++k) ids[size_t(k)] = (k / 16 / 4) * 4 + (k % 16) / 4;  // 16 patches of 4×4
  const std::string mask = temp_mask("threads", ids, ad::Shape{1, 16, 16});
  const int saved = omp_get_max_threads();
  for (const std::string method : {"kernelshap", "shapley-sampling", "lime"}) {
    CAPTURE(method);
    auto at = [&](int threads) {
      omp_set_num_threads(threads);
      return run(method, cnn, x, Baseline<T>::zero(), Target<T>::of(1), {{"samples", "100"}, {"seed", "9"}, {"feature-mask", mask}}).values;
    };
    const ad::Tensor<T> one = at(1), two = at(2);
    CHECK(same_bits(one, two));
  }
  omp_set_num_threads(saved);
  std::remove(mask.c_str());
}

TEST_CASE("the gradient methods: the same bits with 1, 2 or 3 threads and any batch size") {
  // gradients_and_values cuts a batch into parts of 64 rows, each on a tape of its own, shared
  // among threads: 150 images make 3 parts, IG's 150 × 8 path points 19.
  auto cnn = nn::parse_architecture<T>("Conv2d(1, 4, 3, padding=1); ReLU(); MaxPool2d(2); Flatten(); Linear(64, 3)", ad::Shape{1, 8, 8},
                                       nn::InputDtype::float64, 5);
  ad::Rng rng(4);
  const ad::Tensor<T> x = ad::Tensor<T>::uniform(ad::Shape{150, 1, 8, 8}, rng, -1, 1);
  const int saved = omp_get_max_threads();
  for (const std::string method : {"gradient", "saliency", "gradxinput", "ig", "smoothgrad"}) {
    CAPTURE(method);
    auto at = [&](int threads) {
      omp_set_num_threads(threads);
      const std::map<std::string, std::string> options = method == "ig" ? std::map<std::string, std::string>{{"steps", "8"}} : std::map<std::string, std::string>{};
      return run(method, cnn, x, Baseline<T>::zero(), Target<T>::predicted(), options);
    };
    const Attribution<T> one = at(1), two = at(2), three = at(3);
    CHECK(same_bits(one.values, two.values));
    CHECK(same_bits(one.values, three.values));
    CHECK(one.f_input == two.f_input);
    CHECK(one.f_input == three.f_input);
    // Batches of 7 examples (IG: 56 path points, a part of its own each time) change nothing either.
    std::map<std::string, std::string> small = {{"batch-size", "7"}};
    if (method == "ig") small["steps"] = "8";
    CHECK(same_bits(one.values, run(method, cnn, x, Baseline<T>::zero(), Target<T>::predicted(), small).values));
  }
  omp_set_num_threads(saved);
}

TEST_CASE("--patch K: K×K superpixels shared by the channels, smaller at the edges, the same as the equivalent mask; refused with a mask or on flat inputs") {
  ad::Rng rng(4);
  auto cnn = nn::parse_architecture<T>("Conv2d(2, 3, 3); ReLU(); Flatten(); Linear(75, 2)", ad::Shape{2, 7, 7}, nn::InputDtype::float64, 2);
  const ad::Tensor<T> x = ad::Tensor<T>::uniform(ad::Shape{2, 2, 7, 7}, rng, -1, 1);
  // K = 3 on 7×7: columns and rows 0-2, 3-5, 6 → 9 patches, of 9, 3 and 1 pixels per channel.
  std::vector<int64_t> ids(2 * 49);
  for (int64_t k = 0; k < 98; ++k) ids[size_t(k)] = 10 + 2 * (((k % 49) / 7 / 3) * 3 + (k % 7) / 3);  // ascending with the patch number: the same group order
  const std::string mask = temp_mask("patch", ids, ad::Shape{2, 7, 7});
  for (const std::string method : {"ablation", "shapley", "kernelshap"}) {
    CAPTURE(method);
    const Attribution<T> by_patch = run(method, cnn, x, Baseline<T>::constant(0.1), Target<T>::of(1), {{"patch", "3"}});
    const Attribution<T> by_mask = run(method, cnn, x, Baseline<T>::constant(0.1), Target<T>::of(1), {{"feature-mask", mask}});
    CHECK(same_bits(by_patch.values, by_mask.values));
    std::set<T> distinct(by_patch.values.data(), by_patch.values.data() + 98);
    CHECK(distinct.size() <= 9);
    CHECK(by_patch.values[6] == by_patch.values[49 + 6 * 7 + 6 - 42]);  // pixel (0, 6) of channel 0 and 1: the same patch
    if (method != "ablation")  // completeness counts each group once
      for (double d : by_patch.deltas) CHECK(std::abs(d) < 1e-10);
  }
  CHECK_THROWS_WITH_AS(run("ablation", cnn, x, Baseline<T>::zero(), Target<T>::of(0), {{"patch", "3"}, {"feature-mask", mask}}),
                       doctest::Contains("give one"), std::invalid_argument);
  const auto model = linear(4, 2, ad::Shape{4});
  const ad::Tensor<T> flat(ad::Shape{1, 4}, std::vector<T>{1, 2, 3, 4});
  CHECK_THROWS_WITH_AS(run("ablation", model, flat, Baseline<T>::zero(), Target<T>::of(0), {{"patch", "2"}}), doctest::Contains("--patch needs image inputs"),
                       std::invalid_argument);
  std::remove(mask.c_str());
}
