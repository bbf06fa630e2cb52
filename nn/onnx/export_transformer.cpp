// TransformerEncoderLayer as ONNX nodes, op for op as its forward in evaluation (dropout off):
// the in-projection, heads split by Reshape and Transpose, scaled q·kᵀ, Softmax, the weighted
// values, the out-projection, the residual sums and LayerNormalization (post-norm or pre-norm), the
// feed-forward block. Nodes sit in the scopes of PyTorch's submodules (self_attn, linear1, norm1, ...).
#include <cmath>

#include "nn/layers_transformer.h"
#include "nn/onnx/export_helpers.h"

namespace integrad::nn::onnx_export {

namespace {

template <ad::Scalar T>
std::string self_attention(Emitter<T>& e, const TransformerEncoderLayer<T>& l, const std::string& x, int64_t t) {
  const int64_t d = l.d_model, h = l.nhead, hd = d / h;
  const std::string sa = "self_attn";
  const std::string qkv = linear_map(e, x, 3, l.in_proj_weight, &l.in_proj_bias, sa);  // [N, T, 3d]
  const std::string split = e.node("Reshape", {qkv, e.int64s({-1, t, 3, h, hd}, sa)}, {}, sa);
  const std::string heads = e.node("Transpose", {split}, {attribute("perm", std::vector<int64_t>{2, 0, 3, 1, 4})}, sa);  // [3, N, h, T, hd]
  auto part = [&](int64_t i) { return e.node("Gather", {heads, e.int64_scalar(i, sa)}, {attribute("axis", int64_t(0))}, sa); };
  const std::string q = e.node("Mul", {part(0), e.scalar(1.0 / std::sqrt(double(hd)), sa)}, {}, sa);
  const std::string k = part(1), v = part(2);
  const std::string kt = e.node("Transpose", {k}, {attribute("perm", std::vector<int64_t>{0, 1, 3, 2})}, sa);
  const std::string weights = e.node("Softmax", {e.node("MatMul", {q, kt}, {}, sa)}, {attribute("axis", int64_t(-1))}, sa);  // [N, h, T, T]
  const std::string mixed = e.node("MatMul", {weights, v}, {}, sa);                                                           // [N, h, T, hd]
  const std::string back = e.node("Transpose", {mixed}, {attribute("perm", std::vector<int64_t>{0, 2, 1, 3})}, sa);
  const std::string joined = e.node("Reshape", {back, e.int64s({-1, t, d}, sa)}, {}, sa);
  return linear_map(e, joined, 3, l.out_proj_weight, &l.out_proj_bias, "self_attn/out_proj");
}

template <ad::Scalar T>
std::string feed_forward(Emitter<T>& e, const TransformerEncoderLayer<T>& l, const std::string& x) {
  std::string hidden = linear_map(e, x, 3, l.linear1_weight, &l.linear1_bias, "linear1");
  hidden = l.activation == FeedForwardActivation::gelu ? gelu_nodes(e, hidden, "activation") : e.node("Relu", {hidden}, {}, "activation");
  return linear_map(e, hidden, 3, l.linear2_weight, &l.linear2_bias, "linear2");
}

template <ad::Scalar T>
std::string norm(Emitter<T>& e, const TransformerEncoderLayer<T>& l, const std::string& x, const Parameter<T>& w, const Parameter<T>& b, const std::string& sub) {
  return layer_norm_nodes(e, x, w, b, l.eps, sub);
}

}  // namespace

template <ad::Scalar T>
std::string export_transformer_encoder_layer(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  const auto& l = layer_as<TransformerEncoderLayer<T>>(layer);
  const int64_t t = e.input_shapes()[0][0];
  std::string x = e.floating(in[0]);
  if (l.norm_first) {
    x = e.node("Add", {x, self_attention(e, l, norm(e, l, x, l.norm1_weight, l.norm1_bias, "norm1"), t)});
    return e.node("Add", {x, feed_forward(e, l, norm(e, l, x, l.norm2_weight, l.norm2_bias, "norm2"))});
  }
  x = norm(e, l, e.node("Add", {x, self_attention(e, l, x, t)}), l.norm1_weight, l.norm1_bias, "norm1");
  return norm(e, l, e.node("Add", {x, feed_forward(e, l, x)}), l.norm2_weight, l.norm2_bias, "norm2");
}

template std::string export_transformer_encoder_layer(Emitter<float>&, const Layer<float>&, Inputs);
template std::string export_transformer_encoder_layer(Emitter<double>&, const Layer<double>&, Inputs);

}  // namespace integrad::nn::onnx_export
