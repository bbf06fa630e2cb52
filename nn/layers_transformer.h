// The layers of a small transformer, with PyTorch's names, arguments and state_dict keys:
// LayerNorm, GELU, Dropout, PositionalEmbedding (integrad's own: a learned [max_len, d] table added
// to a [T, d] input), Select (x.select(dim, index)) and TransformerEncoderLayer (batch_first=True,
// multi-head self-attention from batched GEMMs).
//
// Training mode is Grads::parameters (only training asks for parameter gradients): Dropout is
// active there, with a mask drawn from the layer's own seeded generator, and the identity in every
// other forward (predict, explain, axioms), as PyTorch's eval mode.
#pragma once

#include <cmath>
#include <fmt/format.h>

#include "nn/layer.h"
#include "nn/layer_registry.h"
#include "nn/layers_shape.h"  // Identity's exporter, which Dropout's is

namespace integrad::nn {

namespace detail {
// x·(mask/(1 − p)) with mask ~ Bernoulli(1 − p), as torch.nn.functional.dropout in training; the
// identity outside training or for p = 0.
template <ad::Scalar T>
ad::Var<T> dropout(ad::Tape<T>& tape, ad::Var<T> x, double p, ad::Rng& rng, Grads grads) {
  if (grads != Grads::parameters || p == 0) return x;
  T* mask = tape.template scratch<T>(static_cast<size_t>(x.numel()));
  const T keep = p >= 1 ? T(0) : T(1.0 / (1.0 - p));
  for (int64_t i = 0; i < x.numel(); ++i) mask[i] = rng.uniform() < p ? T(0) : keep;
  return x * tape.leaf(x.shape(), mask);
}
inline std::string real_text(double v) {
  std::string s = fmt::format("{}", v);
  return s.find_first_of(".e") == std::string::npos && s.find("inf") == std::string::npos && s.find("nan") == std::string::npos ? s + ".0" : s;
}
}  // namespace detail

template <ad::Scalar T>
struct LayerNorm : Layer<T> {
  int64_t dim;
  double eps;
  Parameter<T> weight{"weight", ad::Tensor<T>(ad::Shape{dim}, T(1)), ad::Tensor<T>(ad::Shape{dim})};
  Parameter<T> bias{"bias", ad::Tensor<T>(ad::Shape{dim}), ad::Tensor<T>(ad::Shape{dim})};
  explicit LayerNorm(int64_t d, double eps_ = 1e-5) : dim(d), eps(eps_) {}

  std::string kind() const override { return "LayerNorm"; }
  std::string architecture() const override {
    return eps == 1e-5 ? fmt::format("LayerNorm({})", dim) : fmt::format("LayerNorm({}, eps={})", dim, detail::real_text(eps));
  }
  ad::Var<T> forward(ad::Tape<T>& tape, ad::Var<T> x, Grads grads) const override {
    return ad::layer_norm(x, on_tape(tape, weight, grads), on_tape(tape, bias, grads), T(eps));
  }
  ad::Shape output_shape(const ad::Shape& s) const override {
    if (s.rank() < 1 || s[s.rank() - 1] != dim) throw std::invalid_argument(fmt::format("{} expects input [..., {}], got {}", architecture(), dim, s.str()));
    return s;
  }
  std::vector<Parameter<T>*> parameters() override { return {&weight, &bias}; }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<LayerNorm>(*this); }
};

template <ad::Scalar T>
struct GELU : Layer<T> {
  std::string kind() const override { return "GELU"; }
  std::string architecture() const override { return "GELU()"; }
  ad::Var<T> forward(ad::Tape<T>&, ad::Var<T> x, Grads) const override { return ad::gelu(x); }
  ad::Shape output_shape(const ad::Shape& s) const override { return s; }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<GELU>(*this); }
};

template <ad::Scalar T>
struct Dropout : Layer<T> {
  double p;
  mutable ad::Rng rng;  // drawn from in training only; seeded by init_layer
  explicit Dropout(double p_ = 0.5, uint64_t seed = 0) : p(p_), rng(seed) {}

  std::string kind() const override { return "Dropout"; }
  std::string architecture() const override { return fmt::format("Dropout(p={})", detail::real_text(p)); }
  ad::Var<T> forward(ad::Tape<T>& tape, ad::Var<T> x, Grads grads) const override { return detail::dropout(tape, x, p, rng, grads); }
  ad::Shape output_shape(const ad::Shape& s) const override { return s; }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Dropout>(*this); }
};

template <ad::Scalar T>
struct PositionalEmbedding : Layer<T> {
  int64_t max_len, dim;
  Parameter<T> weight{"weight", ad::Tensor<T>(ad::Shape{max_len, dim}), ad::Tensor<T>(ad::Shape{max_len, dim})};
  PositionalEmbedding(int64_t max_len_, int64_t d) : max_len(max_len_), dim(d) {}

  std::string kind() const override { return "PositionalEmbedding"; }
  std::string architecture() const override { return fmt::format("PositionalEmbedding({}, {})", max_len, dim); }
  ad::Var<T> forward(ad::Tape<T>& tape, ad::Var<T> x, Grads grads) const override {
    output_shape(x.shape().without(0));
    const int64_t t = x.shape()[1];
    return x + ad::slice(on_tape(tape, weight, grads), 0, 0, t);
  }
  ad::Shape output_shape(const ad::Shape& s) const override {
    if (s.rank() != 2 || s[1] != dim) throw std::invalid_argument(fmt::format("{} expects input [T, {}], got {}", architecture(), dim, s.str()));
    if (s[0] > max_len)
      throw std::invalid_argument(fmt::format("{}: a sequence of {} tokens is longer than the positional table ({} positions)", architecture(), s[0], max_len));
    return s;
  }
  std::vector<Parameter<T>*> parameters() override { return {&weight}; }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<PositionalEmbedding>(*this); }
};

template <ad::Scalar T>
struct Select : Layer<T> {
  int dim;
  int64_t index;
  Select(int d, int64_t i) : dim(d), index(i) {}

  std::string kind() const override { return "Select"; }
  std::string architecture() const override { return fmt::format("Select({}, {})", dim, index); }
  ad::Var<T> forward(ad::Tape<T>&, ad::Var<T> x, Grads) const override {
    const int axis = x.shape().axis(dim);
    const int64_t n = x.shape()[axis], i = index < 0 ? index + n : index;
    if (axis == 0 || i < 0 || i >= n) throw std::invalid_argument(fmt::format("{} does not fit input {}", architecture(), x.shape().str()));
    return ad::reshape(ad::slice(x, axis, i, i + 1), x.shape().without(axis));
  }
  ad::Shape output_shape(const ad::Shape& s) const override {
    if (dim == 0) throw std::invalid_argument("Select(0, ...) would pick one example of the batch");
    const int per_example = dim > 0 ? dim - 1 : dim;
    if (per_example >= s.rank() || per_example < -s.rank()) throw std::invalid_argument(fmt::format("{} does not fit input {}", architecture(), s.str()));
    const int64_t n = s[s.axis(per_example)];
    if (index >= n || index < -n) throw std::invalid_argument(fmt::format("{}: index {} is out of range for a dimension of size {}", architecture(), index, n));
    return s.without(per_example);
  }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Select>(*this); }
};

enum class FeedForwardActivation { relu, gelu };

// torch.nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
// batch_first=True, norm_first): input [T, d_model] per example.
//   post-norm (default): x = norm1(x + sa(x)); x = norm2(x + ff(x))
//   norm_first:          x = x + sa(norm1(x)); x = x + ff(norm2(x))
// sa(x) = out_proj(concat_h softmax(q_h·k_hᵀ/√(d/h))·v_h), [q k v] = x·in_proj_weightᵀ + in_proj_bias;
// ff(x) = linear2(dropout(act(linear1(x)))). Dropout is applied where PyTorch applies it: to the
// attention weights, after sa (dropout1), inside ff and after it (dropout2).
template <ad::Scalar T>
struct TransformerEncoderLayer : Layer<T> {
  int64_t d_model, nhead, dim_ff;
  double dropout_p;
  FeedForwardActivation activation;
  bool norm_first;
  double eps = 1e-5;
  mutable ad::Rng rng;  // dropout masks in training; seeded by init_layer
  Parameter<T> in_proj_weight{"self_attn.in_proj_weight", ad::Tensor<T>(ad::Shape{3 * d_model, d_model}), ad::Tensor<T>(ad::Shape{3 * d_model, d_model})};
  Parameter<T> in_proj_bias{"self_attn.in_proj_bias", ad::Tensor<T>(ad::Shape{3 * d_model}), ad::Tensor<T>(ad::Shape{3 * d_model})};
  Parameter<T> out_proj_weight{"self_attn.out_proj.weight", ad::Tensor<T>(ad::Shape{d_model, d_model}), ad::Tensor<T>(ad::Shape{d_model, d_model})};
  Parameter<T> out_proj_bias{"self_attn.out_proj.bias", ad::Tensor<T>(ad::Shape{d_model}), ad::Tensor<T>(ad::Shape{d_model})};
  Parameter<T> linear1_weight{"linear1.weight", ad::Tensor<T>(ad::Shape{dim_ff, d_model}), ad::Tensor<T>(ad::Shape{dim_ff, d_model})};
  Parameter<T> linear1_bias{"linear1.bias", ad::Tensor<T>(ad::Shape{dim_ff}), ad::Tensor<T>(ad::Shape{dim_ff})};
  Parameter<T> linear2_weight{"linear2.weight", ad::Tensor<T>(ad::Shape{d_model, dim_ff}), ad::Tensor<T>(ad::Shape{d_model, dim_ff})};
  Parameter<T> linear2_bias{"linear2.bias", ad::Tensor<T>(ad::Shape{d_model}), ad::Tensor<T>(ad::Shape{d_model})};
  Parameter<T> norm1_weight{"norm1.weight", ad::Tensor<T>(ad::Shape{d_model}, T(1)), ad::Tensor<T>(ad::Shape{d_model})};
  Parameter<T> norm1_bias{"norm1.bias", ad::Tensor<T>(ad::Shape{d_model}), ad::Tensor<T>(ad::Shape{d_model})};
  Parameter<T> norm2_weight{"norm2.weight", ad::Tensor<T>(ad::Shape{d_model}, T(1)), ad::Tensor<T>(ad::Shape{d_model})};
  Parameter<T> norm2_bias{"norm2.bias", ad::Tensor<T>(ad::Shape{d_model}), ad::Tensor<T>(ad::Shape{d_model})};

  TransformerEncoderLayer(int64_t d, int64_t heads, int64_t ff = 2048, double dropout = 0.1, FeedForwardActivation act = FeedForwardActivation::relu,
                          bool norm_first_ = false)
      : d_model(d), nhead(heads), dim_ff(ff), dropout_p(dropout), activation(act), norm_first(norm_first_) {
    if (heads < 1 || d % heads != 0)
      throw std::invalid_argument(fmt::format("TransformerEncoderLayer: nhead {} does not divide d_model {} (each head takes d_model/nhead features)", heads, d));
  }

  std::string kind() const override { return "TransformerEncoderLayer"; }
  std::string architecture() const override {
    std::string s = fmt::format("TransformerEncoderLayer({}, {}", d_model, nhead);
    if (dim_ff != 2048) s += fmt::format(", dim_feedforward={}", dim_ff);
    if (dropout_p != 0.1) s += ", dropout=" + detail::real_text(dropout_p);
    if (activation == FeedForwardActivation::gelu) s += ", activation=gelu";
    if (norm_first) s += ", norm_first=True";
    return s + ")";
  }

  ad::Var<T> forward(ad::Tape<T>& tape, ad::Var<T> x, Grads grads) const override { return forward_attention(tape, x, grads, nullptr); }

  // The forward, and (when `attention` is not null) the attention weights [N, nhead, T, T] before
  // dropout, as PyTorch's need_weights=True, average_attn_weights=False gives them.
  ad::Var<T> forward_attention(ad::Tape<T>& tape, ad::Var<T> x, Grads grads, ad::Var<T>* attention) const {
    output_shape(x.shape().without(0));
    auto norm = [&](ad::Var<T> v, const Parameter<T>& w, const Parameter<T>& b) { return ad::layer_norm(v, on_tape(tape, w, grads), on_tape(tape, b, grads), T(eps)); };
    if (norm_first) {
      x = x + self_attention(tape, norm(x, norm1_weight, norm1_bias), grads, attention);
      return x + feed_forward(tape, norm(x, norm2_weight, norm2_bias), grads);
    }
    x = norm(x + self_attention(tape, x, grads, attention), norm1_weight, norm1_bias);
    return norm(x + feed_forward(tape, x, grads), norm2_weight, norm2_bias);
  }

  ad::Shape output_shape(const ad::Shape& s) const override {
    if (s.rank() != 2 || s[1] != d_model) throw std::invalid_argument(fmt::format("{} expects input [T, {}], got {}", architecture(), d_model, s.str()));
    // The attention scores are [nhead, T, T] per example: the same cap as any activation (2^22).
    if (s[0] > 2048 || nhead * s[0] * s[0] > (int64_t(1) << 22))
      throw std::invalid_argument(fmt::format("{}: {} heads over {} tokens make {} x {} x {} attention scores per example, more than the limit of 2^22 values",
                                              architecture(), nhead, s[0], nhead, s[0], s[0]));
    return s;
  }
  std::vector<Parameter<T>*> parameters() override {
    return {&in_proj_weight, &in_proj_bias, &out_proj_weight, &out_proj_bias, &linear1_weight, &linear1_bias,
            &linear2_weight, &linear2_bias, &norm1_weight,   &norm1_bias,     &norm2_weight,   &norm2_bias};
  }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<TransformerEncoderLayer>(*this); }

 private:
  ad::Var<T> self_attention(ad::Tape<T>& tape, ad::Var<T> x, Grads grads, ad::Var<T>* attention) const {
    const int64_t n = x.shape()[0], t = x.shape()[1], h = nhead, hd = d_model / nhead;
    ad::Var<T> qkv = ad::matmul(x, on_tape(tape, in_proj_weight, grads), false, true) + on_tape(tape, in_proj_bias, grads);  // [N, T, 3d]
    const int order[] = {2, 0, 3, 1, 4};
    qkv = ad::permute(ad::reshape(qkv, ad::Shape{n, t, 3, h, hd}), std::span<const int>(order));  // [3, N, h, T, hd]
    auto part = [&](int64_t i) { return ad::reshape(ad::slice(qkv, 0, i, i + 1), ad::Shape{n * h, t, hd}); };
    // As PyTorch: q is scaled before the product.
    ad::Var<T> q = part(0) * T(1.0 / std::sqrt(double(hd))), k = part(1), v = part(2);
    ad::Var<T> weights = ad::softmax(ad::matmul(q, k, false, true), -1);  // [N·h, T, T]
    if (attention) {  // the rest reads the recorded node, so that a gradient reaches it (attention × gradient)
      *attention = ad::reshape(weights, ad::Shape{n, h, t, t});
      weights = ad::reshape(*attention, ad::Shape{n * h, t, t});
    }
    weights = detail::dropout(tape, weights, dropout_p, rng, grads);
    ad::Var<T> heads = ad::matmul(weights, v);  // [N·h, T, hd]
    const int back[] = {0, 2, 1, 3};
    heads = ad::reshape(ad::permute(ad::reshape(heads, ad::Shape{n, h, t, hd}), std::span<const int>(back)), ad::Shape{n, t, d_model});
    ad::Var<T> out = ad::matmul(heads, on_tape(tape, out_proj_weight, grads), false, true) + on_tape(tape, out_proj_bias, grads);
    return detail::dropout(tape, out, dropout_p, rng, grads);
  }
  ad::Var<T> feed_forward(ad::Tape<T>& tape, ad::Var<T> x, Grads grads) const {
    ad::Var<T> hidden = ad::matmul(x, on_tape(tape, linear1_weight, grads), false, true) + on_tape(tape, linear1_bias, grads);
    hidden = activation == FeedForwardActivation::gelu ? ad::gelu(hidden) : ad::relu(hidden);
    hidden = detail::dropout(tape, hidden, dropout_p, rng, grads);
    ad::Var<T> out = ad::matmul(hidden, on_tape(tape, linear2_weight, grads), false, true) + on_tape(tape, linear2_bias, grads);
    return detail::dropout(tape, out, dropout_p, rng, grads);
  }
};

// The ONNX exporters of the kinds below (nn/layer_registry.h OnnxExporter), in
// nn/onnx/export_sequence.cpp and export_transformer.cpp; Dropout's is Identity's (nn/layers_shape.h).
namespace onnx_export {
template <ad::Scalar T>
std::string export_layer_norm(Emitter<T>&, const Layer<T>&, std::span<const std::string>);
template <ad::Scalar T>
std::string export_gelu(Emitter<T>&, const Layer<T>&, std::span<const std::string>);
template <ad::Scalar T>
std::string export_positional_embedding(Emitter<T>&, const Layer<T>&, std::span<const std::string>);
template <ad::Scalar T>
std::string export_select(Emitter<T>&, const Layer<T>&, std::span<const std::string>);
template <ad::Scalar T>
std::string export_transformer_encoder_layer(Emitter<T>&, const Layer<T>&, std::span<const std::string>);
}  // namespace onnx_export

template <ad::Scalar T>
LayerType<T> layer_norm_layer_type() {
  return {"LayerNorm", {"normalized_shape", "eps", "elementwise_affine"},
          [](const LayerArgs& a) -> std::unique_ptr<Layer<T>> {
            if (!a.boolean("elementwise_affine", true)) a.fail("only elementwise_affine=True is supported");
            check_size(a, {a.positive("normalized_shape")});
            return std::make_unique<LayerNorm<T>>(a.positive("normalized_shape"), a.real("eps", 1e-5, 1e-30, 1.0));
          },
          [](Layer<T>& layer, ad::Rng&) {
            auto& l = layer_as<LayerNorm<T>>(layer);
            l.weight.value.fill(T(1));
            l.bias.value.fill(T(0));
          },
          onnx_export::export_layer_norm<T>};
}

template <ad::Scalar T>
LayerType<T> gelu_layer_type() {
  return {"GELU", {"approximate"}, [](const LayerArgs& a) -> std::unique_ptr<Layer<T>> {
            if (a.word("approximate", "none") != "none") a.fail("only approximate='none' (the exact erf form) is supported");
            return std::make_unique<GELU<T>>();
          }, {}, onnx_export::export_gelu<T>};
}

template <ad::Scalar T>
LayerType<T> dropout_layer_type() {
  return {"Dropout", {"p", "inplace"}, [](const LayerArgs& a) -> std::unique_ptr<Layer<T>> { return std::make_unique<Dropout<T>>(a.real("p", 0.5, 0.0, 1.0)); },
          [](Layer<T>& layer, ad::Rng& rng) { layer_as<Dropout<T>>(layer).rng = ad::Rng(rng.next_u64()); },
          onnx_export::export_identity<T>};
}

template <ad::Scalar T>
LayerType<T> positional_embedding_layer_type() {
  return {"PositionalEmbedding", {"max_len", "embedding_dim"},
          [](const LayerArgs& a) -> std::unique_ptr<Layer<T>> {
            check_size(a, {a.positive("max_len"), a.positive("embedding_dim")});
            return std::make_unique<PositionalEmbedding<T>>(a.positive("max_len"), a.positive("embedding_dim"));
          },
          // As a learned positional table made of an nn.Embedding: N(0, 1).
          [](Layer<T>& layer, ad::Rng& rng) {
            for (T& v : layer_as<PositionalEmbedding<T>>(layer).weight.value.span()) v = static_cast<T>(rng.normal());
          },
          onnx_export::export_positional_embedding<T>};
}

template <ad::Scalar T>
LayerType<T> select_layer_type() {
  return {"Select", {"dim", "index"}, [](const LayerArgs& a) -> std::unique_ptr<Layer<T>> {
            const int64_t dim = a.integer("dim"), index = a.integer("index");
            if (dim == 0) a.fail("dim 0 is the batch: Select(0, ...) would pick one example");
            if (dim < -5 || dim > 5 || index < -(int64_t(1) << 24) || index >= (int64_t(1) << 24)) a.fail("'dim' must be in [-5, 5] and 'index' below 2^24 in size");
            return std::make_unique<Select<T>>(static_cast<int>(dim), index);
          }, {}, onnx_export::export_select<T>};
}

template <ad::Scalar T>
LayerType<T> transformer_encoder_layer_type() {
  return {"TransformerEncoderLayer",
          {"d_model", "nhead", "dim_feedforward", "dropout", "activation", "layer_norm_eps", "batch_first", "norm_first"},
          [](const LayerArgs& a) -> std::unique_ptr<Layer<T>> {
            const int64_t d = a.positive("d_model"), heads = a.positive("nhead"), ff = a.positive("dim_feedforward", 2048);
            if (d % heads != 0) a.fail(fmt::format("nhead {} does not divide d_model {} (each head takes d_model/nhead features)", heads, d));
            if (!a.boolean("batch_first", true)) a.fail("only batch_first=True is supported (inputs are [N, T, d_model])");
            const std::string act = a.word("activation", "relu");
            if (act != "relu" && act != "gelu") a.fail("'activation' is '" + act + "', expected relu or gelu");
            if (a.real("layer_norm_eps", 1e-5, 0.0, 1.0) != 1e-5) a.fail("only layer_norm_eps=1e-05 is supported");
            check_size(a, {4 * d + 2 * ff + 8, d});  // in/out projections, linear1 and linear2, norms
            return std::make_unique<TransformerEncoderLayer<T>>(d, heads, ff, a.real("dropout", 0.1, 0.0, 1.0),
                                                                act == "gelu" ? FeedForwardActivation::gelu : FeedForwardActivation::relu, a.boolean("norm_first", false));
          },
          // PyTorch's: in_proj xavier_uniform, both attention biases 0, out_proj kaiming_uniform(a=√5)
          // (bound 1/√d), linear1/linear2 as Linear, the norms 1 and 0.
          [](Layer<T>& layer, ad::Rng& rng) {
            auto& l = layer_as<TransformerEncoderLayer<T>>(layer);
            const double d = double(l.d_model), ff = double(l.dim_ff);
            fill_uniform(l.in_proj_weight.value, rng, std::sqrt(6.0 / (d + 3 * d)));
            l.in_proj_bias.value.fill(T(0));
            fill_uniform(l.out_proj_weight.value, rng, 1.0 / std::sqrt(d));
            l.out_proj_bias.value.fill(T(0));
            fill_uniform(l.linear1_weight.value, rng, 1.0 / std::sqrt(d));
            fill_uniform(l.linear1_bias.value, rng, 1.0 / std::sqrt(d));
            fill_uniform(l.linear2_weight.value, rng, 1.0 / std::sqrt(ff));
            fill_uniform(l.linear2_bias.value, rng, 1.0 / std::sqrt(ff));
            for (auto* p : {&l.norm1_weight, &l.norm2_weight}) p->value.fill(T(1));
            for (auto* p : {&l.norm1_bias, &l.norm2_bias}) p->value.fill(T(0));
            l.rng = ad::Rng(rng.next_u64());
          },
          onnx_export::export_transformer_encoder_layer<T>};
}

}  // namespace integrad::nn
