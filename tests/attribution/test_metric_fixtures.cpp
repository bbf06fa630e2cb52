// Every metric against a reference computed in PyTorch, float64 (tests/data/make_metric_fixtures.py,
// numbers in tests/data/metrics/): a CNN [1, 8, 8] → 4 classes, 4 inputs, fixed random maps, the
// predicted classes. What is compared:
// - deletion, insertion (the curves and their areas, K = 5), relevance mass, pointing game,
//   sparseness: through the registry, as `integrad evaluate` scores them;
// - infidelity and sensitivity-max: Captum's functions, fed the script's saved noise through a
//   perturb_func, against integrad's infidelity_given / sensitivity_max_given on the same noise
//   (Φ = the gradient; the scored map is the gradient at x, which Captum recomputes itself);
// - faithfulness correlation: Quantus' loop written in PyTorch on the script's saved subsets
//   against faithfulness_correlation_given;
// - randomisation: scipy's Spearman between the trained model's gradient and that of a saved
//   second model, against randomisation_given with that model as the re-initialised one.
// The registry's metrics draw their perturbations from --seed instead; given_perturbations.h is
// what they call once the draws are made, so these tests cover the arithmetic they share.
#include <doctest/doctest.h>

#include <cmath>
#include <map>

#include "attribution/evaluation/deletion.h"
#include "attribution/evaluation/given_perturbations.h"
#include "attribution/metric.h"
#include "nn/model_file.h"
#include "nn/npy.h"

using namespace integrad;
using namespace integrad::attr;

namespace {
using T = double;
const std::string kDir = std::string(INTEGRAD_TEST_DATA) + "/metrics/";
constexpr double kTol = 1e-10;

ad::Tensor<T> load(const std::string& name) { return nn::npy_read_tensor<T>(kDir + name + ".npy"); }

struct Fixture {
  nn::Model<T> model = nn::load_model<T>(kDir + "model.safetensors");
  ad::Tensor<T> x = load("x"), a = load("attributions"), gradients = load("gradients");
  std::vector<int64_t> classes = nn::npy_read_labels(kDir + "classes.npy");
};

void check_close(const std::vector<double>& ours, const ad::Tensor<T>& reference, const std::string& what) {
  CAPTURE(what);
  REQUIRE(int64_t(ours.size()) == reference.numel());
  for (size_t i = 0; i < ours.size(); ++i) {
    CAPTURE(i);
    CHECK(ours[i] == doctest::Approx(double(reference[int64_t(i)])).epsilon(kTol).scale(1));
  }
}

std::vector<double> registry_score(const Fixture& f, const std::string& metric, const std::map<std::string, std::string>& options) {
  const Metric<T>& m = find_metric<T>(metric);
  const Options o = parse_options(m.name, m.options, options);
  const Baseline<T> zero = Baseline<T>::zero();
  const Target<T> predicted = Target<T>::predicted();
  return m.score({f.model, f.x, f.a, zero, predicted, o});
}
}  // namespace

TEST_CASE("metric fixtures: the deterministic metrics through the registry equal PyTorch's") {
  const Fixture f;
  // The predicted classes agree, so every metric scores the same output.
  const ad::Tensor<T> logits = f.model.predict(f.x);
  for (int64_t i = 0; i < f.x.size(0); ++i) {
    const T* row = logits.data() + i * logits.size(1);
    CHECK(int64_t(std::max_element(row, row + logits.size(1)) - row) == f.classes[size_t(i)]);
  }
  check_close(registry_score(f, "deletion", {{"steps", "5"}}), load("deletion"), "deletion");
  check_close(registry_score(f, "insertion", {{"steps", "5"}}), load("insertion"), "insertion");
  for (const auto& [kind, name] : {std::pair{CurveKind::deletion, "deletion_curves"}, std::pair{CurveKind::insertion, "insertion_curves"}}) {
    std::vector<double> flat;
    for (const auto& curve : perturbation_curves<T>(f.model, f.x, f.a, Baseline<T>::zero(), f.classes, 5, kind)) flat.insert(flat.end(), curve.begin(), curve.end());
    check_close(flat, load(name), name);
  }
  const std::string mask = kDir + "mask.npy";
  check_close(registry_score(f, "relevance-mass", {{"mask", mask}}), load("relevance_mass"), "relevance-mass");
  check_close(registry_score(f, "pointing-game", {{"mask", mask}}), load("pointing_game"), "pointing-game");
  check_close(registry_score(f, "sparseness", {}), load("sparseness"), "sparseness");
}

TEST_CASE("metric fixtures: infidelity and sensitivity-max equal Captum's on the same noise") {
  const Fixture f;
  const ad::Tensor<T> noise = load("infidelity_noise"), unoise = load("sensitivity_noise");  // [N, S, 1, 8, 8]
  const Method<T>& gradient = find_method<T>("gradient");
  const Options defaults = parse_options(gradient.name, gradient.options, {});
  std::vector<double> infid, sens;
  for (int64_t i = 0; i < f.x.size(0); ++i) {
    const ad::Tensor<T> p = noise.rows(i, i + 1).reshaped(noise.shape().without(0));
    infid.push_back(infidelity_given(f.model, f.x.rows(i, i + 1), f.a.rows(i, i + 1), f.classes[size_t(i)], p));
    const ad::Tensor<T> u = unoise.rows(i, i + 1).reshaped(unoise.shape().without(0));
    sens.push_back(sensitivity_max_given(gradient, defaults, f.model, f.x.rows(i, i + 1), f.gradients.rows(i, i + 1), Baseline<T>::zero(), f.classes[size_t(i)], u));
  }
  check_close(infid, load("infidelity"), "infidelity");
  check_close(sens, load("sensitivity_max"), "sensitivity-max");
}

TEST_CASE("metric fixtures: faithfulness correlation equals Quantus' loop on the same subsets") {
  const Fixture f;
  ad::Shape shape;
  const std::vector<int64_t> subsets = nn::npy_read_labels(kDir + "faithfulness_subsets.npy", &shape);  // [N, runs, size]
  REQUIRE(shape.rank() == 3);
  const int64_t runs = shape[1], size = shape[2];
  std::vector<double> scores;
  for (int64_t i = 0; i < f.x.size(0); ++i) {
    std::vector<std::vector<int64_t>> s(static_cast<size_t>(runs));
    for (int64_t r = 0; r < runs; ++r)
      for (int64_t j = 0; j < size; ++j) s[size_t(r)].push_back(subsets[size_t((i * runs + r) * size + j)]);
    scores.push_back(faithfulness_correlation_given(f.model, f.x.rows(i, i + 1), f.a.rows(i, i + 1), ad::Tensor<T>(f.x.rows(i, i + 1).shape(), T(0)), f.classes[size_t(i)], s));
  }
  check_close(scores, load("faithfulness_correlation"), "faithfulness-correlation");
}

TEST_CASE("metric fixtures: randomisation equals scipy's Spearman against the same re-initialised model") {
  const Fixture f;
  const nn::Model<T> random = nn::load_model<T>(kDir + "random_model.safetensors");
  const Method<T>& gradient = find_method<T>("gradient");
  check_close(randomisation_given(gradient, random, f.x, f.gradients, Baseline<T>::zero(), f.classes, false), load("randomisation"), "randomisation");
  check_close(randomisation_given(gradient, random, f.x, f.gradients, Baseline<T>::zero(), f.classes, true), load("randomisation_signed"), "randomisation --signed");
}
