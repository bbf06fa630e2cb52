// The transformer layers: architecture text, hand-computed attention, gradients of every parameter
// against finite differences, dropout's modes, and the refusals (nhead, positions, Select).
#include <doctest/doctest.h>

#include <cmath>

#include "nn/architecture.h"
#include "nn/layers_transformer.h"

using namespace integrad;

TEST_CASE("transformer layers: architecture text round trip, PyTorch's state_dict keys, refusals") {
  const std::string text =
      "Embedding(12, 8); PositionalEmbedding(6, 8); TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0); "
      "TransformerEncoderLayer(8, 4, dim_feedforward=16, dropout=0.25, activation=gelu, norm_first=True); LayerNorm(8); GELU(); Dropout(p=0.1); Select(1, 0); Linear(8, 2)";
  auto m = nn::parse_architecture<double>(text, ad::Shape{6}, nn::InputDtype::int64, 3);
  CHECK(m.architecture() == text);
  CHECK(m.output_shape() == ad::Shape{2});
  CHECK(m.output_shape(3) == ad::Shape{6, 8});
  const auto names = m.named_parameters();
  REQUIRE(names.size() == 2 + 12 + 12 + 2 + 2);
  CHECK(names[2].first == "2.self_attn.in_proj_weight");
  CHECK(names[2].second->value.shape() == ad::Shape{24, 8});
  CHECK(names[3].first == "2.self_attn.in_proj_bias");
  CHECK(names[4].first == "2.self_attn.out_proj.weight");
  CHECK(names[5].first == "2.self_attn.out_proj.bias");
  CHECK(names[6].first == "2.linear1.weight");
  CHECK(names[6].second->value.shape() == ad::Shape{16, 8});
  CHECK(names[9].first == "2.linear2.bias");
  CHECK(names[10].first == "2.norm1.weight");
  CHECK(names[13].first == "2.norm2.bias");
  CHECK(names[26].first == "4.weight");
  CHECK(names[26].second->value[0] == 1.0);  // LayerNorm starts at weight 1, bias 0
  CHECK(names[27].second->value[0] == 0.0);
  CHECK(nn::parse_layer<float>("TransformerEncoderLayer(8, 2, activation='gelu')")->architecture() == "TransformerEncoderLayer(8, 2, activation=gelu)");
  CHECK(nn::parse_layer<float>("Dropout()")->architecture() == "Dropout(p=0.5)");
  CHECK(nn::parse_layer<float>("LayerNorm(4, eps=0.001)")->architecture() == "LayerNorm(4, eps=0.001)");

  CHECK_THROWS_WITH(nn::parse_layer<float>("TransformerEncoderLayer(10, 3)"), doctest::Contains("nhead 3 does not divide d_model 10"));
  CHECK_THROWS_WITH(nn::parse_layer<float>("TransformerEncoderLayer(8, 2, activation=tanh)"), doctest::Contains("expected relu or gelu"));
  CHECK_THROWS_WITH(nn::parse_layer<float>("TransformerEncoderLayer(8, 2, batch_first=False)"), doctest::Contains("batch_first=True"));
  CHECK_THROWS_WITH(nn::parse_layer<float>("Dropout(1.5)"), doctest::Contains("in [0, 1]"));
  CHECK_THROWS_WITH(nn::parse_layer<float>("Select(0, 1)"), doctest::Contains("batch"));
  CHECK_THROWS_WITH(nn::parse_architecture<float>("Embedding(5, 4); PositionalEmbedding(3, 4)", ad::Shape{7}, nn::InputDtype::int64, 0),
                    doctest::Contains("a sequence of 7 tokens is longer than the positional table (3 positions)"));
  CHECK_THROWS_WITH(nn::parse_architecture<float>("Embedding(5, 4); Select(1, 9)", ad::Shape{7}, nn::InputDtype::int64, 0),
                    doctest::Contains("index 9 is out of range"));
  // At run time too: a longer sequence than the table, whatever the model's declared input.
  nn::PositionalEmbedding<double> pos(3, 2);
  ad::Tape<double> tape;
  CHECK_THROWS_WITH(pos.forward(tape, tape.leaf(ad::Tensor<double>(ad::Shape{1, 4, 2})), nn::Grads::none), doctest::Contains("longer than the positional table"));
}

TEST_CASE("one-head attention computed by hand; Select and PositionalEmbedding values") {
  // q = k = v = x (in_proj = [I; I; I], biases 0): the weights are softmax(x·xᵀ/√2) row by row.
  nn::TransformerEncoderLayer<double> l(2, 1, 3, 0.0);
  l.in_proj_weight.value = ad::Tensor<double>(ad::Shape{6, 2}, std::vector<double>{1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1});
  ad::Tape<double> tape;
  const std::vector<double> x = {1, 0, 0, 2, 1, 1};  // one example, three tokens
  ad::Var<double> att;
  l.forward_attention(tape, tape.leaf(ad::Shape{1, 3, 2}, x.data()), nn::Grads::none, &att);
  REQUIRE(att.shape() == ad::Shape{1, 1, 3, 3});
  for (int i = 0; i < 3; ++i) {
    double s[3], z = 0;
    for (int j = 0; j < 3; ++j) z += s[j] = std::exp((x[size_t(2 * i)] * x[size_t(2 * j)] + x[size_t(2 * i + 1)] * x[size_t(2 * j + 1)]) / std::sqrt(2.0));
    for (int j = 0; j < 3; ++j) CHECK(att.value()[size_t(3 * i + j)] == doctest::Approx(s[j] / z).epsilon(1e-14));
  }
  // Row 0 by hand: scores 1/√2, 0, 1/√2 → e^{1/√2}/(2e^{1/√2} + 1).
  const double e = std::exp(1 / std::sqrt(2.0));
  CHECK(att.value()[0] == doctest::Approx(e / (2 * e + 1)).epsilon(1e-14));
  CHECK(att.value()[1] == doctest::Approx(1 / (2 * e + 1)).epsilon(1e-14));

  nn::Select<double> sel(1, -1);
  ad::Var<double> last = sel.forward(tape, tape.leaf(ad::Shape{1, 3, 2}, x.data()), nn::Grads::none);
  CHECK(last.shape() == ad::Shape{1, 2});
  CHECK(last.value()[0] == 1.0);
  CHECK(last.value()[1] == 1.0);
  nn::PositionalEmbedding<double> pos(4, 2);
  pos.weight.value = ad::Tensor<double>::arange(8).reshaped(ad::Shape{4, 2});
  ad::Var<double> p = pos.forward(tape, tape.leaf(ad::Shape{1, 3, 2}, x.data()), nn::Grads::none);
  CHECK(p.value()[5] == 1.0 + 5.0);
}

namespace {
// Σ out·w for a fixed w: the scalar whose gradients are checked.
double weighted_output(const nn::Layer<double>& l, const ad::Tensor<double>& x, const ad::Tensor<double>& w, nn::Grads grads) {
  ad::Tape<double> tape;
  ad::Var<double> y = l.forward(tape, tape.leaf(x), grads);
  double s = 0;
  for (int64_t i = 0; i < y.numel(); ++i) s += y.value()[size_t(i)] * w[i];
  return s;
}

void check_parameter_gradients(nn::Layer<double>& l, const ad::Shape& in) {
  ad::Rng rng(7);
  const ad::Tensor<double> x = ad::Tensor<double>::uniform(in, rng, -1, 1);
  const ad::Tensor<double> w = ad::Tensor<double>::uniform(nn::with_batch(in[0], l.output_shape(in.without(0))), rng, -1, 1);
  for (nn::Parameter<double>* p : l.parameters()) {
    for (double& v : p->value.span()) v += 0.3 * rng.uniform(-1, 1);  // norms and biases away from 1 and 0
    p->grad = ad::Tensor<double>(p->value.shape());
  }
  {
    ad::Tape<double> tape;
    ad::Var<double> y = l.forward(tape, tape.leaf(x, true), nn::Grads::parameters);
    tape.backward(y, w.span());
  }
  for (nn::Parameter<double>* p : l.parameters()) {
    CAPTURE(p->name);
    for (int64_t i = 0; i < p->value.numel(); ++i) {
      const double keep = p->value[i], eps = 1e-6;
      p->value[i] = keep + eps;
      const double up = weighted_output(l, x, w, nn::Grads::none);
      p->value[i] = keep - eps;
      const double down = weighted_output(l, x, w, nn::Grads::none);
      p->value[i] = keep;
      CHECK(p->grad[i] == doctest::Approx((up - down) / (2 * eps)).epsilon(1e-6).scale(1.0));
    }
  }
}
}  // namespace

TEST_CASE("TransformerEncoderLayer and LayerNorm: every parameter's gradient against finite differences (double)") {
  for (auto text : {"TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0)",
                    "TransformerEncoderLayer(6, 3, dim_feedforward=5, dropout=0.0, activation=gelu, norm_first=True)", "LayerNorm(4)", "PositionalEmbedding(5, 4)"}) {
    CAPTURE(text);
    auto l = nn::parse_layer<double>(text);
    const int64_t d = std::string(text).find("(6") != std::string::npos ? 6 : 4;
    check_parameter_gradients(*l, ad::Shape{2, 3, d});
  }
}

TEST_CASE("Dropout: identity outside training; in training a seeded mask of 0 and 1/(1 − p)") {
  nn::Dropout<double> drop(0.25, 5), same(0.25, 5);
  const ad::Tensor<double> x = ad::Tensor<double>::ones(ad::Shape{4, 500});
  ad::Tape<double> tape;
  ad::Var<double> eval = drop.forward(tape, tape.leaf(x), nn::Grads::none);
  for (double v : eval.value()) CHECK(v == 1.0);
  ad::Var<double> a = drop.forward(tape, tape.leaf(x), nn::Grads::parameters), b = same.forward(tape, tape.leaf(x), nn::Grads::parameters);
  int zeros = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double v = a.value()[size_t(i)];
    CHECK((v == 0.0 || v == doctest::Approx(1 / 0.75).epsilon(1e-15)));
    CHECK(v == b.value()[size_t(i)]);
    zeros += v == 0.0;
  }
  CHECK(std::abs(zeros / 2000.0 - 0.25) < 0.04);  // binomial: sd ≈ 0.01
  // The transformer layer with dropout: training differs from eval, eval is deterministic.
  auto l = nn::parse_layer<double>("TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.5)");
  ad::Rng rng(1);
  for (auto* p : l->parameters()) p->value = ad::Tensor<double>::uniform(p->value.shape(), rng, -0.5, 0.5);
  const ad::Tensor<double> h = ad::Tensor<double>::uniform(ad::Shape{2, 3, 4}, rng, -1, 1);
  ad::Var<double> e1 = l->forward(tape, tape.leaf(h), nn::Grads::none), e2 = l->forward(tape, tape.leaf(h), nn::Grads::none);
  ad::Var<double> t1 = l->forward(tape, tape.leaf(h), nn::Grads::parameters);
  bool differs = false;
  for (size_t i = 0; i < size_t(e1.numel()); ++i) {
    CHECK(e1.value()[i] == e2.value()[i]);
    differs = differs || e1.value()[i] != t1.value()[i];
  }
  CHECK(differs);
}

TEST_CASE("TransformerEncoderLayer: attention scores beyond 2^22 per example are refused before allocating") {
  CHECK_THROWS_WITH(nn::parse_architecture<float>("Embedding(5, 8); TransformerEncoderLayer(8, 2, dim_feedforward=8)", ad::Shape{4096}, nn::InputDtype::int64, 0),
                    doctest::Contains("attention scores per example, more than the limit of 2^22"));
  CHECK_NOTHROW(nn::parse_architecture<float>("Embedding(5, 8); TransformerEncoderLayer(8, 2, dim_feedforward=8)", ad::Shape{1024}, nn::InputDtype::int64, 0));
}
