// Occlusion, feature ablation and exact Shapley values against Captum 0.8 (fixtures from
// tests/data/make_captum_perturbation_fixtures.py, float64): the same model, inputs, baselines,
// targets and feature masks give the same attributions within 1e-10 relative. integrad's masks
// carry other, non-contiguous ids (7·id + 3) for the same groups. Captum's Occlusion and
// ShapleyValues return float32 from a float64 model (a `.float()` before Occlusion's division by the
// window counts, float32 accumulators in ShapleyValues): the float64 reference is Captum's code with
// those two casts lifted (see the script), and Captum's stock float32 result is checked to the
// precision float32 allows.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "attribution/method.h"
#include "nn/model_file.h"
#include "nn/npy.h"

using namespace integrad;

namespace {
const std::string kDir = std::string(INTEGRAD_TEST_DATA) + "/captum/";
}  // namespace

TEST_CASE("occlusion, ablation and shapley equal Captum's Occlusion, FeatureAblation and ShapleyValues (float64, 1e-10 relative)") {
  std::ifstream in(kDir + "cases.json");
  REQUIRE(in);
  const nlohmann::json cases = nlohmann::json::parse(in)["cases"];
  REQUIRE(cases.size() >= 12);
  for (const auto& c : cases) {
    const std::string name = c["case"], model_name = c["model"], method_name = c["method"];
    CAPTURE(name);
    const nn::Model<double> model = nn::load_model<double>(kDir + model_name + ".safetensors");
    const ad::Tensor<double> x = nn::npy_read_tensor<double>(kDir + model_name + "_input.npy");
    const ad::Tensor<double> b = nn::npy_read_tensor<double>(kDir + model_name + "_baseline.npy");
    const std::vector<int64_t> targets = nn::npy_read_labels(kDir + model_name + "_target.npy");
    std::map<std::string, std::string> options;
    for (const auto& [k, v] : c["options"].items()) options[k] = k == "feature-mask" ? kDir + v.get<std::string>() : v.get<std::string>();
    const attr::Method<double>& m = attr::find_method<double>(method_name);
    const attr::Attribution<double> ours =
        attr::explain(m, model, x, attr::Baseline<double>::of(b), attr::Target<double>::each(targets), attr::parse_options(m.name, m.options, options));
    const ad::Tensor<double> captum = nn::npy_read_tensor<double>(kDir + name + "_attr.npy");
    REQUIRE(captum.shape() == ours.values.shape());
    double worst = 0, largest = 0;
    for (int64_t i = 0; i < captum.numel(); ++i) {
      largest = std::max(largest, std::abs(captum[i]));
      worst = std::max(worst, std::abs(ours.values[i] - captum[i]) / std::max(1e-12, std::abs(captum[i])));
    }
    CHECK(largest > 1e-3);  // the case is not trivially zero
    CHECK(worst <= 1e-10);
    if (c.contains("stock_dtype")) {  // as Captum returns it: float32, rounded once (Occlusion) or accumulated (Shapley)
      const ad::Tensor<double> stock = nn::npy_read_tensor<double>(kDir + name + "_captum.npy");
      double off = 0;
      for (int64_t i = 0; i < stock.numel(); ++i) off = std::max(off, std::abs(ours.values[i] - stock[i]));
      CHECK(off <= (method_name == "occlusion" ? 6e-8 : 1e-5) * largest);
    }
  }
}
