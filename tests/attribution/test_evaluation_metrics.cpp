// The faithfulness and localisation metrics of the metric registry (deletion, insertion,
// infidelity, relevance mass, pointing game): for each, an analytic case it gets right and one it
// must score badly.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "attribution/evaluation/deletion.h"
#include "attribution/evaluation/given_perturbations.h"
#include "attribution/evaluation/method_table.h"
#include "attribution/evaluation/sanity.h"
#include "attribution/metric.h"
#include "nn/architecture.h"
#include "nn/npy.h"

using namespace integrad;
using namespace integrad::attr;

namespace {
using T = double;

// Linear(in, out) with the given weight [out, in] (row-major) and zero bias.
nn::Model<T> linear(int64_t in, int64_t out, std::vector<T> weight) {
  auto model = nn::parse_architecture<T>(fmt::format("Linear({}, {})", in, out), ad::Shape{in}, nn::InputDtype::float64, 1);
  auto params = model.named_parameters();
  params[0].second->value = ad::Tensor<T>(ad::Shape{out, in}, std::move(weight));
  params[1].second->value = ad::Tensor<T>(ad::Shape{out}, T(0));
  return model;
}

std::vector<double> score(const std::string& metric, const nn::Model<T>& model, const ad::Tensor<T>& x, const ad::Tensor<T>& a,
                          const std::map<std::string, std::string>& options = {}, Target<T> target = Target<T>::of(0)) {
  const Metric<T>& m = find_metric<T>(metric);
  const Options o = parse_options(m.name, m.options, options);
  const Baseline<T> zero = Baseline<T>::zero();
  return m.score({model, x, a, zero, target, o});
}

double sigmoid(double z) { return 1 / (1 + std::exp(-z)); }

// A temporary .npy holding a mask, removed at the end of the test.
struct TempMask {
  std::string path;
  TempMask(const ad::Tensor<T>& mask, const std::string& name) : path((std::filesystem::temp_directory_path() / name).string()) { nn::npy_write(path, mask); }
  ~TempMask() { std::remove(path.c_str()); }
};
}  // namespace

// logits = (x0 + x1, 0), so the class-0 probability is σ(x0 + x1); x = (1, 2), baseline 0, K = 2.
TEST_CASE("deletion and insertion: the trapezoid area under the probability curve, computed by hand") {
  const auto model = linear(2, 2, {1, 1, 0, 0});
  const ad::Tensor<T> x(ad::Shape{1, 2}, std::vector<T>{1, 2});
  const ad::Tensor<T> good(ad::Shape{1, 2}, std::vector<T>{1, 2});      // x1 first: the right order
  const ad::Tensor<T> reversed(ad::Shape{1, 2}, std::vector<T>{2, 1});  // x0 first
  const std::map<std::string, std::string> k2{{"steps", "2"}};
  // Deletion, good order: p = σ(3), σ(1) (x1 gone), σ(0) (both gone); area = Σ (p_{k−1} + p_k) / (2K).
  const double del_good = (sigmoid(3) + sigmoid(1)) / 4 + (sigmoid(1) + 0.5) / 4;
  const double del_reversed = (sigmoid(3) + sigmoid(2)) / 4 + (sigmoid(2) + 0.5) / 4;
  CHECK(score("deletion", model, x, good, k2)[0] == doctest::Approx(del_good).epsilon(1e-14));
  CHECK(score("deletion", model, x, reversed, k2)[0] == doctest::Approx(del_reversed).epsilon(1e-14));
  CHECK(del_good < del_reversed);  // deletion: lower is better, and the wrong order loses
  // Insertion, good order: p = σ(0), σ(2) (x1 back), σ(3).
  const double ins_good = (0.5 + sigmoid(2)) / 4 + (sigmoid(2) + sigmoid(3)) / 4;
  const double ins_reversed = (0.5 + sigmoid(1)) / 4 + (sigmoid(1) + sigmoid(3)) / 4;
  CHECK(score("insertion", model, x, good, k2)[0] == doctest::Approx(ins_good).epsilon(1e-14));
  CHECK(score("insertion", model, x, reversed, k2)[0] == doctest::Approx(ins_reversed).epsilon(1e-14));
  CHECK(ins_good > ins_reversed);
  CHECK_FALSE(find_metric<T>("deletion").higher_is_better);
  CHECK(find_metric<T>("insertion").higher_is_better);

  // Ties: lower flat index first, so an all-equal map deletes x0 first, as `reversed` does.
  const ad::Tensor<T> flat(ad::Shape{1, 2}, std::vector<T>{5, 5});
  CHECK(score("deletion", model, x, flat, k2)[0] == doctest::Approx(del_reversed).epsilon(1e-14));
  // A NaN attribution sorts last, as −∞: (NaN, 1) deletes x1 first, as `good` does.
  const ad::Tensor<T> nan_first(ad::Shape{1, 2}, std::vector<T>{std::nan(""), 1});
  CHECK(score("deletion", model, x, nan_first, k2)[0] == doctest::Approx(del_good).epsilon(1e-14));
  // The curve itself: K + 1 points, and the default K is 20.
  const auto curves = perturbation_curves<T>(model, x, good, Baseline<T>::zero(), {0}, 2, CurveKind::deletion);
  REQUIRE(curves.size() == 1);
  REQUIRE(curves[0].size() == 3);
  CHECK(curves[0][1] == doctest::Approx(sigmoid(1)).epsilon(1e-14));
  CHECK(curve_area({1.0, 0.0}) == 0.5);
  CHECK(find_metric<T>("deletion").options.at(0).default_value == "20");
}

TEST_CASE("infidelity: the gradient of a linear model scores 0, a shuffled map S²·‖a − w‖² on average") {
  // F_0(x) = w·x, so F(x) − F(x − I) = w·I exactly and a = w explains every perturbation.
  const auto model = linear(4, 2, {1, -2, 3, 0.5, 0, 0, 0, 0});
  const ad::Tensor<T> x(ad::Shape{2, 4}, std::vector<T>{1, 2, 3, 4, -1, 0.5, 2, -3});
  const ad::Tensor<T> gradient(ad::Shape{2, 4}, std::vector<T>{1, -2, 3, 0.5, 1, -2, 3, 0.5});
  const auto exact = score("infidelity", model, x, gradient, {{"samples", "50"}, {"noise", "0.5"}});
  REQUIRE(exact.size() == 2);
  CHECK(exact[0] < 1e-24);
  CHECK(exact[1] < 1e-24);
  CHECK_FALSE(find_metric<T>("infidelity").higher_is_better);

  // Shuffled: a − w = (2, 2.5, −2, −2.5), and E[(Σ (a − w)·I)²] = S²·‖a − w‖².
  const ad::Tensor<T> shuffled(ad::Shape{1, 4}, std::vector<T>{3, 0.5, 1, -2});  // w permuted
  const ad::Tensor<T> x1 = x.rows(0, 1);
  const double expected = 0.25 * (2 * 2 + 2.5 * 2.5 + 2 * 2 + 2.5 * 2.5);
  const double got = score("infidelity", model, x1, shuffled, {{"samples", "20000"}, {"noise", "0.5"}, {"seed", "3"}})[0];
  CHECK(got == doctest::Approx(expected).epsilon(0.05));  // 20000 samples of a χ²₁·σ²: relative s.e. √(2/20000) = 1%
  // Deterministic for a seed; another seed draws other noise.
  CHECK(score("infidelity", model, x1, shuffled, {{"seed", "3"}})[0] == score("infidelity", model, x1, shuffled, {{"seed", "3"}})[0]);
  CHECK(score("infidelity", model, x1, shuffled, {{"seed", "3"}})[0] != score("infidelity", model, x1, shuffled, {{"seed", "4"}})[0]);
}

TEST_CASE("faithfulness correlation: gradient×input of a linear model correlates 1, a shuffled map as much as it agrees with it") {
  // F_0(x) = w·x and a zero baseline: setting S to 0 drops F by Σ_S w_j·x_j = Σ_S a_j for a = w⊙x, whatever S.
  const std::vector<T> w{1, -2, 3, 0.5, 2, -1};
  const auto model = linear(6, 2, {1, -2, 3, 0.5, 2, -1, 0, 0, 0, 0, 0, 0});
  const ad::Tensor<T> x(ad::Shape{1, 6}, std::vector<T>{1, 2, 3, 4, -1, 0.5});
  const std::vector<T> gxi{1, -4, 9, 2, -2, -0.5};
  const ad::Tensor<T> a(ad::Shape{1, 6}, gxi);
  const std::map<std::string, std::string> s3{{"subset-size", "3"}, {"samples", "50"}};
  CHECK(score("faithfulness-correlation", model, x, a, s3)[0] == doctest::Approx(1).epsilon(1e-12));
  CHECK(find_metric<T>("faithfulness-correlation").higher_is_better);
  // The negated map is exactly anti-correlated.
  const ad::Tensor<T> negated(ad::Shape{1, 6}, std::vector<T>{-1, 4, -9, -2, 2, 0.5});
  CHECK(score("faithfulness-correlation", model, x, negated, s3)[0] == doctest::Approx(-1).epsilon(1e-12));

  // A shuffled map b: over random subsets of a fixed size, Cov(Σ_S a, Σ_S b) is a constant times
  // Σ_j (a_j − ā)(b_j − b̄) (and likewise the variances), so with many runs the score tends to the
  // Pearson correlation of b with a over the features: here about 0.
  const std::vector<double> shuffled{-4, 2, -0.5, 9, -2, 1};  // gxi permuted, nearly uncorrelated with it
  const double expected = pearson(std::vector<double>(gxi.begin(), gxi.end()), shuffled);
  CHECK(std::abs(expected) < 0.01);
  const ad::Tensor<T> b(ad::Shape{1, 6}, std::vector<T>(shuffled.begin(), shuffled.end()));
  const double got = score("faithfulness-correlation", model, x, b, {{"subset-size", "3"}, {"samples", "20000"}, {"seed", "5"}})[0];
  CHECK(got == doctest::Approx(expected).scale(1).epsilon(0.02));  // 20000 runs: s.e. of r about (1 − r²)/√20000 < 0.01
  CHECK(std::abs(got) < 0.05);

  // --subset-fraction 0.5 of 6 features is --subset-size 3: the same subsets for the same seed.
  CHECK(score("faithfulness-correlation", model, x, b, {{"subset-fraction", "0.5"}, {"seed", "2"}})[0] ==
        score("faithfulness-correlation", model, x, b, {{"subset-size", "3"}, {"seed", "2"}})[0]);
  CHECK(score("faithfulness-correlation", model, x, b, {{"seed", "2"}})[0] != score("faithfulness-correlation", model, x, b, {{"seed", "3"}})[0]);
  // A constant map has no correlation to speak of: NaN, as scipy's pearsonr.
  const ad::Tensor<T> flat(ad::Shape{1, 6}, T(1));
  CHECK(std::isnan(score("faithfulness-correlation", model, x, flat, s3)[0]));
  // The given-subsets entry point: one subset {2} and one {0, 1}: drops 9 and −3, sums 9 and −3.
  CHECK(faithfulness_correlation_given<T>(model, x, a, ad::Tensor<T>(x.shape(), T(0)), 0, {{2}, {0, 1}, {3}}) == doctest::Approx(1).epsilon(1e-12));
}

TEST_CASE("randomisation: the map of a re-initialised model scores 1 (the check fails); the trained gradient its rank correlation with the new weights") {
  // F_0(x) = w·x: the gradient is w, and on the re-initialised model it is that model's first row.
  const auto model = linear(6, 2, {1, -2, 3, 0.5, 2, -1, 0, 0, 0, 0, 0, 0});
  const ad::Tensor<T> x(ad::Shape{2, 6}, std::vector<T>{1, 2, 3, 4, -1, 0.5, 0.5, 1, -1, 2, 1, 1});
  const auto random = randomized_model(model, 7);
  const ad::Tensor<T>& w_random = random.named_parameters()[0].second->value;
  std::vector<T> rows;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 6; ++j) rows.push_back(w_random[j]);
  const ad::Tensor<T> ignores_training(ad::Shape{2, 6}, rows);  // what a map blind to the weights would show
  const std::map<std::string, std::string> o{{"method", "gradient"}, {"seed", "7"}};
  const auto blind = score("randomisation", model, x, ignores_training, o);
  CHECK(blind[0] == doctest::Approx(1).epsilon(1e-12));
  CHECK(blind[1] == doctest::Approx(1).epsilon(1e-12));
  CHECK_FALSE(find_metric<T>("randomisation").higher_is_better);

  // The trained gradient w: Spearman of |w| with |w′| (the re-initialised first row), by hand.
  const std::vector<T> w{1, -2, 3, 0.5, 2, -1};
  const ad::Tensor<T> gradient(ad::Shape{2, 6}, std::vector<T>{1, -2, 3, 0.5, 2, -1, 1, -2, 3, 0.5, 2, -1});
  std::vector<double> abs_w, abs_r, sw, sr;
  for (int j = 0; j < 6; ++j) abs_w.push_back(std::abs(w[j])), abs_r.push_back(std::abs(double(w_random[j]))), sw.push_back(w[j]), sr.push_back(double(w_random[j]));
  const auto trained = score("randomisation", model, x, gradient, o);
  CHECK(trained[0] == doctest::Approx(spearman(abs_w, abs_r)).epsilon(1e-12));
  CHECK(trained[0] < 0.99);
  std::map<std::string, std::string> signed_o = o;
  signed_o["signed"] = "true";
  CHECK(score("randomisation", model, x, gradient, signed_o)[0] == doctest::Approx(spearman(sw, sr)).epsilon(1e-12));
  // Another seed, other weights.
  CHECK(randomized_model(model, 8).named_parameters()[0].second->value[0] != w_random[0]);
}

TEST_CASE("the methods × metrics table: the registry's scores per cell, the mean curves, the progress, the best per column") {
  const auto model = linear(2, 2, {1, 1, 0, 0});
  const ad::Tensor<T> x(ad::Shape{2, 2}, std::vector<T>{1, 2, 3, -1});
  std::vector<std::pair<int64_t, int64_t>> calls;
  const auto table = method_table<T>(model, x, Baseline<T>::zero(), Target<T>::of(0), {"gradxinput", "occlusion", "saliency"}, {"deletion", "sparseness"},
                                     {{"steps", "2"}}, [&](int64_t done, int64_t total) { calls.emplace_back(done, total); });
  // occlusion needs --window: skipped with a note; the others are rows.
  REQUIRE(table.rows.size() == 2);
  REQUIRE(table.skipped.size() == 1);
  CHECK(table.skipped[0].find("occlusion") == 0);
  // Progress: 3 methods × (1 run + 2 metrics) = 9 steps, counted up to the total (the skipped method at once).
  REQUIRE(!calls.empty());
  CHECK(calls.back() == std::pair<int64_t, int64_t>{9, 9});
  for (size_t i = 1; i < calls.size(); ++i) CHECK(calls[i].first > calls[i - 1].first);
  // Each cell is the metric's own score of the method's map; the curve is the mean of the examples'.
  const ad::Tensor<T> gxi(ad::Shape{2, 2}, std::vector<T>{1, 2, 3, -1});
  CHECK(table.rows[0].scores[0] == score("deletion", model, x, gxi, {{"steps", "2"}}));
  CHECK(table.rows[0].scores[1] == score("sparseness", model, x, gxi));
  const auto curves = perturbation_curves<T>(model, x, gxi, Baseline<T>::zero(), {0, 0}, 2, CurveKind::deletion);
  REQUIRE(table.rows[0].deletion_curve.size() == 3);
  for (size_t k = 0; k < 3; ++k) CHECK(table.rows[0].deletion_curve[k] == doctest::Approx((curves[0][k] + curves[1][k]) / 2).epsilon(1e-15));
  CHECK(table.rows[0].insertion_curve.empty());  // insertion is not a column
  // Example 2: x = (3, −1): gradient×input (3, −1) removes x0 first, saliency |(1, 1)| ties and removes x0 too: same
  // deletion; on example 1 gradient×input (1, 2) removes x1 first, saliency x0: gradient×input is the better.
  CHECK(summarise(table.rows[0].scores[0]).mean < summarise(table.rows[1].scores[0]).mean);
  CHECK(table.is_best(0, 0));
  CHECK_FALSE(table.is_best(1, 0));
}

TEST_CASE("relevance mass and the pointing game: a map equal to the mask scores 1, a map outside it 0") {
  const auto model = linear(4, 2, {1, 1, 1, 1, 0, 0, 0, 0});
  const ad::Tensor<T> x(ad::Shape{3, 4}, T(1));
  const ad::Tensor<T> mask(ad::Shape{3, 4}, std::vector<T>{1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0});
  const TempMask file(mask, "integrad_test_mask.npy");
  const ad::Tensor<T> a(ad::Shape{3, 4}, std::vector<T>{1, 1, 0, 0,     // the mask itself
                                                        0, 0, 2, 1,     // outside it
                                                        3, -5, 4, 0});  // 3 of 7 positive inside; the top (4) outside
  const auto mass = score("relevance-mass", model, x, a, {{"mask", file.path}});
  const auto hit = score("pointing-game", model, x, a, {{"mask", file.path}});
  REQUIRE(mass.size() == 3);
  CHECK(mass[0] == 1.0);
  CHECK(mass[1] == 0.0);
  CHECK(mass[2] == doctest::Approx(3.0 / 7.0).epsilon(1e-15));  // the −5 is clipped, not subtracted
  CHECK(hit == std::vector<double>{1.0, 0.0, 0.0});
  CHECK(find_metric<T>("relevance-mass").higher_is_better);
  CHECK(find_metric<T>("pointing-game").higher_is_better);

  // A mask of the wrong shape, a mask not 0/1, and no mask are refused by name.
  const TempMask small(ad::Tensor<T>(ad::Shape{3, 2}, T(1)), "integrad_test_mask_small.npy");
  CHECK_THROWS_WITH_AS(score("relevance-mass", model, x, a, {{"mask", small.path}}),
                       doctest::Contains("has shape [3, 2]; expected the inputs' shape [3, 4]"), std::invalid_argument);
  const TempMask halves(ad::Tensor<T>(ad::Shape{3, 4}, T(0.5)), "integrad_test_mask_halves.npy");
  CHECK_THROWS_WITH_AS(score("pointing-game", model, x, a, {{"mask", halves.path}}), doctest::Contains("a mask holds only 0 and 1"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(score("pointing-game", model, x, a), "pointing-game needs --mask GT.npy (0/1, the inputs' shape)", std::invalid_argument);
}

TEST_CASE("the metrics refuse a map that is not the inputs' shape") {
  const auto model = linear(2, 2, {1, 1, 0, 0});
  const ad::Tensor<T> x(ad::Shape{1, 2}, T(1));
  const ad::Tensor<T> a(ad::Shape{1, 3}, T(1));
  CHECK_THROWS_WITH_AS(score("deletion", model, x, a), "deletion: the attributions have shape [1, 3]; expected the inputs' shape [1, 2]", std::invalid_argument);
}

TEST_CASE("sensitivity-max: the gradient of a linear model does not move (0); gradient×input moves by at most R·‖w‖/‖w⊙x‖") {
  const auto model = linear(3, 2, {1, -2, 4, 0, 0, 0});
  const ad::Tensor<T> x(ad::Shape{1, 3}, std::vector<T>{1, 2, 3});
  const ad::Tensor<T> gradient(ad::Shape{1, 3}, std::vector<T>{1, -2, 4});
  CHECK(score("sensitivity-max", model, x, gradient, {{"method", "gradient"}, {"radius", "0.1"}})[0] < 1e-15);
  // Φ(x′) − Φ(x) = w ⊙ (x′ − x) with |x′ − x| ≤ R per element: the ratio lies in (0, R·‖w‖ / ‖w ⊙ x‖].
  const ad::Tensor<T> gxi(ad::Shape{1, 3}, std::vector<T>{1, -4, 12});
  const double s = score("sensitivity-max", model, x, gxi, {{"method", "gradxinput"}, {"radius", "0.1"}, {"samples", "50"}})[0];
  const double bound = 0.1 * std::sqrt(1.0 + 4 + 16) / std::sqrt(1.0 + 16 + 144);
  CHECK(s > 0.3 * bound);  // 50 draws of the max come near the corner
  CHECK(s <= bound * (1 + 1e-12));
  CHECK_FALSE(find_metric<T>("sensitivity-max").higher_is_better);
}

TEST_CASE("sanity checks: Spearman per example, averaged, as Adebayo et al. do; examples whose trained map is constant left out") {
  // Pooled over the batch, the ranks compare examples with each other: each example's order is
  // reversed here (Spearman −1), yet the pooled correlation is high because the second example's
  // values are all larger in both maps.
  const ad::Tensor<T> trained(ad::Shape{2, 4}, std::vector<T>{1, 2, 3, 4, 10, 20, 30, 40});
  const ad::Tensor<T> reversed(ad::Shape{2, 4}, std::vector<T>{4, 3, 2, 1, 40, 30, 20, 10});
  int64_t counted = 0;
  CHECK(mean_spearman(trained, reversed, true, &counted) == doctest::Approx(-1).epsilon(1e-12));
  CHECK(counted == 2);
  const std::vector<double> a(trained.span().begin(), trained.span().end()), b(reversed.span().begin(), reversed.span().end());
  CHECK(spearman(a, b) > 0.5);  // what the report plotted before
  // A trained map that is constant (Grad-CAM clipped to 0 everywhere) has no ranks: left out.
  const ad::Tensor<T> one_flat(ad::Shape{2, 4}, std::vector<T>{0, 0, 0, 0, 1, 2, 3, 4});
  CHECK(mean_spearman(one_flat, reversed, true, &counted) == doctest::Approx(-1).epsilon(1e-12));
  CHECK(counted == 1);
  CHECK(std::isnan(mean_spearman(ad::Tensor<T>(ad::Shape{2, 4}), reversed, true, &counted)));
  CHECK(counted == 0);
  // Signed: |A| and A differ where the signs do.
  const ad::Tensor<T> signed_map(ad::Shape{1, 4}, std::vector<T>{-4, 1, 2, 3}), same_abs(ad::Shape{1, 4}, std::vector<T>{4, 1, 2, 3});
  CHECK(mean_spearman(signed_map, same_abs, true) == doctest::Approx(1).epsilon(1e-12));
  CHECK(mean_spearman(signed_map, same_abs, false) < 0.5);

  // The whole check on a method whose map is one value per example, broadcast (Grad-CAM at a 1x1
  // layer): nothing to rank, NaN at every layer — pooled over two examples it scored ±1.
  const auto model = linear(3, 2, {1, -2, 3, 0.5, 2, -1});
  const ad::Tensor<T> x(ad::Shape{2, 3}, std::vector<T>{1, 2, 3, -1, 0.5, 2});
  const ExplainFn<T> constant_per_example = [](const nn::Model<T>& m, const ad::Tensor<T>& xs, const ad::Tensor<T>&, const Target<T>&) {
    const ad::Tensor<T> y = m.predict(xs);
    ad::Tensor<T> out(xs.shape());
    for (int64_t i = 0; i < xs.size(0); ++i)
      for (int64_t j = 0; j < xs.size(1); ++j) out[i * xs.size(1) + j] = y[i * 2];
    return out;
  };
  const ExplainFn<T> gradient_fn = [](const nn::Model<T>& m, const ad::Tensor<T>& xs, const ad::Tensor<T>&, const Target<T>& t) {
    return explain(find_method<T>("gradient"), m, xs, Baseline<T>::zero(), t, parse_options("gradient", find_method<T>("gradient").options, {})).values;
  };
  const auto points = sanity_checks(model, {{"constant", constant_per_example}, {"gradient", gradient_fn}}, x, ad::Tensor<T>(x.shape()), 3);
  REQUIRE(points.size() == 4);  // one weighted layer, cascading and independent, two methods
  for (const SanityPoint& p : points) {
    CAPTURE(p.method);
    if (p.method == "constant") {
      CHECK(std::isnan(p.spearman_abs));
      CHECK(p.examples == 0);
    } else {
      // The gradient is the target's weight row, the same for both examples: the mean is that row's correlation.
      CHECK(p.examples == 2);
      const Target<T> t = Target<T>::each(resolve_targets(forward_of(model), x, Target<T>::predicted()));  // the trained model's classes
      CHECK(p.spearman_abs == doctest::Approx(mean_spearman(gradient_fn(model, x, x, t), gradient_fn(randomized_model(model, 3), x, x, t), true)).epsilon(1e-12));
    }
  }
}
