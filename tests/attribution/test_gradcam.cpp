// Grad-CAM and Guided Grad-CAM against Captum 0.8's LayerGradCam (+ LayerAttribution.interpolate)
// and GuidedGradCam (fixtures from tests/data/make_gradcam_fixtures.py, float64, within 1e-10 of
// each case's largest value) on a chain and on the ResNet graph, at several layers; then what
// holds in closed form: with a global-average-pool linear head Grad-CAM is the class activation
// map Σ_c w_tc A_c divided by h·w (Selvaraju et al., section 3.1); the interpolation rules; the
// errors for a layer without an image output.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "attribution/method.h"
#include "attribution/methods/gradcam.h"
#include "nn/architecture.h"
#include "nn/model_file.h"
#include "nn/npy.h"
#include "relative_error.h"

using namespace integrad;
using namespace integrad::attr;
using integrad::testing::relative_gap;

namespace {
const std::string kDir = std::string(INTEGRAD_TEST_DATA) + "/gradcam/";

}  // namespace

TEST_CASE("gradcam and guided-gradcam equal Captum's LayerGradCam + interpolate and GuidedGradCam (float64, 1e-10)") {
  std::ifstream in(kDir + "cases.json");
  REQUIRE(in);
  const nlohmann::json cases = nlohmann::json::parse(in)["cases"];
  REQUIRE(cases.size() == 30);
  for (const auto& c : cases) {
    const std::string name = c["case"], model_name = c["model"];
    CAPTURE(name);
    const nn::Model<double> model = nn::load_model<double>(kDir + model_name + ".safetensors");
    const ad::Tensor<double> x = nn::npy_read_tensor<double>(kDir + model_name + "_input.npy");
    const Target<double> target = Target<double>::each(nn::npy_read_labels(kDir + model_name + "_target.npy"));
    const Method<double>& m = find_method<double>(c["method"]);
    const std::map<std::string, std::string> options = c["options"];
    const Attribution<double> a = explain(m, model, x, Baseline<double>::zero(), target, parse_options(m.name, m.options, options));
    const ad::Tensor<double> captum = nn::npy_read_tensor<double>(kDir + name + "_attr.npy");
    CHECK(relative_gap(a.values, captum) <= 1e-10);
    // The same in float32, within its rounding.
    const nn::Model<float> model32 = nn::load_model<float>(kDir + model_name + ".safetensors");
    const Method<float>& m32 = find_method<float>(c["method"]);
    const ad::Tensor<float> a32 = explain(m32, model32, nn::npy_read_tensor<float>(kDir + model_name + "_input.npy"), Baseline<float>::zero(),
                                          Target<float>::each(nn::npy_read_labels(kDir + model_name + "_target.npy")), parse_options(m32.name, m32.options, options))
                                      .values;
    ad::Tensor<double> widened(a32.shape());
    for (int64_t i = 0; i < a32.numel(); ++i) widened[i] = a32[i];
    CHECK(relative_gap(widened, captum) <= 1e-4);
  }
}

TEST_CASE("gradcam of a global-average-pool linear head is the class activation map over h·w") {
  const auto model = nn::parse_architecture<double>("Conv2d(2, 3, 3, padding=1); ReLU(); AdaptiveAvgPool2d(1); Flatten(); Linear(3, 4)",
                                                    ad::Shape{2, 5, 6}, nn::InputDtype::float64, 11);
  ad::Tensor<double> x(ad::Shape{2, 2, 5, 6});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = std::sin(0.7 * double(i)) + 0.2;
  ad::Tape<double> tape;
  const ad::Tensor<double> acts = model.forward(tape, tape.leaf(x), nn::Grads::none, 0, 2).tensor();  // [2, 3, 5, 6]
  const auto& w = model.layers[4]->parameters()[0]->value;                                            // [4, 3]
  const Method<double>& m = find_method<double>("gradcam");
  for (int64_t t : {0, 3}) {
    const Attribution<double> a = explain(m, model, x, Baseline<double>::zero(), Target<double>::of(t),
                                          parse_options(m.name, m.options, {{"layer", "1"}, {"signed", "true"}}));
    REQUIRE(a.values.shape() == ad::Shape{2, 1, 5, 6});
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t p = 0; p < 30; ++p) {
        double cam = 0;
        for (int64_t c = 0; c < 3; ++c) cam += w.at({t, c}) * acts[(i * 3 + c) * 30 + p];
        CHECK(a.values[i * 30 + p] == doctest::Approx(cam / 30).epsilon(1e-13));
      }
    // Unsigned: the same map clipped at 0.
    const Attribution<double> r = explain(m, model, x, Baseline<double>::zero(), Target<double>::of(t), parse_options(m.name, m.options, {{"layer", "1"}}));
    for (int64_t k = 0; k < r.values.numel(); ++k) CHECK(r.values[k] == std::max(a.values[k], 0.0));
  }
}

TEST_CASE("interpolate: nearest repeats cells, bilinear keeps a constant and averages half-pixel neighbours") {
  const ad::Tensor<double> a(ad::Shape{1, 1, 2, 2}, std::vector<double>{1, 2, 3, 4});
  const ad::Tensor<double> n = interpolate(a, 4, 4, Interpolation::nearest);
  CHECK(n.vector() == std::vector<double>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
  // align_corners=False at twice the size: the outer pixels copy the edge, the inner ones mix 3:1.
  const ad::Tensor<double> b = interpolate(a, 4, 4, Interpolation::bilinear);
  CHECK(b.at({0, 0, 0, 0}) == 1);
  CHECK(b.at({0, 0, 0, 1}) == doctest::Approx(1.25).epsilon(1e-15));
  CHECK(b.at({0, 0, 1, 1}) == doctest::Approx(0.75 * (0.75 * 1 + 0.25 * 2) + 0.25 * (0.75 * 3 + 0.25 * 4)).epsilon(1e-15));
  CHECK(b.at({0, 0, 3, 3}) == 4);
  const ad::Tensor<double> c = interpolate(ad::Tensor<double>(ad::Shape{1, 2, 3, 3}, 0.5), 7, 5, Interpolation::bilinear);
  for (int64_t k = 0; k < c.numel(); ++k) CHECK(c[k] == doctest::Approx(0.5).epsilon(1e-15));
}

TEST_CASE("gradcam refuses a layer whose output is not an image, naming it") {
  const auto model = nn::parse_architecture<double>("Conv2d(1, 2, 3); ReLU(); Flatten(); Linear(8, 3)", ad::Shape{1, 4, 4}, nn::InputDtype::float64, 3);
  const ad::Tensor<double> x(ad::Shape{1, 1, 4, 4}, 0.5);
  for (const char* name : {"gradcam", "guided-gradcam"}) {
    const Method<double>& m = find_method<double>(name);
    CHECK_THROWS_WITH_AS(explain(m, model, x, Baseline<double>::zero(), Target<double>::of(0), parse_options(m.name, m.options, {{"layer", "2"}})),
                         "--layer 2: Grad-CAM needs a layer whose output is an image [C, h, w] per example; 2 gives [8]", std::invalid_argument);
    // Without --layer: the last layer with an image output larger than 1x1 (the ReLU, 1).
    CHECK_NOTHROW(explain(m, model, x, Baseline<double>::zero(), Target<double>::of(0), parse_options(m.name, m.options, {})));
  }
}

TEST_CASE("gradcam without --layer reads a ResNet's last block, not its global average pool's [C, 1, 1]") {
  // The pool's map is one number per example, upsampled to a constant: the default used to be that
  // node, and the report's sanity curves of Grad-CAM on `--arch resnet` measured nothing. The
  // default must give Captum's map at layer2[0] (the block `layer2.0.relu2`).
  const nn::Model<double> model = nn::load_model<double>(kDir + "resnet.safetensors");
  REQUIRE(model.output_shapes()[model.node_index("avgpool")] == ad::Shape{32, 1, 1});
  CHECK(gradcam_layer(model, Options{}) == model.node_index("layer2.0.relu2"));
  const ad::Tensor<double> x = nn::npy_read_tensor<double>(kDir + "resnet_input.npy");
  const Target<double> target = Target<double>::each(nn::npy_read_labels(kDir + "resnet_target.npy"));
  for (const auto& case_ : {std::pair<std::string, std::string>{"gradcam", "resnet_layer2_0_relu2_gradcam_bilinear_attr.npy"},
                            {"guided-gradcam", "resnet_layer2_0_relu2_guided_gradcam_attr.npy"}}) {
    const std::string method = case_.first;  // not a structured binding: clang refuses them in CAPTURE
    CAPTURE(method);
    const Method<double>& m = find_method<double>(method);
    const Attribution<double> a = explain(m, model, x, Baseline<double>::zero(), target, parse_options(m.name, m.options, {}));
    CHECK(relative_gap(a.values, nn::npy_read_tensor<double>(kDir + case_.second)) <= 1e-10);
  }
  // A model whose only image output is 1x1 has no layer to default to.
  const auto pooled = nn::parse_architecture<double>("Conv2d(1, 2, 4); ReLU(); Flatten(); Linear(2, 3)", ad::Shape{1, 4, 4}, nn::InputDtype::float64, 3);
  CHECK_THROWS_WITH_AS(gradcam_layer(pooled, Options{}),
                       "Grad-CAM needs a layer whose output is an image [C, h, w] per example, larger than 1x1; this model has none", std::invalid_argument);
}
