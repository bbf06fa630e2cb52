#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "nn/architecture.h"
#include "nn/batches.h"
#include "nn/layers_linear.h"
#include "nn/model_file.h"
#include "nn/safetensors.h"
#include "nn/synthetic.h"

using namespace integrad;

TEST_CASE("architecture text: PyTorch's names and arguments, round trip, and shape checks") {
  const std::string text = "Conv2d(1, 16, 3, padding=1); ReLU(); MaxPool2d(2); Conv2d(16, 32, 3, stride=2, bias=False); Flatten(); Linear(1152, 10)";
  const auto m = nn::parse_architecture<float>(text, ad::Shape{1, 28, 28}, nn::InputDtype::float32, 0);
  CHECK(m.architecture() == text);
  CHECK(m.output_shape() == ad::Shape{10});
  CHECK(m.output_shape(3) == ad::Shape{16, 14, 14});
  const auto names = const_cast<nn::Model<float>&>(m).named_parameters();
  REQUIRE(names.size() == 5);
  CHECK(names[0].first == "0.weight");
  CHECK(names[2].first == "3.weight");  // parameterless layers count, as in a state_dict
  CHECK(names[4].first == "5.bias");
  CHECK_THROWS_WITH(nn::parse_architecture<float>("Flatten(); Linear(100, 10)", ad::Shape{1, 28, 28}, nn::InputDtype::float32, 0),
                    doctest::Contains("[784]"));
  CHECK_THROWS_WITH(nn::parse_layer<float>("Linear(3)"), doctest::Contains("missing 'out_features'"));
  CHECK_THROWS_WITH(nn::parse_layer<float>("GroupNorm(3)"), doctest::Contains("unknown layer"));
  CHECK_THROWS_WITH(nn::parse_layer<float>("Linear(3, 4, bias=maybe)"), doctest::Contains("True or False"));
  CHECK_THROWS_WITH(nn::parse_layer<float>("Conv2d(1, 2, kernel=3)"), doctest::Contains("unknown option 'kernel'"));
  CHECK_THROWS(nn::parse_architecture<float>("", ad::Shape{1}, nn::InputDtype::float32, 0));
  // Found by fuzzing: sizes that would allocate tens of gigabytes are refused before allocating.
  CHECK_THROWS_WITH(nn::parse_layer<float>("Conv2d(1, 8, 77777)"), doctest::Contains("at most 1024"));
  CHECK_THROWS_WITH(nn::parse_layer<float>("Linear(16000000, 16000000)"), doctest::Contains("2^26"));
  CHECK_THROWS_WITH(nn::parse_layer<float>("Embedding(16000000, 1000)"), doctest::Contains("2^26"));
}

TEST_CASE("Model runs Conv2d + ReLU as one op, with the same bits as layer by layer") {
  const auto m = nn::parse_architecture<float>("Conv2d(2, 3, 3, padding=1); ReLU(); Conv2d(3, 2, 3, stride=2); ReLU(); Flatten(); Linear(18, 4)",
                                               ad::Shape{2, 8, 8}, nn::InputDtype::float32, 3);
  ad::Rng rng(4);
  const ad::Tensor<float> x = ad::Tensor<float>::uniform(ad::Shape{3, 2, 8, 8}, rng, -1, 1);
  auto run = [&](bool whole) {
    ad::Tape<float> tape;
    ad::Var<float> in = tape.leaf(x, true), y = in;
    if (whole) y = m.forward(tape, in);
    else  // one layer per call: nothing to fuse
      for (size_t i = 0; i < m.layers.size(); ++i) y = m.forward(tape, y, nn::Grads::none, i, i + 1);
    tape.backward(ad::sum(y));
    std::vector<float> all(y.value().begin(), y.value().end());
    all.insert(all.end(), in.grad().begin(), in.grad().end());
    return std::pair{all, tape.size()};
  };
  const auto [fused, fused_nodes] = run(true);
  const auto [separate, separate_nodes] = run(false);
  CHECK(fused == separate);
  CHECK(fused_nodes < separate_nodes);  // the fusion did happen
}

TEST_CASE("initialisation follows PyTorch's bounds and the seed") {
  const auto a = nn::parse_architecture<double>("Linear(100, 50)", ad::Shape{100}, nn::InputDtype::float64, 7);
  const auto b = nn::parse_architecture<double>("Linear(100, 50)", ad::Shape{100}, nn::InputDtype::float64, 7);
  const auto& w = dynamic_cast<const nn::Linear<double>&>(*a.layers[0]).weight.value;
  CHECK(w.vector() == dynamic_cast<const nn::Linear<double>&>(*b.layers[0]).weight.value.vector());
  double lo = 1, hi = -1;
  for (double v : w.span()) lo = std::min(lo, v), hi = std::max(hi, v);
  CHECK(lo >= -0.1);
  CHECK(hi <= 0.1);
  CHECK(hi > 0.09);  // 5000 draws fill U(−1/√100, 1/√100)
}

TEST_CASE("Linear computes x·Wᵀ + b, and Mean/Embedding make a bag of embeddings") {
  auto m = nn::parse_architecture<double>("Linear(2, 1)", ad::Shape{2}, nn::InputDtype::float64, 0);
  auto& l = dynamic_cast<nn::Linear<double>&>(*m.layers[0]);
  l.weight.value = ad::Tensor<double>(ad::Shape{1, 2}, std::vector<double>{2, -1});
  l.bias.value = ad::Tensor<double>(ad::Shape{1}, 0.5);
  CHECK(m.predict(ad::Tensor<double>(ad::Shape{1, 2}, std::vector<double>{3, 4}))[0] == 2.5);

  auto text = nn::parse_architecture<double>("Embedding(4, 2); Mean(1)", ad::Shape{3}, nn::InputDtype::int64, 0);
  auto& e = *text.named_parameters()[0].second;
  e.value = ad::Tensor<double>(ad::Shape{4, 2}, std::vector<double>{0, 0, 1, 2, 3, 4, 5, 6});
  const auto y = text.predict(ad::Tensor<double>(ad::Shape{1, 3}, std::vector<double>{1, 1, 3}));
  CHECK(y[0] == doctest::Approx((1 + 1 + 5) / 3.0).epsilon(1e-15));
  CHECK(y[1] == doctest::Approx((2 + 2 + 6) / 3.0).epsilon(1e-15));
  CHECK_THROWS_WITH(text.predict(ad::Tensor<double>(ad::Shape{1, 3}, std::vector<double>{1, 9, 0})), doctest::Contains("token id 9"));
}

TEST_CASE("model files: save and load, and mismatches named with both shapes") {
  const auto m = nn::parse_architecture<float>("Linear(3, 2); Tanh(); Linear(2, 2)", ad::Shape{3}, nn::InputDtype::float32, 5);
  const std::string path = (std::filesystem::temp_directory_path() / "integrad_model.safetensors").string();
  nn::save_model(path, m, "F64", {{"note", "hi"}});
  const auto back = nn::load_model<double>(path);
  CHECK(back.architecture() == m.architecture());
  CHECK(nn::model_metadata(path).at("note") == "hi");
  // The same file with an architecture whose shapes differ.
  auto file = nn::safetensors_read(path);
  std::vector<std::pair<std::string, const ad::Tensor<double>*>> tensors;
  std::vector<ad::Tensor<double>> keep;
  for (const auto& [name, raw] : file.tensors) keep.push_back(nn::safetensors_tensor<double>(file, name, path));
  size_t k = 0;
  for (const auto& [name, raw] : file.tensors) tensors.emplace_back(name, &keep[k++]);
  nn::safetensors_write<double>(path, tensors, {{"architecture", "Linear(3, 4); Tanh(); Linear(4, 2)"}, {"input_shape", "3"}}, "F32");
  CHECK_THROWS_WITH(nn::load_model<float>(path), doctest::Contains("has shape [2, 3], the architecture needs [4, 3]"));
}

TEST_CASE("batches: in order, or shuffled by the seed; synthetic sets follow their rules") {
  const auto ordered = nn::make_batches(10, 4, false, 0);
  REQUIRE(ordered.size() == 3);
  CHECK(ordered[2] == std::vector<int64_t>{8, 9});
  CHECK(nn::make_batches(10, 4, true, 3) == nn::make_batches(10, 4, true, 3));
  CHECK(nn::make_batches(10, 4, true, 3) != nn::make_batches(10, 4, true, 4));

  const auto patches = nn::synthetic_patches<float>(20, 1);
  for (int64_t i = 0; i < 20; ++i) {
    const auto [r, c] = nn::synthetic_patch_origin(patches.labels[size_t(i)]);
    CHECK(patches.inputs.at({i, 0, r + 1, c + 2}) == 1.0f);
  }
  CHECK(nn::synthetic_patches<float>(5, 1).inputs.vector() == nn::synthetic_patches<float>(5, 1).inputs.vector());
  const auto tokens = nn::synthetic_tokens<double>(200, 16, 64, 9);
  for (int64_t i = 0; i < 200; ++i) {
    int pos = 0, neg = 0;
    for (int64_t t = 0; t < 16; ++t) {
      const double id = tokens.inputs.at({i, t});
      pos += id == 1 || id == 2;
      neg += id == 3 || id == 4;
    }
    CHECK(tokens.labels[size_t(i)] == (pos > neg ? 1 : 0));
    CHECK(pos != neg);
  }
}
