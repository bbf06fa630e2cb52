// IG against Captum's algorithm (tests/data/make_torch_fixtures.py): float64 within 1e-12
// relative (the fixtures keep Captum's points and weights in float64, where Captum itself rounds
// them to float32 and is off by 1e-9..3e-8; measured agreement is 6e-16), float32 within 1e-3 — for every rule but the trapezoid, where Captum's weights sum to
// (n−1)/n and ours to 1: there the attributions differ by exactly that factor.
#include <doctest/doctest.h>

#include <cmath>

#include "attribution/methods/integrated_gradients.h"
#include "nn/model_file.h"
#include "nn/npy.h"

using namespace integrad;

namespace {
const std::string kDir = std::string(INTEGRAD_TEST_DATA) + "/torch/";

template <ad::Scalar T>
void check_rule(const std::string& rule, const std::string& tag, double tolerance) {
  CAPTURE(rule);
  CAPTURE(tag);
  const nn::Model<T> model = nn::load_model<T>(kDir + "ig_model_" + tag + ".safetensors");
  const ad::Tensor<T> x = nn::npy_read_tensor<T>(kDir + "ig_input_" + tag + ".npy");
  attr::IgOptions<T> o;
  o.steps = 16;
  o.rule = attr::parse_rule(rule);
  o.baselines = {attr::Baseline<T>::of(nn::npy_read_tensor<T>(kDir + "ig_baseline_" + tag + ".npy"))};
  o.batch_size = 24;
  const auto ours = attr::integrated_gradients(attr::forward_of(model), x, attr::Target<T>::each(nn::npy_read_labels(kDir + "ig_target.npy")), o);
  const ad::Tensor<T> captum = nn::npy_read_tensor<T>(kDir + "ig_" + rule + "_" + tag + "_attr.npy");
  const ad::Tensor<T> captum_delta = nn::npy_read_tensor<T>(kDir + "ig_" + rule + "_" + tag + "_delta.npy");
  // Captum's trapezoid attributions are ours scaled by (n−1)/n: rescale ours to compare.
  const double factor = rule == "riemann_trapezoid" ? 15.0 / 16.0 : 1.0;
  double worst = 0;
  for (int64_t i = 0; i < x.numel(); ++i)
    worst = std::max(worst, std::abs(double(ours.values[i]) * factor - double(captum[i])) / std::max(1e-3, std::abs(double(captum[i]))));
  CHECK(worst <= tolerance);
  if (rule != "riemann_trapezoid")
    for (int64_t i = 0; i < x.size(0); ++i)
      CHECK(std::abs(ours.deltas[size_t(i)] - double(captum_delta[i])) <= tolerance * std::max(1.0, std::abs(double(captum_delta[i]))));
  else  // our trapezoid is the better approximation: a smaller |delta| than Captum's
    for (int64_t i = 0; i < x.size(0); ++i) CHECK(std::abs(ours.deltas[size_t(i)]) < std::abs(double(captum_delta[i])));
}
}  // namespace

TEST_CASE("IG equals Captum's for the same model, inputs, baselines and targets") {
  for (const char* rule : {"gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid"}) {
    check_rule<double>(rule, "f64", 1e-12);
    check_rule<float>(rule, "f32", 1e-3);
  }
}
