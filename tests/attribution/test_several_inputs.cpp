// Models of several named inputs (tests/data/make_two_input_fixtures.py: a numeric MLP beside a
// second MLP, joined by Concat): the file's round trip, outputs against PyTorch, IG on both inputs
// and on one with the other held fixed against Captum (1e-10 in float64), an analytic linear case,
// one-output models without a target, and the errors that name the input.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <string>

#include "relative_error.h"
#include "../nn/temp_path.h"
#include "attribution/method.h"
#include "attribution/several_inputs.h"
#include "nn/architecture.h"
#include "nn/model_file.h"
#include "nn/npy.h"
#include "nn/npz.h"

using namespace integrad;
using namespace integrad::attr;

namespace {
using T = double;
const std::string kDir = std::string(INTEGRAD_TEST_DATA) + "/inputs/";
using testing::max_relative_error;

NamedTensors<T> fixture_inputs() {
  NamedTensors<T> out;
  for (const auto& [name, array] : nn::npz_read(kDir + "inputs.npz")) out.emplace_back(name, nn::npy_to_tensor<T>(array, name));
  return out;
}

ad::Tensor<T> fixture(const std::string& name) { return nn::npy_read_tensor<T>(kDir + name + ".npy"); }

const ad::Tensor<T>& value_of(const InputsAttribution<T>& a, const std::string& name) {
  for (const auto& [n, v] : a.values)
    if (n == name) return v;
  FAIL("no attributions for " << name);
  return a.values[0].second;
}

// The fixture's rule: Captum's weights 1/64 are exact in the float32 it rounds them to.
Options ig_options() { return parse_options("ig", find_method<T>("ig").options, {{"steps", "64"}, {"quadrature", "riemann_middle"}}); }
}  // namespace

TEST_CASE("a two-input model: architecture text, metadata round trip, outputs as PyTorch's (1e-12)") {
  const nn::Model<T> model = nn::load_model<T>(kDir + "two_input.safetensors");
  REQUIRE(model.input_count() == 2);
  CHECK(model.named_inputs[0].name == "num");
  CHECK(model.named_inputs[1].shape == ad::Shape{3});
  CHECK_FALSE(model.is_chain());
  CHECK(model.output_shape() == ad::Shape{3});
  const auto xs = inputs_in_order(model, fixture_inputs(), "inputs.npz");
  const ad::Tensor<T> logits = model.predict(std::span<const ad::Tensor<T>>(xs));
  CHECK(max_relative_error(logits, fixture("logits"), 1e-3) < 1e-12);
  // Saved and loaded: the same text, the same inputs, the same outputs, bit for bit.
  const std::string path = temp_path("two_input.safetensors");
  nn::save_model(path, model, "F64");
  const nn::Model<T> back = nn::load_model<T>(path);
  CHECK(back.architecture() == model.architecture());
  CHECK(back.architecture().find("Concat(dim=1)(num.act, cat.act)") != std::string::npos);
  const auto meta = nn::model_metadata(path);
  CHECK(meta.at("input_names") == "num,cat");
  CHECK(meta.at("input_shape") == "5;3");
  const ad::Tensor<T> again = back.predict(std::span<const ad::Tensor<T>>(xs));
  for (int64_t i = 0; i < logits.numel(); ++i) CHECK(again[i] == logits[i]);
  // One tensor where the model reads two: refused, naming them.
  ad::Tape<T> tape;
  CHECK_THROWS_WITH_AS(model.forward(tape, tape.leaf(xs[0])), doctest::Contains("num, cat"), std::invalid_argument);
}

TEST_CASE("bad input metadata and architecture text: errors that say what is wrong") {
  const std::vector<nn::ModelInput> in{{"a", ad::Shape{2}, nn::InputDtype::float64}, {"b", ad::Shape{3}, nn::InputDtype::float64}};
  CHECK_THROWS_WITH_AS(nn::parse_architecture<T>("x = Linear(2, 1)(a)\ny = Linear(3, 1)(c)\nz = Add()(x, y)", in, 0), doctest::Contains("'c'"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(nn::parse_architecture<T>("x = Linear(3, 1)(a)\ny = Linear(3, 1)(b)\nz = Add()(x, y)", in, 0), doctest::Contains("does not fit"),
                       std::invalid_argument);
  // "input" is just another name once the inputs are named.
  CHECK_THROWS_AS(nn::parse_architecture<T>("x = Linear(2, 1)(input)", in, 0), std::invalid_argument);
  CHECK_THROWS_WITH_AS(nn::parse_architecture<T>("a = Linear(2, 1)(a)", in, 0), doctest::Contains("two layers are named 'a'"), std::invalid_argument);
}

TEST_CASE("IG on both inputs of the two-input model matches Captum's on the tuple (1e-10)") {
  const nn::Model<T> model = nn::load_model<T>(kDir + "two_input.safetensors");
  const auto& ig = find_method<T>("ig");
  const ad::Tensor<T> targets = fixture("target");
  std::vector<int64_t> t;
  for (int64_t i = 0; i < targets.numel(); ++i) t.push_back(int64_t(targets[i]));
  SUBCASE("zero baselines") {
    const auto a = explain_inputs(ig, model, fixture_inputs(), {}, {}, Target<T>::each(t), ig_options());
    REQUIRE(a.values.size() == 2);
    CHECK(max_relative_error(value_of(a, "num"), fixture("both_zero_attr_num"), 1e-6) < 1e-10);
    CHECK(max_relative_error(value_of(a, "cat"), fixture("both_zero_attr_cat"), 1e-6) < 1e-10);
  }
  SUBCASE("a baseline per input, one example's shape; the delta over both") {
    const std::map<std::string, Baseline<T>> b{{"num", Baseline<T>::of(fixture("baseline_num"))}, {"cat", Baseline<T>::of(fixture("baseline_cat"))}};
    const auto a = explain_inputs(ig, model, fixture_inputs(), {"num", "cat"}, b, Target<T>::each(t), ig_options());
    CHECK(max_relative_error(value_of(a, "num"), fixture("both_base_attr_num"), 1e-6) < 1e-10);
    CHECK(max_relative_error(value_of(a, "cat"), fixture("both_base_attr_cat"), 1e-6) < 1e-10);
    const ad::Tensor<T> delta = fixture("both_base_delta");
    REQUIRE(a.packed.deltas.size() == 4);
    for (int64_t i = 0; i < 4; ++i) CHECK(std::abs(a.packed.deltas[size_t(i)] - delta[i]) < 1e-10);
  }
  SUBCASE("the numeric input alone, cat held at each example's value (Captum's additional_forward_args)") {
    const std::map<std::string, Baseline<T>> b{{"num", Baseline<T>::of(fixture("baseline_num"))}};
    const auto a = explain_inputs(ig, model, fixture_inputs(), {"num"}, b, Target<T>::each(t), ig_options());
    REQUIRE(a.values.size() == 1);
    CHECK(max_relative_error(value_of(a, "num"), fixture("num_only_attr_num"), 1e-6) < 1e-10);
    // Completeness with cat held: F(num, cat) − F(num′, cat).
    for (double d : a.packed.deltas) CHECK(std::abs(d) < 1e-2);
  }
}

TEST_CASE("one output per example ([N, 1] and [N]) needs no target: IG matches Captum's without one") {
  const nn::Model<T> model = nn::load_model<T>(kDir + "one_output.safetensors");
  const auto a = explain_inputs(find_method<T>("ig"), model, fixture_inputs(), {}, {}, Target<T>::predicted(), ig_options());
  CHECK(max_relative_error(value_of(a, "num"), fixture("one_output_attr_num"), 1e-6) < 1e-10);
  CHECK(max_relative_error(value_of(a, "cat"), fixture("one_output_attr_cat"), 1e-6) < 1e-10);
  // The same head followed by Select(1, 0): outputs [N], F is that value.
  std::string text = model.architecture() + "\nout = Select(1, 0)";
  const std::vector<nn::ModelInput> in = model.named_inputs;
  nn::Model<T> flat = nn::parse_architecture<T>(text, in, 0);
  auto src = model.named_parameters();
  auto dst = flat.named_parameters();
  for (size_t i = 0; i < src.size(); ++i) dst[i].second->value = src[i].second->value;
  CHECK(flat.output_shape() == ad::Shape{});
  const auto b = explain_inputs(find_method<T>("ig"), flat, fixture_inputs(), {}, {}, Target<T>::predicted(), ig_options());
  CHECK(max_relative_error(value_of(b, "num"), fixture("one_output_attr_num"), 1e-6) < 1e-10);
}

// F(a, b) = w·a + v·b + c: IG per input is w ⊙ (a − a′) and v ⊙ (b − b′) exactly, held input or not.
TEST_CASE("a linear model of two inputs: IG per input is the weight times the input's difference") {
  const std::vector<nn::ModelInput> in{{"a", ad::Shape{2}, nn::InputDtype::float64}, {"b", ad::Shape{3}, nn::InputDtype::float64}};
  nn::Model<T> model = nn::parse_architecture<T>("fa = Linear(2, 1)(a)\nfb = Linear(3, 1)(b)\nsum = Add()(fa, fb)", in, 0);
  auto p = model.named_parameters();
  p[0].second->value = ad::Tensor<T>(ad::Shape{1, 2}, std::vector<T>{0.5, -2});
  p[1].second->value = ad::Tensor<T>(ad::Shape{1}, 0.25);
  p[2].second->value = ad::Tensor<T>(ad::Shape{1, 3}, std::vector<T>{1, 3, -1});
  p[3].second->value = ad::Tensor<T>(ad::Shape{1}, -0.5);
  const NamedTensors<T> x{{"b", ad::Tensor<T>(ad::Shape{2, 3}, std::vector<T>{1, 2, 3, -1, 0, 4})},
                          {"a", ad::Tensor<T>(ad::Shape{2, 2}, std::vector<T>{2, 1, -3, 0.5})}};
  const std::map<std::string, Baseline<T>> base{{"a", Baseline<T>::constant(1)}, {"b", Baseline<T>::of(ad::Tensor<T>(ad::Shape{3}, std::vector<T>{0, 1, 0}))}};
  const Options o = parse_options("ig", find_method<T>("ig").options, {{"steps", "4"}});
  for (const std::vector<std::string>& to : {std::vector<std::string>{}, std::vector<std::string>{"b"}}) {
    CAPTURE(to.size());
    const auto r = explain_inputs(find_method<T>("ig"), model, x, to, to.empty() ? base : std::map<std::string, Baseline<T>>{{"b", base.at("b")}},
                                  Target<T>::predicted(), o);
    const ad::Tensor<T>& ab = value_of(r, "b");
    const T expected_b[] = {1 * 1, 3 * 1, -1 * 3, 1 * -1, 3 * -1, -1 * 4};
    for (int k = 0; k < 6; ++k) CHECK(ab[k] == doctest::Approx(expected_b[k]).epsilon(1e-14));
    if (to.empty()) {
      const ad::Tensor<T>& aa = value_of(r, "a");
      const T expected_a[] = {0.5 * 1, -2 * 0, 0.5 * -4, -2 * -0.5};
      for (int k = 0; k < 4; ++k) CHECK(aa[k] == doctest::Approx(expected_a[k]).epsilon(1e-14));
    }
    for (double d : r.packed.deltas) CHECK(std::abs(d) < 1e-12);
  }
}

TEST_CASE("several inputs: a missing or unknown input, a wrong shape, an unknown --attribute-to name are errors naming them") {
  const nn::Model<T> model = nn::load_model<T>(kDir + "two_input.safetensors");
  const auto& ig = find_method<T>("ig");
  NamedTensors<T> x = fixture_inputs();
  CHECK_THROWS_WITH_AS(explain_inputs(ig, model, x, {"nums"}, {}, Target<T>::of(0), ig_options()),
                       doctest::Contains("no input 'nums'; its inputs are num, cat"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(explain_inputs(ig, model, {x[0]}, {}, {}, Target<T>::of(0), ig_options()), doctest::Contains("no array 'cat'"), std::invalid_argument);
  NamedTensors<T> extra = x;
  extra.emplace_back("age", ad::Tensor<T>(ad::Shape{4, 1}));
  CHECK_THROWS_WITH_AS(explain_inputs(ig, model, extra, {}, {}, Target<T>::of(0), ig_options()), doctest::Contains("'age' is no input"), std::invalid_argument);
  NamedTensors<T> wrong = x;
  wrong[1].second = ad::Tensor<T>(ad::Shape{4, 4});
  CHECK_THROWS_WITH_AS(explain_inputs(ig, model, wrong, {}, {}, Target<T>::of(0), ig_options()), doctest::Contains("input 'cat' has shape [4, 4]"),
                       std::invalid_argument);
  const std::map<std::string, Baseline<T>> bad{{"cat", Baseline<T>::of(ad::Tensor<T>(ad::Shape{2}))}};
  CHECK_THROWS_WITH_AS(explain_inputs(ig, model, x, {}, bad, Target<T>::of(0), ig_options()), doctest::Contains("baseline of input 'cat'"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(explain_inputs(ig, model, x, {"num"}, bad, Target<T>::of(0), ig_options()), doctest::Contains("'cat' is not an explained input"),
                       std::invalid_argument);
}

// Every registered method through the adapter, with its defaults: attributions of each explained
// input's shape (both inputs, then num with cat held), or a clear refusal.
TEST_CASE("every registered method on the two-input model: per-input attributions or a refusal that says why") {
  const nn::Model<T> model = nn::load_model<T>(kDir + "two_input.safetensors");
  const NamedTensors<T> x = fixture_inputs();
  for (const Method<T>& m : registry<T>()) {
    for (const std::vector<std::string>& to : {std::vector<std::string>{}, std::vector<std::string>{"num"}}) {
      CAPTURE(m.name);
      CAPTURE(to.size());
      std::map<std::string, std::string> given;
      if (m.name == "gradientshap") continue;  // a set of baselines [K, ...]: one input's (.npy) only
      const Options o = parse_options(m.name, m.options, given);
      try {
        const auto r = explain_inputs(m, model, x, to, {}, Target<T>::of(1), o);
        if (o.has("layer") && o.given("layer")) continue;
        REQUIRE(r.values.size() == (to.empty() ? 2u : 1u));
        CHECK(value_of(r, "num").shape() == ad::Shape{4, 5});
        if (to.empty()) CHECK(value_of(r, "cat").shape() == ad::Shape{4, 3});
        for (const auto& [name, v] : r.values)
          for (int64_t i = 0; i < v.numel(); ++i) CHECK(std::isfinite(v[i]));
      } catch (const std::invalid_argument& e) {
        const std::string why = m.name + " refuses: " + e.what();
        MESSAGE(why);
        CHECK(std::string(e.what()).size() > 20);
      }
    }
  }
}

// Exact IG walks the adapter too: InputPart is linear, a held input a constant of rate 0.
TEST_CASE("exact IG on a ReLU model of two inputs: completeness to rounding, both explained or one held") {
  const std::vector<nn::ModelInput> in{{"a", ad::Shape{3}, nn::InputDtype::float64}, {"b", ad::Shape{2}, nn::InputDtype::float64}};
  nn::Model<T> model = nn::parse_architecture<T>("fa = Linear(3, 6)(a)\nra = ReLU()\nfb = Linear(2, 6)(b)\nsum = Add()(ra, fb)\nr = ReLU()\nhead = Linear(6, 2)", in, 7);
  const NamedTensors<T> x{{"a", ad::Tensor<T>(ad::Shape{2, 3}, std::vector<T>{1, -2, 0.5, 0.3, 0.7, -1})},
                          {"b", ad::Tensor<T>(ad::Shape{2, 2}, std::vector<T>{-0.4, 1.2, 2, -1})}};
  const auto& exact = find_method<T>("exact_ig");
  for (const std::vector<std::string>& to : {std::vector<std::string>{}, std::vector<std::string>{"a"}}) {
    CAPTURE(to.size());
    const auto r = explain_inputs(exact, model, x, to, {}, Target<T>::of(1), parse_options("exact_ig", exact.options, {}));
    REQUIRE(r.packed.deltas.size() == 2);
    for (double d : r.packed.deltas) CHECK(std::abs(d) < 1e-12);
    CHECK(value_of(r, "a").shape() == ad::Shape{2, 3});
  }
}

// The same model exported by torch.onnx.export (make_two_input_fixtures.py, dynamic batch): its two
// graph inputs are the model's named inputs, it predicts as PyTorch, and IG through it is the
// native model's and Captum's.
TEST_CASE("an ONNX file of two inputs: named inputs, PyTorch's outputs, IG as the native model's and Captum's") {
  const std::string dir = std::string(INTEGRAD_TEST_DATA) + "/onnx/";
  const auto read_inputs = [](const std::string& path) {
    NamedTensors<T> out;
    for (const auto& [name, array] : nn::npz_read(path)) out.emplace_back(name, nn::npy_to_tensor<T>(array, name));
    return out;
  };
  for (const char* suffix : {"f64", "f32"}) {
    CAPTURE(suffix);
    const std::string stem = dir + "two_input_" + suffix;
    const nn::Model<T> model = nn::load_model<T>(stem + ".onnx");
    REQUIRE(model.input_count() == 2);
    CHECK(model.named_inputs[0].name == "num");
    CHECK(model.named_inputs[1].name == "cat");
    CHECK(model.named_inputs[0].shape == ad::Shape{5});
    CHECK(model.named_inputs[1].shape == ad::Shape{3});
    CHECK(model.named_inputs[1].dtype == (std::string(suffix) == "f64" ? nn::InputDtype::float64 : nn::InputDtype::float32));
    const auto xs = inputs_in_order(model, read_inputs(stem + "_input.npz"), "input.npz");
    const ad::Tensor<T> got = model.predict(std::span<const ad::Tensor<T>>(xs));
    const ad::Tensor<T> want = nn::npy_read_tensor<T>(stem + "_output.npy");
    REQUIRE(got.shape() == want.shape());
    double e = 0;
    for (int64_t i = 0; i < got.numel(); ++i) e = std::max(e, std::abs(got[i] - want[i]));
    CHECK(e < (std::string(suffix) == "f64" ? 1e-12 : 1e-5));
    // The module path "num" names the branch's last node; the input of that name is no node.
    CHECK(model.node_index("num") == model.node_index("/num/act/Relu"));
  }
  const nn::Model<T> onnx = nn::load_model<T>(dir + "two_input_f64.onnx");
  const nn::Model<T> native = nn::load_model<T>(kDir + "two_input.safetensors");
  const auto& ig = find_method<T>("ig");
  const ad::Tensor<T> targets = fixture("target");
  std::vector<int64_t> t;
  for (int64_t i = 0; i < targets.numel(); ++i) t.push_back(int64_t(targets[i]));
  const auto a = explain_inputs(ig, onnx, fixture_inputs(), {}, {}, Target<T>::each(t), ig_options());
  const auto b = explain_inputs(ig, native, fixture_inputs(), {}, {}, Target<T>::each(t), ig_options());
  for (const char* name : {"num", "cat"}) {
    CAPTURE(name);
    const ad::Tensor<T>& va = value_of(a, name);
    const ad::Tensor<T>& vb = value_of(b, name);
    REQUIRE(va.shape() == vb.shape());
    for (int64_t i = 0; i < va.numel(); ++i) CHECK(std::abs(va[i] - vb[i]) < 1e-10);
    CHECK(max_relative_error(va, fixture(std::string("both_zero_attr_") + name), 1e-6) < 1e-10);
  }
  // num alone, cat held: Captum's additional_forward_args.
  const std::map<std::string, Baseline<T>> base{{"num", Baseline<T>::of(fixture("baseline_num"))}};
  const auto held = explain_inputs(ig, onnx, fixture_inputs(), {"num"}, base, Target<T>::each(t), ig_options());
  CHECK(max_relative_error(value_of(held, "num"), fixture("num_only_attr_num"), 1e-6) < 1e-10);
}
