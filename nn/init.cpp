#include "nn/init.h"

#include <cmath>

#include "nn/layers_conv.h"
#include "nn/layers_embedding.h"
#include "nn/layers_linear.h"

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
