// Attention as explanation: weights against PyTorch's need_weights, rollout by hand, the attention
// methods' shapes and readout row, and layer IG on a transformer's embedding (complete per token).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "attribution/method.h"
#include "attribution/methods/attention.h"
#include "attribution/methods/layer_ig.h"
#include "nn/architecture.h"
#include "nn/layers_transformer.h"
#include "nn/model_file.h"
#include "nn/npy.h"

using namespace integrad;

namespace {
const std::string kDir = std::string(INTEGRAD_TEST_DATA) + "/torch/";
}

TEST_CASE("attention weights [N, layers, heads, T, T] equal PyTorch's need_weights=True, average_attn_weights=False") {
  const auto model = nn::load_model<double>(kDir + "transformer_select_f64.safetensors");
  const ad::Tensor<double> ids = nn::npy_read_tensor<double>(kDir + "transformer_input.npy");
  const ad::Tensor<double> expected = nn::npy_read_tensor<double>(kDir + "transformer_attention_f64.npy");
  const ad::Tensor<double> w = attr::attention_weights(model, ids, 2);  // batches of 2: 2, 2, 1
  REQUIRE(w.shape() == expected.shape());
  for (int64_t i = 0; i < w.numel(); ++i) CHECK(w[i] == doctest::Approx(expected[i]).epsilon(1e-12).scale(1e-3));
  const auto model32 = nn::load_model<float>(kDir + "transformer_select_f32.safetensors");
  const ad::Tensor<double> w32 = attr::attention_weights(model32, ids.to<float>()).to<double>();
  const ad::Tensor<double> expected32 = nn::npy_read_tensor<double>(kDir + "transformer_attention_f32.npy");
  for (int64_t i = 0; i < w.numel(); ++i) CHECK(std::abs(w32[i] - expected32[i]) <= 1e-5);
  CHECK(attr::readout_row(model, 7) == 0);  // Select(1, 0): the first token
  CHECK(attr::readout_row(nn::load_model<double>(kDir + "transformer_mean_f64.safetensors"), 7) == -1);
}

TEST_CASE("rollout: one layer is its head mean + identity with rows renormalised; two layers multiply, the later on the left") {
  ad::Rng rng(3);
  const int64_t h = 2, t = 3;
  ad::Tensor<double> w(ad::Shape{1, 2, h, t, t});
  for (int64_t l = 0; l < 2; ++l)
    for (int64_t k = 0; k < h; ++k)
      for (int64_t i = 0; i < t; ++i) {  // rows of softmax-like weights summing to 1
        double s = 0, v[3];
        for (double& x : v) s += x = rng.uniform(0.1, 1.0);
        for (int64_t j = 0; j < t; ++j) w[(((l * h) + k) * t + i) * t + j] = v[j] / s;
      }
  auto a = [&](int64_t l, int64_t i, int64_t j) { return ((w[((l * h + 0) * t + i) * t + j] + w[((l * h + 1) * t + i) * t + j]) / 2 + (i == j)) / 2; };
  const ad::Tensor<double> one = attr::attention_rollout(w, 1);
  for (int64_t i = 0; i < t; ++i)
    for (int64_t j = 0; j < t; ++j) CHECK(one[i * t + j] == doctest::Approx(a(0, i, j)).epsilon(1e-15));
  const ad::Tensor<double> two = attr::attention_rollout(w);
  for (int64_t i = 0; i < t; ++i) {
    double row = 0;
    for (int64_t j = 0; j < t; ++j) {
      double s = 0;
      for (int64_t k = 0; k < t; ++k) s += a(1, i, k) * a(0, k, j);
      CHECK(two[i * t + j] == doctest::Approx(s).epsilon(1e-14));
      row += two[i * t + j];
    }
    CHECK(row == doctest::Approx(1.0).epsilon(1e-14));  // a product of row-stochastic matrices
  }
}

TEST_CASE("explain --method attention | rollout | attention-x-gradient: per-token scores [N, T] at the readout row; layer IG on the embedding is complete per token") {
  const auto model = nn::load_model<double>(kDir + "transformer_select_f64.safetensors");
  const ad::Tensor<double> ids = nn::npy_read_tensor<double>(kDir + "transformer_input.npy");
  const ad::Tensor<double> w = attr::attention_weights(model, ids);
  const auto target = attr::Target<double>::predicted();
  for (const char* name : {"attention", "rollout", "attention-x-gradient"}) {
    CAPTURE(name);
    const auto& m = attr::find_method<double>(name);
    const attr::Options o = attr::parse_options(name, m.options, {});
    const auto a = attr::explain(m, model, ids, attr::Baseline<double>::zero(), target, o);
    REQUIRE(a.values.shape() == ad::Shape{5, 7});
    if (std::string(name) == "attention") {
      // The last attention layer (model layer 3), row 0, mean of its two heads.
      for (int64_t e = 0; e < 5; ++e)
        for (int64_t j = 0; j < 7; ++j)
          CHECK(a.values[e * 7 + j] == doctest::Approx((w[(((e * 2 + 1) * 2 + 0) * 7 + 0) * 7 + j] + w[(((e * 2 + 1) * 2 + 1) * 7 + 0) * 7 + j]) / 2).epsilon(1e-14));
    }
    if (std::string(name) == "rollout") {
      double s = 0;
      for (int64_t j = 0; j < 7; ++j) s += a.values[j];
      CHECK(s == doctest::Approx(1.0).epsilon(1e-12));
    }
  }
  const auto& ig = attr::find_method<double>("ig");
  const attr::Options o = attr::parse_options("ig", ig.options, {{"layer", "0"}});
  const auto a = attr::explain(ig, model, ids, attr::Baseline<double>::zero(), target, o);
  REQUIRE(a.token_values.shape() == ad::Shape{5, 7});
  for (size_t e = 0; e < 5; ++e) CHECK(std::abs(a.deltas[e]) <= 0.01 * std::abs(a.f_input[e] - a.f_baseline[e]) + 1e-9);
  CHECK_THROWS_WITH(attr::parse_options("attention", attr::find_method<double>("attention").options, {{"layer", "oops"}}), doctest::Contains("layer"));
  const attr::Options bad = attr::parse_options("attention", attr::find_method<double>("attention").options, {{"layer", "1"}});
  CHECK_THROWS_WITH(attr::explain(attr::find_method<double>("attention"), model, ids, attr::Baseline<double>::zero(), target, bad),
                    doctest::Contains("not a TransformerEncoderLayer (those of this model: 2, 3)"));
}

TEST_CASE("axiom-matrix rows: the attention methods join the tables for a transformer only; attention × gradient takes a function target") {
  auto names = [](const auto& rows) {
    std::vector<std::string> n;
    for (const auto& r : rows) n.push_back(r.name);
    return n;
  };
  const auto tf = nn::parse_architecture<double>("PositionalEmbedding(6, 4); TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.0); Select(1, 0); Linear(4, 3)",
                                                 ad::Shape{6, 4}, nn::InputDtype::float64, 5);
  const auto with = names(attr::matrix_methods(tf));
  for (const char* m : {"attention", "rollout", "attention-x-gradient"}) CHECK(std::find(with.begin(), with.end(), m) != with.end());
  const auto mlp = nn::parse_architecture<double>("Flatten(); Linear(24, 3)", ad::Shape{6, 4}, nn::InputDtype::float64, 5);
  const auto without = names(attr::matrix_methods(mlp));
  CHECK(std::find(without.begin(), without.end(), "attention") == without.end());
  // Real [T, d] inputs: each token's score spread over its d features (sums per token kept).
  ad::Rng rng(2);
  const ad::Tensor<double> x = ad::Tensor<double>::uniform(ad::Shape{2, 6, 4}, rng, -1, 1);
  const auto fn = attr::Target<double>::scalar([](ad::Var<double> out) { return ad::sum(out, 1); });
  const auto& m = attr::find_method<double>("attention-x-gradient");
  const auto a = m.run({tf, x, attr::Baseline<double>::zero(), fn, attr::parse_options(m.name, m.options, {})});
  REQUIRE(a.values.shape() == x.shape());
  for (int64_t i = 0; i < 12; ++i) CHECK(a.values[i * 4] * 4 == doctest::Approx(a.token_values[i]).epsilon(1e-12));
  // The attention weights of a row sum to 1: Σ scores per example is 1, whatever F(x) − F(x′).
  const auto& att = attr::find_method<double>("attention");
  const auto w = att.run({tf, x, attr::Baseline<double>::zero(), attr::Target<double>::of(0), attr::parse_options(att.name, att.options, {})});
  for (double s : ad::row_sums(w.values)) CHECK(s == doctest::Approx(1.0).epsilon(1e-12));
}

TEST_CASE("attention × gradient: ∂F/∂A equals the gradient of the layer rebuilt from ops with A as a leaf") {
  // One post-norm encoder layer on real inputs; the rest of the layer is recomputed here from the
  // weights with A a leaf, so its gradient is the definition of ∂F/∂A.
  auto model = nn::parse_architecture<double>("TransformerEncoderLayer(4, 2, dim_feedforward=5, dropout=0.0); Select(1, 0); Linear(4, 2)", ad::Shape{3, 4},
                                              nn::InputDtype::float64, 11);
  ad::Rng rng(4);
  for (auto& [name, p] : model.named_parameters()) p->value = ad::Tensor<double>::uniform(p->value.shape(), rng, -0.8, 0.8);
  const ad::Tensor<double> x = ad::Tensor<double>::uniform(ad::Shape{1, 3, 4}, rng, -1, 1);
  const ad::Tensor<double> w = attr::attention_weights(model, x);  // [1, 1, 2, 3, 3]
  const ad::Tensor<double> ours = attr::attention_times_gradient(model, x, attr::Target<double>::of(1), 0);  // [1, 3, 3]

  const auto& l = nn::layer_as<nn::TransformerEncoderLayer<double>>(*model.layers[0]);
  const auto& lin = *model.layers[2]->parameters()[0];
  const auto& lin_b = *model.layers[2]->parameters()[1];
  ad::Tape<double> tape;
  auto c = [&](const ad::Tensor<double>& t) { return tape.leaf(t); };
  ad::Var<double> xv = c(x), a = tape.leaf(w.reshaped(ad::Shape{2, 3, 3}), true);
  ad::Var<double> qkv = ad::matmul(xv, c(l.in_proj_weight.value), false, true) + c(l.in_proj_bias.value);  // [1, 3, 12]
  ad::Var<double> v = ad::slice(qkv, 2, 8, 12);                                                            // [1, 3, 4]: heads of 2
  const int to_heads[] = {0, 2, 1, 3};
  v = ad::reshape(ad::permute(ad::reshape(v, ad::Shape{1, 3, 2, 2}), std::span<const int>(to_heads)), ad::Shape{2, 3, 2});
  ad::Var<double> heads = ad::reshape(ad::permute(ad::reshape(ad::matmul(a, v), ad::Shape{1, 2, 3, 2}), std::span<const int>(to_heads)), ad::Shape{1, 3, 4});
  ad::Var<double> sa = ad::matmul(heads, c(l.out_proj_weight.value), false, true) + c(l.out_proj_bias.value);
  ad::Var<double> h1 = ad::layer_norm(xv + sa, c(l.norm1_weight.value), c(l.norm1_bias.value), 1e-5);
  ad::Var<double> ff = ad::matmul(ad::relu(ad::matmul(h1, c(l.linear1_weight.value), false, true) + c(l.linear1_bias.value)), c(l.linear2_weight.value), false, true) +
                       c(l.linear2_bias.value);
  ad::Var<double> h2 = ad::layer_norm(h1 + ff, c(l.norm2_weight.value), c(l.norm2_bias.value), 1e-5);
  ad::Var<double> logits = ad::matmul(ad::reshape(ad::slice(h2, 1, 0, 1), ad::Shape{1, 4}), c(lin.value), false, true) + c(lin_b.value);
  tape.backward(ad::sum(ad::slice(logits, 1, 1, 2)));
  const ad::Tensor<double> g = a.grad_tensor();
  for (int64_t ij = 0; ij < 9; ++ij) {
    const double expected = (w[ij] * g[ij] + w[9 + ij] * g[9 + ij]) / 2;
    CHECK(ours[ij] == doctest::Approx(expected).epsilon(1e-12).scale(1e-6));
  }
  CHECK(std::abs(g[0]) > 1e-6);  // a real gradient, not zeros
}
