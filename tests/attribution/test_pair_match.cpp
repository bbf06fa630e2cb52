// Blur IG and Guided IG against PAIR saliency 0.2.1 (fixtures from tests/data/make_pair_fixtures.py,
// float64): the same models, inputs, baselines and targets give PAIR's attributions within 1e-8 of
// each case's largest value (1e-5 with the model in float32); the blur alone equals scipy's
// gaussian_filter. Then what holds in
// closed form: on a linear model Blur IG telescopes to F(x) − F(blurred x) when the σ step equals
// the difference step, and Guided IG gives w ⊙ (x − x′); Guided IG with max_dist 0 is IG's left
// Riemann sum.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <set>
#include <nlohmann/json.hpp>

#include "attribution/evaluation/axiom_matrix.h"
#include "attribution/method.h"
#include "attribution/methods/blur_ig.h"
#include "attribution/methods/guided_ig.h"
#include "attribution/methods/integrated_gradients.h"
#include "nn/architecture.h"
#include "nn/model_file.h"
#include "nn/npy.h"
#include "relative_error.h"

using namespace integrad;
using namespace integrad::attr;
using integrad::testing::relative_gap;

namespace {
const std::string kDir = std::string(INTEGRAD_TEST_DATA) + "/pair/";

nlohmann::json fixture_cases() {
  std::ifstream in(kDir + "cases.json");
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

}  // namespace

TEST_CASE("gaussian_blur is scipy's gaussian_filter (mode constant, truncate 4) per channel") {
  const auto doc = fixture_cases();
  const ad::Tensor<double> x = nn::npy_read_tensor<double>(kDir + "rgb_input.npy");
  REQUIRE(doc["blurs"].size() == 4);
  for (const auto& blur : doc["blurs"].items()) {
    const std::string sigma = blur.key();  // not a structured binding: clang 14 cannot capture one
    const auto& file = blur.value();
    CAPTURE(sigma);
    const ad::Tensor<double> scipy = nn::npy_read_tensor<double>(kDir + file.get<std::string>());
    CHECK(relative_gap(gaussian_blur(x, std::stod(sigma)), scipy) <= 1e-13);
  }
  CHECK(gaussian_blur(x, 0).vector() == x.vector());
  CHECK_THROWS_AS(gaussian_blur(x.reshaped(ad::Shape{2, 192}), 1.0), std::invalid_argument);
}

TEST_CASE("blur-ig and guided-ig equal PAIR saliency's BlurIG and GuidedIG (float64, 1e-8)") {
  const auto cases = fixture_cases()["cases"];
  REQUIRE(cases.size() >= 8);
  for (const auto& c : cases) {
    const std::string name = c["case"], model_name = c["model"], method_name = c["method"];
    CAPTURE(name);
    const nn::Model<double> model = nn::load_model<double>(kDir + model_name + ".safetensors");
    const ad::Tensor<double> x = nn::npy_read_tensor<double>(kDir + model_name + "_input.npy");
    const ad::Tensor<double> b = nn::npy_read_tensor<double>(kDir + model_name + "_baseline.npy");
    const std::vector<int64_t> targets = nn::npy_read_labels(kDir + model_name + "_target.npy");
    std::map<std::string, std::string> options;
    for (const auto& [k, v] : c["options"].items()) options[k] = v.get<std::string>();
    const Method<double>& m = find_method<double>(method_name);
    const Baseline<double> baseline = m.uses_baseline ? Baseline<double>::of(b) : Baseline<double>::zero();
    // In chunks of 2 examples, passes of 2 path points: neither may change a number.
    options["batch-size"] = "2";
    const Attribution<double> ours = explain(m, model, x, baseline, Target<double>::each(targets), parse_options(m.name, m.options, options));
    const ad::Tensor<double> pair = nn::npy_read_tensor<double>(kDir + name + "_attr.npy");
    CHECK(relative_gap(ours.values, pair) <= 1e-8);
    // In float32 (the CLI's default) the model's rounding, about 1e-7, is what separates them.
    const Method<float>& mf = find_method<float>(method_name);
    const nn::Model<float> model32 = nn::load_model<float>(kDir + model_name + ".safetensors");
    const Baseline<float> baseline32 = mf.uses_baseline ? Baseline<float>::of(nn::npy_read_tensor<float>(kDir + model_name + "_baseline.npy")) : Baseline<float>::zero();
    const Attribution<float> ours32 = explain(mf, model32, nn::npy_read_tensor<float>(kDir + model_name + "_input.npy"), baseline32, Target<float>::each(targets),
                                              parse_options(mf.name, mf.options, options));
    ad::Tensor<double> widened(ours32.values.shape());
    for (int64_t i = 0; i < widened.numel(); ++i) widened[i] = double(ours32.values[i]);
    CHECK(relative_gap(widened, pair) <= 1e-5);
  }
}

namespace {
// Two outputs linear in an image [1, 3, 5].
nn::Model<double> linear_image_model() {
  return nn::parse_architecture<double>("Flatten(); Linear(15, 2)", ad::Shape{1, 3, 5}, nn::InputDtype::float64, 5);
}
}  // namespace

TEST_CASE("blur-ig on a linear model: with --grad-step equal to the σ step the sum telescopes to F(x) − F(blurred x)") {
  const nn::Model<double> model = linear_image_model();
  ad::Tensor<double> x(ad::Shape{2, 1, 3, 5});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = std::sin(0.7 * double(i)) + 0.3;
  const Method<double>& m = find_method<double>("blur-ig");
  const Options o = parse_options(m.name, m.options, {{"max-sigma", "2"}, {"steps", "8"}, {"grad-step", "0.25"}});
  const Attribution<double> a = explain(m, model, x, Baseline<double>::zero(), Target<double>::of(1), o);
  REQUIRE(a.deltas.size() == 2);
  for (double d : a.deltas) CHECK(std::abs(d) < 1e-12);
  // The blurred end point is the baseline: F(x′) = F(blur(x, 2)).
  const ad::Tensor<double> end = gaussian_blur(x, 2.0);
  const std::vector<int64_t> ones = {1, 1};
  const std::vector<double> f_end = target_values(forward_of(model), end, Target<double>::of(1), ones);
  for (size_t i = 0; i < 2; ++i) CHECK(a.f_baseline[i] == doctest::Approx(f_end[i]).epsilon(1e-14));
  // PAIR's default difference step does not telescope: a small but visible delta.
  const Attribution<double> coarse = explain(m, model, x, Baseline<double>::zero(), Target<double>::of(1), parse_options(m.name, m.options, {{"max-sigma", "2"}, {"steps", "8"}}));
  CHECK(std::abs(coarse.deltas[0]) > 1e-6);
  const nn::Model<double> tabular = nn::parse_architecture<double>("Linear(4, 2)", ad::Shape{4}, nn::InputDtype::float64, 1);
  CHECK_THROWS_WITH_AS(explain(m, tabular, ad::Tensor<double>(ad::Shape{1, 4}), Baseline<double>::zero(), Target<double>::of(0), o),
                       "blur-ig blurs images: the inputs must be [N, C, H, W], got [1, 4]", std::invalid_argument);
  CHECK_FALSE(m.in_tables(tabular));
  CHECK(m.in_tables(model));
}

TEST_CASE("guided-ig on a linear model is w ⊙ (x − x′); with max_dist 0 it is IG's left Riemann sum") {
  const nn::Model<double> lin = nn::parse_architecture<double>("Linear(5, 2)", ad::Shape{5}, nn::InputDtype::float64, 3);
  const ad::Tensor<double> x(ad::Shape{2, 5}, std::vector<double>{1, -2, 0.5, 3, 0.25, -1, 0, 2, 0.5, 1});
  const ad::Tensor<double> b(ad::Shape{2, 5}, std::vector<double>{0, 0.5, 0.5, -1, 0.25, 0, 0, 1, 0, 0});
  const Method<double>& m = find_method<double>("guided-ig");
  const auto& w = lin.layers[0]->parameters()[0]->value;
  for (const char* dist : {"0", "0.1", "1"}) {
    CAPTURE(dist);
    const Attribution<double> a = explain(m, lin, x, Baseline<double>::of(b), Target<double>::of(1),
                                          parse_options(m.name, m.options, {{"steps", "13"}, {"max-dist", dist}, {"fraction", "0.4"}}));
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 5; ++j) CHECK(a.values[i * 5 + j] == doctest::Approx(w.at({1, j}) * (x[i * 5 + j] - b[i * 5 + j])).epsilon(1e-12));
    for (double d : a.deltas) CHECK(std::abs(d) < 1e-12);
  }
  // A nonlinear model: max_dist 0 walks the straight line, a gradient at each step's start.
  const nn::Model<double> mlp = nn::parse_architecture<double>("Linear(5, 6); Tanh(); Linear(6, 3)", ad::Shape{5}, nn::InputDtype::float64, 4);
  const Attribution<double> straight = explain(m, mlp, x, Baseline<double>::of(b), Target<double>::of(2),
                                               parse_options(m.name, m.options, {{"steps", "17"}, {"max-dist", "0"}}));
  IgOptions<double> ig;
  ig.steps = 17;
  ig.rule = Rule::riemann_left;
  ig.baselines = {Baseline<double>::of(b)};
  const Attribution<double> left = integrated_gradients(forward_of(mlp), x, Target<double>::of(2), ig);
  for (int64_t i = 0; i < x.numel(); ++i) CHECK(straight.values[i] == doctest::Approx(left.values[i]).epsilon(1e-10));
  // The input equal to the baseline: zero.
  const Attribution<double> none = explain(m, mlp, b, Baseline<double>::of(b), Target<double>::of(0), parse_options(m.name, m.options, {{"steps", "5"}}));
  for (double v : none.values.vector()) CHECK(v == 0);
}

TEST_CASE("the axiom matrix: the methods of this round keep what their rows claim, on an MLP and a CNN") {
  const auto mlp = nn::parse_architecture<double>("Linear(4, 6); ReLU(); Linear(6, 3)", ad::Shape{4}, nn::InputDtype::float64, 12);
  const auto cnn = nn::parse_architecture<double>("Conv2d(2, 3, 3, padding=1); ReLU(); MaxPool2d(2); Flatten(); Linear(12, 3)", ad::Shape{2, 4, 4},
                                                  nn::InputDtype::float64, 13);
  ad::Rng rng(21);
  const ad::Tensor<double> xm = ad::Tensor<double>::uniform(ad::Shape{3, 4}, rng, -1, 1), xc = ad::Tensor<double>::uniform(ad::Shape{2, 2, 4, 4}, rng, 0, 1);
  const std::set<std::string> ours = {"smoothgrad", "smoothgrad_sq", "vargrad", "deconvolution", "blur-ig", "guided-ig"};
  for (const auto* model : {&mlp, &cnn}) {
    const ad::Tensor<double>& x = model == &mlp ? xm : xc;
    std::vector<NamedMethod<double>> methods;
    for (auto& m : matrix_methods(*model))
      if (ours.count(m.name)) methods.push_back(m);
    CHECK(methods.size() == (model == &mlp ? 5u : 6u));  // blur-ig on images only
    for (const auto& r : axiom_matrix(*model, methods, x, ad::Tensor<double>(x.shape()), {}))
      for (const auto& c : r.checks) {
        CAPTURE(r.method);
        CAPTURE(c.name);
        if (must_satisfy(r, c.name)) CHECK_MESSAGE(c.passed, c.detail);
      }
  }
}
