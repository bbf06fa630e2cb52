// LRP against Zennit 0.5.1 (fixtures from tests/data/make_lrp_fixtures.py, float64, within 1e-8
// of each case's largest value): every composite on the CNN and on the ResNet with BatchNorm and
// residual sums (Zennit's ResNetCanonizer). Then what holds in closed form: LRP-0 on a ReLU network
// without biases is gradient × input divided by F(x) (the relevance starts as 1, not as F(x)); LRP-ε on a dense layer conserves the relevance but for what
// the bias and ε absorb, Σ R_in = (z − b) / (z + ε·sign z); without biases and with ε = 0 a deep
// network conserves it exactly.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "attribution/method.h"
#include "attribution/methods/gradients.h"
#include "nn/architecture.h"
#include "nn/model_file.h"
#include "nn/npy.h"

using namespace integrad;
using namespace integrad::attr;

namespace {
const std::string kDir = std::string(INTEGRAD_TEST_DATA) + "/lrp/";
const std::string kModels = std::string(INTEGRAD_TEST_DATA) + "/gradcam/";

ad::Tensor<double> run_lrp(const nn::Model<double>& model, const ad::Tensor<double>& x, const Target<double>& target,
                           const std::map<std::string, std::string>& options) {
  const Method<double>& m = find_method<double>("lrp");
  return explain(m, model, x, Baseline<double>::zero(), target, parse_options(m.name, m.options, options)).values;
}

ad::Tensor<double> wavy(ad::Shape shape, double phase) {
  ad::Tensor<double> x(shape);
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = std::sin(0.9 * double(i) + phase) + 0.1;
  return x;
}
}  // namespace

TEST_CASE("lrp equals Zennit 0.5.1's composites with its canonizers, on a CNN and a ResNet (float64, 1e-8)") {
  std::ifstream in(kDir + "cases.json");
  REQUIRE(in);
  const nlohmann::json cases = nlohmann::json::parse(in)["cases"];
  REQUIRE(cases.size() == 14);
  for (const auto& c : cases) {
    const std::string name = c["case"], model_name = c["model"];
    CAPTURE(name);
    const nn::Model<double> model = nn::load_model<double>(kModels + model_name + ".safetensors");
    const ad::Tensor<double> x = nn::npy_read_tensor<double>(kModels + model_name + "_input.npy");
    const Target<double> target = Target<double>::each(nn::npy_read_labels(kModels + model_name + "_target.npy"));
    const ad::Tensor<double> zennit = nn::npy_read_tensor<double>(kDir + name + "_attr.npy");
    const std::map<std::string, std::string> options = c["options"];
    const ad::Tensor<double> a = run_lrp(model, x, target, options);
    REQUIRE(a.shape() == zennit.shape());
    double gap = 0, largest = 0;
    for (int64_t i = 0; i < a.numel(); ++i) {
      gap = std::max(gap, std::abs(a[i] - zennit[i]));
      largest = std::max(largest, std::abs(zennit[i]));
    }
    REQUIRE(largest > 1e-6);
    CHECK(gap / largest <= 1e-8);
    // The same in float32, within its rounding.
    const nn::Model<float> model32 = nn::load_model<float>(kModels + model_name + ".safetensors");
    const Method<float>& m = find_method<float>("lrp");
    const ad::Tensor<float> a32 = explain(m, model32, nn::npy_read_tensor<float>(kModels + model_name + "_input.npy"), Baseline<float>::zero(),
                                          Target<float>::each(nn::npy_read_labels(kModels + model_name + "_target.npy")), parse_options(m.name, m.options, options))
                                      .values;
    double gap32 = 0;
    for (int64_t i = 0; i < a32.numel(); ++i) gap32 = std::max(gap32, std::abs(double(a32[i]) - zennit[i]));
    CHECK(gap32 / largest <= 1e-4);
  }
}

TEST_CASE("LRP-0 on a ReLU network without biases is gradient × input over F(x)") {
  // (No pooling by the Norm rule here: its fixed stabiliser 1e-6 would show at about 1e-7.)
  for (const char* arch : {"Conv2d(2, 3, 3, bias=False); ReLU(); MaxPool2d(2); Conv2d(3, 4, 1, bias=False); ReLU(); Flatten(); Linear(16, 3, bias=False)",
                           "Linear(6, 8, bias=False); ReLU(); Linear(8, 5, bias=False); ReLU(); Linear(5, 3, bias=False)"}) {
    CAPTURE(std::string(arch));
    const bool image = arch[0] == 'C';
    const ad::Shape shape = image ? ad::Shape{2, 6, 6} : ad::Shape{6};
    const auto model = nn::parse_architecture<double>(arch, shape, nn::InputDtype::float64, 5);
    const ad::Tensor<double> x = wavy(nn::with_batch(3, shape), 0.3);
    for (int64_t t = 0; t < 3; ++t) {
      const ad::Tensor<double> r = run_lrp(model, x, Target<double>::of(t), {{"composite", "epsilon"}, {"epsilon", "0"}});
      const ad::Tensor<double> g = gradient(forward_of(model), x, Target<double>::of(t));
      const ad::Tensor<double> f = model.predict(x);
      const int64_t d = x.numel() / 3;
      for (int64_t n = 0; n < 3; ++n) {
        double largest = 0;
        for (int64_t i = n * d; i < (n + 1) * d; ++i) largest = std::max(largest, std::abs(g[i] * x[i]));
        REQUIRE(largest > 1e-3);
        for (int64_t i = n * d; i < (n + 1) * d; ++i) CHECK(std::abs(r[i] * f[n * 3 + t] - g[i] * x[i]) <= 1e-12 * largest);
      }
    }
  }
}

TEST_CASE("LRP-ε conserves relevance up to what the bias and ε absorb") {
  const auto dense = nn::parse_architecture<double>("Linear(5, 3)", ad::Shape{5}, nn::InputDtype::float64, 8);
  const auto& b = dense.layers[0]->parameters()[1]->value;
  const ad::Tensor<double> x = wavy(ad::Shape{4, 5}, 1.1);
  const ad::Tensor<double> z = dense.predict(x);
  for (double eps : {1e-6, 0.1, 2.0}) {
    const ad::Tensor<double> r = run_lrp(dense, x, Target<double>::of(1), {{"composite", "epsilon"}, {"epsilon", std::to_string(eps)}});
    for (int64_t i = 0; i < 4; ++i) {
      double sum = 0;
      for (int64_t j = 0; j < 5; ++j) sum += r[i * 5 + j];
      const double zt = z[i * 3 + 1];
      CHECK(sum == doctest::Approx((zt - b[1]) / (zt + (zt >= 0 ? eps : -eps))).epsilon(1e-13));
    }
  }
  // Without biases and with ε = 0 the relevance 1 of the target reaches the input whole, through
  // ReLU, max pooling and the flat first layer of epsilon-plus-flat alike.
  const auto deep = nn::parse_architecture<double>("Conv2d(1, 3, 3, bias=False); ReLU(); MaxPool2d(2); Flatten(); Linear(12, 4, bias=False)",
                                                   ad::Shape{1, 6, 6}, nn::InputDtype::float64, 4);
  const ad::Tensor<double> xs = wavy(ad::Shape{2, 1, 6, 6}, 0.2);
  for (const char* composite : {"epsilon", "epsilon-plus-flat"}) {
    CAPTURE(composite);
    const ad::Tensor<double> r = run_lrp(deep, xs, Target<double>::of(2), {{"composite", composite}, {"epsilon", "0"}});
    for (int64_t i = 0; i < 2; ++i) {
      double sum = 0;
      for (int64_t j = 0; j < 36; ++j) sum += r[i * 36 + j];
      CHECK(sum == doctest::Approx(1.0).epsilon(1e-5));  // the rules' own stabiliser (1e-6) remains
    }
  }
}

TEST_CASE("lrp refuses --low above --high and token ids") {
  const auto model = nn::parse_architecture<double>("Conv2d(1, 2, 3); ReLU(); Flatten(); Linear(8, 3)", ad::Shape{1, 4, 4}, nn::InputDtype::float64, 3);
  const ad::Tensor<double> x(ad::Shape{1, 1, 4, 4}, 0.5);
  CHECK_THROWS_WITH_AS(run_lrp(model, x, Target<double>::of(0), {{"composite", "epsilon-gamma-box"}, {"low", "2"}, {"high", "1"}}),
                       "--low 2 is above --high 1", std::invalid_argument);
}

TEST_CASE("lrp merges a BatchNorm into the dense layer before it: the same relevance as the merged model") {
  auto model = nn::parse_architecture<double>("Linear(4, 5); BatchNorm1d(5); ReLU(); Linear(5, 3)", ad::Shape{4}, nn::InputDtype::float64, 12);
  auto params = model.layers[1]->parameters();  // weight, bias, running_mean, running_var
  for (int64_t c = 0; c < 5; ++c) {
    params[0]->value[c] = 0.5 + 0.2 * double(c);
    params[1]->value[c] = 0.1 * double(c) - 0.2;
    params[2]->value[c] = 0.3 - 0.15 * double(c);
    params[3]->value[c] = 0.6 + 0.25 * double(c);
  }
  // The merged model by hand: W·s, b·s + (β − mean·s), s = γ / sqrt(var + eps).
  auto merged = nn::parse_architecture<double>("Linear(4, 5); ReLU(); Linear(5, 3)", ad::Shape{4}, nn::InputDtype::float64, 1);
  auto& w = merged.layers[0]->parameters()[0]->value;
  auto& b = merged.layers[0]->parameters()[1]->value;
  const auto& w0 = model.layers[0]->parameters()[0]->value;
  const auto& b0 = model.layers[0]->parameters()[1]->value;
  for (int64_t o = 0; o < 5; ++o) {
    const double s = params[0]->value[o] / std::sqrt(params[3]->value[o] + 1e-5);
    for (int64_t i = 0; i < 4; ++i) w[o * 4 + i] = w0[o * 4 + i] * s;
    b[o] = b0[o] * s + params[1]->value[o] - params[2]->value[o] * s;
  }
  merged.layers[2]->parameters()[0]->value = model.layers[3]->parameters()[0]->value;
  merged.layers[2]->parameters()[1]->value = model.layers[3]->parameters()[1]->value;
  const ad::Tensor<double> x = wavy(ad::Shape{3, 4}, 0.4);
  for (const char* composite : {"epsilon", "epsilon-plus-flat"}) {
    CAPTURE(std::string(composite));
    const ad::Tensor<double> a = run_lrp(model, x, Target<double>::of(1), {{"composite", composite}});
    const ad::Tensor<double> e = run_lrp(merged, x, Target<double>::of(1), {{"composite", composite}});
    for (int64_t i = 0; i < a.numel(); ++i) CHECK(a[i] == doctest::Approx(e[i]).epsilon(1e-12));
  }
}
