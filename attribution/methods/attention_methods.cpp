// The registry entries of the attention methods. Each gives per-token scores [N, T] read at the
// model's readout row (the token a Select(1, i) after the attention picks, e.g. CLS; the mean of all
// rows when the model pools with Mean(1)):
//   attention             the head mean of attention layer --layer's weights (default: the last);
//   rollout               attention rollout (Abnar & Zuidema 2020) through layer --layer;
//   attention-x-gradient  the head mean of A ⊙ ∂F_target/∂A at layer --layer, signed (the
//                         "attention × gradient" of Chefer et al. 2021, one layer, no clamping).
// None is complete or claims an axiom; the axiom matrix shows what they break. On a model fed real
// [T, d] inputs instead of token ids, each token's score is spread evenly over its d features, so
// that the scores have the inputs' shape and sum per token to the token's score.
#include <fmt/format.h>

#include "attribution/method.h"
#include "attribution/methods/attention.h"
#include "nn/layers_transformer.h"

namespace integrad::attr {

namespace {

enum class AttentionKind { weights, rollout, times_gradient };

// Which attention layer (index into attention_layers) --layer I names; I counts model layers.
template <ad::Scalar T>
size_t chosen_layer(const std::vector<size_t>& att, const Options& o) {
  if (!o.has("layer")) return att.size() - 1;
  const auto i = static_cast<size_t>(o.integer("layer"));
  for (size_t k = 0; k < att.size(); ++k)
    if (att[k] == i) return k;
  std::string known;
  for (size_t k : att) known += (known.empty() ? "" : ", ") + std::to_string(k);
  throw std::invalid_argument(fmt::format("--layer {} is not a TransformerEncoderLayer (those of this model: {})", i, known));
}

template <ad::Scalar T>
Attribution<T> run_attention(const MethodCall<T>& c, AttentionKind kind) {
  const std::vector<size_t> att = attention_layers(c.model);
  const size_t which = chosen_layer<T>(att, c.options);
  const int64_t t = c.model.output_shape(att[0])[0];
  const int64_t row = readout_row(c.model, t);
  ad::Tensor<T> maps;
  if (kind == AttentionKind::times_gradient) {
    maps = attention_times_gradient(c.model, c.inputs, c.target, which);
  } else {
    const ad::Tensor<T> w = attention_weights(c.model, c.inputs);
    if (kind == AttentionKind::rollout) maps = attention_rollout(w, int64_t(which) + 1);
    else {
      const int64_t n = w.size(0), l = w.size(1), h = w.size(2);
      maps = ad::Tensor<T>(ad::Shape{n, t, t});
      for (int64_t e = 0; e < n; ++e)
        for (int64_t k = 0; k < h; ++k)
          for (int64_t ij = 0; ij < t * t; ++ij) maps[e * t * t + ij] += w[((e * l + int64_t(which)) * h + k) * t * t + ij] / T(h);
    }
  }
  Attribution<T> a;
  a.token_values = readout_scores(maps, row);
  a.is_signed = kind == AttentionKind::times_gradient;
  if (c.model.input_dtype == nn::InputDtype::int64) {
    a.values = a.token_values;
  } else {  // real [T, d] inputs: the token's score spread over its features
    a.values = ad::Tensor<T>(c.inputs.shape());
    const int64_t d = c.inputs.numel() / std::max<int64_t>(1, a.token_values.numel());
    for (int64_t i = 0; i < a.values.numel(); ++i) a.values[i] = a.token_values[i / d] / T(d);
  }
  return a;
}

std::vector<OptionSpec> layer_option(const char* what) {
  return {{.name = "layer", .kind = OptionSpec::Kind::integer, .help = what, .min = 0, .max = 1e6}};
}

}  // namespace

template <ad::Scalar T>
Method<T> attention_method() {
  return {.name = "attention",
          .display_name = "Attention",
          .summary = "attention weights of layer --layer (head mean) in the row the model reads out (CLS), per token",
          .is_signed = false,
          .takes_token_ids = true,
          .options = layer_option("the TransformerEncoderLayer read (0-based model layer; default the last)"),
          .in_tables = has_attention<T>,
          .run = [](const MethodCall<T>& c) { return run_attention(c, AttentionKind::weights); }};
}

template <ad::Scalar T>
Method<T> rollout_method() {
  return {.name = "rollout",
          .display_name = "Attention rollout",
          .summary = "attention rollout (Abnar & Zuidema 2020): head means + identity, renormalised, multiplied up to layer --layer; readout row",
          .is_signed = false,
          .takes_token_ids = true,
          .options = layer_option("roll out through this TransformerEncoderLayer (0-based model layer; default the last)"),
          .in_tables = has_attention<T>,
          .run = [](const MethodCall<T>& c) { return run_attention(c, AttentionKind::rollout); }};
}

template <ad::Scalar T>
Method<T> attention_x_gradient_method() {
  return {.name = "attention-x-gradient",
          .display_name = "Attention × gradient",
          .summary = "head mean of A ⊙ ∂F/∂A at layer --layer (Chefer et al. 2021, one layer, signed) in the readout row, per token",
          .takes_token_ids = true,
          .options = layer_option("the TransformerEncoderLayer read (0-based model layer; default the last)"),
          .in_tables = has_attention<T>,
          .run = [](const MethodCall<T>& c) { return run_attention(c, AttentionKind::times_gradient); }};
}

template Method<float> attention_method<float>();
template Method<double> attention_method<double>();
template Method<float> rollout_method<float>();
template Method<double> rollout_method<double>();
template Method<float> attention_x_gradient_method<float>();
template Method<double> attention_x_gradient_method<double>();

}  // namespace integrad::attr
