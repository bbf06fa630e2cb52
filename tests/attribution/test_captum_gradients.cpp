// SmoothGrad (each noise type), Deconvolution and Guided Backprop against Captum 0.8's
// NoiseTunnel(Saliency(abs=False)), Deconvolution and GuidedBackprop (fixtures from
// tests/data/make_captum_gradient_fixtures.py, float64, within 1e-10 of each case's largest value).
// NoiseTunnel's torch.normal draw cannot be replayed, so the fixture saved its noise and
// SmoothGrad is given the same; everything after the draw is compared. Then what holds in closed
// form: deconvolution of Linear-ReLU-Linear is W₁ᵀ max(W₂ᵀ e_t, 0) whatever the input, and the
// plain gradient on a model without ReLU; on a linear model SmoothGrad is w, SmoothGrad² w² and
// VarGrad 0 whatever the noise; VarGrad of one sample is refused.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "attribution/method.h"
#include "attribution/methods/gradients.h"
#include "attribution/methods/smoothgrad.h"
#include "nn/architecture.h"
#include "nn/model_file.h"
#include "nn/npy.h"
#include "relative_error.h"

using namespace integrad;
using namespace integrad::attr;
using integrad::testing::relative_gap;

namespace {
const std::string kDir = std::string(INTEGRAD_TEST_DATA) + "/captum/";

}  // namespace

TEST_CASE("smoothgrad, deconvolution and guided_backprop equal Captum's NoiseTunnel, Deconvolution and GuidedBackprop (float64, 1e-10)") {
  std::ifstream in(kDir + "gradient_cases.json");
  REQUIRE(in);
  const nlohmann::json cases = nlohmann::json::parse(in)["cases"];
  REQUIRE(cases.size() == 10);
  for (const auto& c : cases) {
    const std::string name = c["case"], model_name = c["model"], method_name = c["method"];
    CAPTURE(name);
    const nn::Model<double> model = nn::load_model<double>(kDir + model_name + ".safetensors");
    const ad::Tensor<double> x = nn::npy_read_tensor<double>(kDir + model_name + "_input.npy");
    const Target<double> target = Target<double>::each(nn::npy_read_labels(kDir + model_name + "_target.npy"));
    const ad::Tensor<double> captum = nn::npy_read_tensor<double>(kDir + name + "_attr.npy");
    if (method_name == "smoothgrad") {
      const ad::Tensor<double> noise = nn::npy_read_tensor<double>(kDir + c["options"]["noise"].get<std::string>());
      SmoothGradOptions o;
      o.samples = std::stoi(c["options"]["samples"].get<std::string>());
      o.kind = parse_noise_kind(c["options"]["noise-type"]);
      o.noise = &noise;
      const Forward<double> f = forward_of(model);
      CHECK(relative_gap(smoothgrad<double>([&](const ad::Tensor<double>& in) { return gradient(f, in, target); }, x, o), captum) <= 1e-10);
    } else {
      const Method<double>& m = find_method<double>(method_name);
      CHECK(relative_gap(explain(m, model, x, Baseline<double>::zero(), target, parse_options(m.name, m.options, {})).values, captum) <= 1e-10);
    }
  }
}

TEST_CASE("deconvolution: W₁ᵀ max(W₂ᵀ e_t, 0) on Linear-ReLU-Linear whatever the input; the gradient without ReLU") {
  const auto model = nn::parse_architecture<double>("Linear(4, 5); ReLU(); Linear(5, 3)", ad::Shape{4}, nn::InputDtype::float64, 9);
  const auto& w1 = model.layers[0]->parameters()[0]->value;  // [5, 4]
  const auto& w2 = model.layers[2]->parameters()[0]->value;  // [3, 5]
  const ad::Tensor<double> x(ad::Shape{2, 4}, std::vector<double>{1, -2, 0.5, 3, -4, 1, -0.5, 2});
  const Method<double>& m = find_method<double>("deconvolution");
  const Attribution<double> a = explain(m, model, x, Baseline<double>::zero(), Target<double>::of(1), parse_options(m.name, m.options, {}));
  for (int64_t j = 0; j < 4; ++j) {
    double expected = 0;
    for (int64_t h = 0; h < 5; ++h) expected += w1.at({h, j}) * std::max(w2.at({1, h}), 0.0);
    for (int64_t i = 0; i < 2; ++i) CHECK(a.values[i * 4 + j] == doctest::Approx(expected).epsilon(1e-14));
  }
  const auto smooth = nn::parse_architecture<double>("Linear(4, 5); Tanh(); Linear(5, 3)", ad::Shape{4}, nn::InputDtype::float64, 9);
  const ad::Tensor<double> g = gradient(forward_of(smooth), x, Target<double>::of(2));
  CHECK(explain(m, smooth, x, Baseline<double>::zero(), Target<double>::of(2), parse_options(m.name, m.options, {})).values.vector() == g.vector());
}

TEST_CASE("smoothgrad --noise-type vargrad refuses one sample; given noise must have the shape [N, samples, ...]") {
  const auto model = nn::parse_architecture<double>("Linear(4, 3)", ad::Shape{4}, nn::InputDtype::float64, 2);
  const ad::Tensor<double> x(ad::Shape{2, 4}, 0.5);
  const Method<double>& m = find_method<double>("smoothgrad");
  CHECK_THROWS_WITH_AS(explain(m, model, x, Baseline<double>::zero(), Target<double>::of(0),
                               parse_options(m.name, m.options, {{"noise-type", "vargrad"}, {"samples", "1"}})),
                       "--noise-type vargrad is a variance over the samples: it needs --samples 2 or more (one sample's variance is 0)", std::invalid_argument);
  CHECK_NOTHROW(explain(m, model, x, Baseline<double>::zero(), Target<double>::of(0), parse_options(m.name, m.options, {{"noise-type", "vargrad"}, {"samples", "2"}})));
  const ad::Tensor<double> wrong(ad::Shape{2, 3, 4});
  SmoothGradOptions o;
  o.samples = 2;
  o.noise = &wrong;
  const Forward<double> f = forward_of(model);
  CHECK_THROWS_AS(smoothgrad<double>([&](const ad::Tensor<double>& in) { return gradient(f, in, Target<double>::of(0)); }, x, o), std::invalid_argument);
}

TEST_CASE("smoothgrad on a linear model: the mean is w, the mean of squares w², the variance 0, whatever the noise") {
  const auto model = nn::parse_architecture<double>("Linear(4, 3)", ad::Shape{4}, nn::InputDtype::float64, 6);
  const auto& w = model.layers[0]->parameters()[0]->value;  // [3, 4]
  const ad::Tensor<double> x(ad::Shape{2, 4}, std::vector<double>{1, -2, 0.5, 3, -4, 1, -0.5, 2});
  const Method<double>& m = find_method<double>("smoothgrad");
  for (const char* type : {"smoothgrad", "smoothgrad_sq", "vargrad"}) {
    CAPTURE(type);
    const Attribution<double> a = explain(m, model, x, Baseline<double>::zero(), Target<double>::of(2),
                                          parse_options(m.name, m.options, {{"noise-type", type}, {"samples", "7"}, {"stdev", "0.8"}}));
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 4; ++j) {
        const double g = w.at({2, j}), v = a.values[i * 4 + j];
        if (std::string(type) == "smoothgrad") CHECK(v == doctest::Approx(g).epsilon(1e-14));
        else if (std::string(type) == "smoothgrad_sq") CHECK(v == doctest::Approx(g * g).epsilon(1e-14));
        else CHECK(std::abs(v) <= 1e-15);
      }
    CHECK(a.is_signed == (std::string(type) == "smoothgrad"));
  }
}
