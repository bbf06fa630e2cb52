#include "nn/init.h"

#include <cmath>

#include "nn/layers_conv.h"
#include "nn/layers_embedding.h"
#include "nn/layers_linear.h"
#include "nn/layers_recurrent.h"
#include "nn/layers_transformer.h"

namespace integrad::nn {

namespace {
template <ad::Scalar T>
void uniform(ad::Tensor<T>& t, ad::Rng& rng, double bound) {
  for (T& v : t.span()) v = static_cast<T>(rng.uniform(-bound, bound));
}
}  // namespace

template <ad::Scalar T>
void init_layer(Layer<T>& layer, ad::Rng& rng) {
  if (layer.type() == LayerKind::linear) {
    auto& l = layer_as<Linear<T>>(layer);
    const double bound = 1.0 / std::sqrt(static_cast<double>(l.in));
    uniform(l.weight.value, rng, bound);
    uniform(l.bias.value, rng, bound);
  } else if (layer.type() == LayerKind::conv2d) {
    auto& c = layer_as<Conv2d<T>>(layer);
    const double bound = 1.0 / std::sqrt(static_cast<double>(c.in_ch * c.kernel * c.kernel));
    uniform(c.weight.value, rng, bound);
    uniform(c.bias.value, rng, bound);
  } else if (layer.type() == LayerKind::embedding) {
    for (T& v : layer_as<Embedding<T>>(layer).weight.value.span()) v = static_cast<T>(rng.normal());
  } else if (layer.type() == LayerKind::positional_embedding) {
    // As a learned positional table made of an nn.Embedding: N(0, 1).
    for (T& v : layer_as<PositionalEmbedding<T>>(layer).weight.value.span()) v = static_cast<T>(rng.normal());
  } else if (layer.type() == LayerKind::layer_norm) {
    auto& l = layer_as<LayerNorm<T>>(layer);
    l.weight.value.fill(T(1));
    l.bias.value.fill(T(0));
  } else if (layer.type() == LayerKind::dropout) {
    layer_as<Dropout<T>>(layer).rng = ad::Rng(rng.next_u64());
  } else if (layer.type() == LayerKind::transformer_encoder_layer) {
    // PyTorch's: in_proj xavier_uniform, both attention biases 0, out_proj kaiming_uniform(a=√5)
    // (bound 1/√d), linear1/linear2 as Linear, the norms 1 and 0.
    auto& l = layer_as<TransformerEncoderLayer<T>>(layer);
    const double d = double(l.d_model), ff = double(l.dim_ff);
    uniform(l.in_proj_weight.value, rng, std::sqrt(6.0 / (d + 3 * d)));
    l.in_proj_bias.value.fill(T(0));
    uniform(l.out_proj_weight.value, rng, 1.0 / std::sqrt(d));
    l.out_proj_bias.value.fill(T(0));
    uniform(l.linear1_weight.value, rng, 1.0 / std::sqrt(d));
    uniform(l.linear1_bias.value, rng, 1.0 / std::sqrt(d));
    uniform(l.linear2_weight.value, rng, 1.0 / std::sqrt(ff));
    uniform(l.linear2_bias.value, rng, 1.0 / std::sqrt(ff));
    for (auto* p : {&l.norm1_weight, &l.norm2_weight}) p->value.fill(T(1));
    for (auto* p : {&l.norm1_bias, &l.norm2_bias}) p->value.fill(T(0));
    l.rng = ad::Rng(rng.next_u64());
  } else if (layer.type() == LayerKind::lstm) {
    layer_as<LSTM<T>>(layer).init(rng);
  } else if (layer.type() == LayerKind::gru) {
    layer_as<GRU<T>>(layer).init(rng);
  }
}

template <ad::Scalar T>
void init_parameters(Sequential<T>& model, uint64_t seed) {
  ad::Rng rng(seed);
  for (auto& layer : model.layers) init_layer(*layer, rng);
}

template void init_layer<float>(Layer<float>&, ad::Rng&);
template void init_layer<double>(Layer<double>&, ad::Rng&);
template void init_parameters<float>(Sequential<float>&, uint64_t);
template void init_parameters<double>(Sequential<double>&, uint64_t);

}  // namespace integrad::nn
