// LSTM and GRU against PyTorch (fixtures from tests/data/make_recurrent_fixtures.py, float64):
// output, input gradient and every parameter's gradient within 1e-10, for 1 and 2 layers in both
// layouts; a whole classifier loaded from a model file; the architecture text, state_dict keys,
// initialisation range and refusals.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "nn/architecture.h"
#include "nn/layers_recurrent.h"
#include "nn/model_file.h"
#include "nn/npy.h"
#include "nn/safetensors.h"

using namespace integrad;

namespace {
const std::string kDir = std::string(INTEGRAD_TEST_DATA) + "/torch/";

double max_abs_difference(const ad::Tensor<double>& a, const ad::Tensor<double>& b) {
  REQUIRE(a.shape() == b.shape());
  double worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}
}  // namespace

TEST_CASE("LSTM and GRU match PyTorch in float64: output, input and parameter gradients within 1e-10") {
  for (const char* cell : {"lstm", "gru"})
    for (const char* layers : {"l1", "l2"})
      for (const char* layout : {"bf", "tf"}) {
        const std::string path = kDir + "recurrent_" + cell + "_" + layers + "_" + layout + ".safetensors";
        CAPTURE(path);
        const nn::SafetensorsFile file = nn::safetensors_read(path);
        auto tensor = [&](const std::string& name) { return nn::safetensors_tensor<double>(file, name, path); };
        auto layer = nn::parse_layer<double>(file.metadata.at("architecture"));
        CHECK(layer->architecture() == file.metadata.at("architecture"));
        for (nn::Parameter<double>* p : layer->parameters()) {
          p->value = tensor(p->name);  // every state_dict key must exist under integrad's name
          p->grad = ad::Tensor<double>(p->value.shape());
        }
        CHECK(layer->parameters().size() == (std::string(layers) == "l1" ? 4u : 8u));

        ad::Tape<double> tape;
        const ad::Var<double> x = tape.leaf(tensor("input"), true);
        const ad::Var<double> y = layer->forward(tape, x, nn::Grads::parameters);
        CHECK(max_abs_difference(y.tensor(), tensor("output")) <= 1e-10);
        tape.backward(y, tensor("grad_output").span());
        CHECK(max_abs_difference(x.grad_tensor(), tensor("grad.input")) <= 1e-10);
        for (nn::Parameter<double>* p : layer->parameters()) {
          CAPTURE(p->name);
          CHECK(max_abs_difference(p->grad, tensor("grad." + p->name)) <= 1e-10);
        }
      }
}

TEST_CASE("an Embedding -> LSTM/GRU (2 layers) -> Select(1, -1) -> Linear classifier exported from PyTorch: logits within 1e-12") {
  const ad::Tensor<double> tokens = nn::npy_read_tensor<double>(kDir + "recurrent_model_input.npy");
  for (const char* cell : {"lstm", "gru"}) {
    CAPTURE(cell);
    const auto model = nn::load_model<double>(kDir + "recurrent_model_" + cell + ".safetensors");
    const ad::Tensor<double> expected = nn::npy_read_tensor<double>(kDir + "recurrent_model_" + cell + "_output.npy");
    CHECK(max_abs_difference(model.predict(tokens), expected) <= 1e-12);
  }
}

TEST_CASE("LSTM and GRU: architecture text, state_dict keys, PyTorch's initialisation range, refusals") {
  const std::string text = "Embedding(10, 6); LSTM(6, 4, num_layers=2, bias=False, batch_first=True); GRU(4, 3, batch_first=True); Select(1, -1); Linear(3, 2)";
  auto m = nn::parse_architecture<double>(text, ad::Shape{5}, nn::InputDtype::int64, 7);
  CHECK(m.architecture() == text);
  CHECK(m.output_shape(2) == ad::Shape{5, 4});
  CHECK(m.output_shape(3) == ad::Shape{5, 3});
  const auto names = m.named_parameters();
  REQUIRE(names.size() == 1 + 4 + 4 + 2);
  CHECK(names[1].first == "1.weight_ih_l0");
  CHECK(names[1].second->value.shape() == ad::Shape{16, 6});
  CHECK(names[2].first == "1.weight_hh_l0");
  CHECK(names[3].first == "1.weight_ih_l1");
  CHECK(names[3].second->value.shape() == ad::Shape{16, 4});
  CHECK(names[5].first == "2.weight_ih_l0");
  CHECK(names[5].second->value.shape() == ad::Shape{9, 4});
  CHECK(names[7].first == "2.bias_ih_l0");
  CHECK(names[8].first == "2.bias_hh_l0");
  // U(−1/√H, 1/√H), and not all zero.
  for (size_t k = 1; k <= 8; ++k) {
    const double bound = 1.0 / std::sqrt(k <= 4 ? 4.0 : 3.0);
    double largest = 0;
    for (double v : names[k].second->value.span()) largest = std::max(largest, std::abs(v));
    CHECK(largest <= bound);
    CHECK(largest > 0.5 * bound);
  }
  CHECK(nn::parse_layer<float>("GRU(input_size=3, hidden_size=2, num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False)")->architecture() ==
        "GRU(3, 2)");

  CHECK_THROWS_WITH(nn::parse_layer<float>("LSTM(3, 2, bidirectional=True)"), doctest::Contains("bidirectional=False"));
  CHECK_THROWS_WITH(nn::parse_layer<float>("LSTM(3, 2, num_layers=2, dropout=0.5)"), doctest::Contains("dropout=0"));
  CHECK_THROWS_WITH(nn::parse_layer<float>("LSTM(3, 2, proj_size=1)"), doctest::Contains("proj_size=0"));
  CHECK_THROWS_WITH(nn::parse_layer<float>("GRU(3, 0)"), doctest::Contains("positive integer"));
  CHECK_THROWS_WITH(nn::parse_layer<float>("GRU(3, 2, num_layers=65)"), doctest::Contains("at most 64"));
  CHECK_THROWS_WITH(nn::parse_architecture<float>("Embedding(5, 4); LSTM(4, 3)", ad::Shape{7}, nn::InputDtype::int64, 0),
                    doctest::Contains("use batch_first=True"));
  CHECK_THROWS_WITH(nn::parse_architecture<float>("Embedding(5, 4); GRU(5, 3, batch_first=True)", ad::Shape{7}, nn::InputDtype::int64, 0),
                    doctest::Contains("expects input [L, 5], got [7, 4]"));
  nn::LSTM<double> lstm(3, 2, 1, true, true);
  ad::Tape<double> tape;
  CHECK_THROWS_WITH(lstm.forward(tape, tape.leaf(ad::Tensor<double>(ad::Shape{2, 4})), nn::Grads::none), doctest::Contains("expects input [N, L, input_size]"));
}
