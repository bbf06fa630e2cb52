#include "nn/init.h"

#include "nn/layer_registry.h"

namespace integrad::nn {

template <ad::Scalar T>
void init_layer(Layer<T>& layer, ad::Rng& rng) {
  const LayerType<T>& type = layer_type<T>(layer.kind());
  if (type.init) type.init(layer, rng);
}

template <ad::Scalar T>
void init_parameters(Model<T>& model, uint64_t seed) {
  ad::Rng rng(seed);
  for (auto& layer : model.layers) init_layer(*layer, rng);
}

template void init_layer<float>(Layer<float>&, ad::Rng&);
template void init_layer<double>(Layer<double>&, ad::Rng&);
template void init_parameters<float>(Model<float>&, uint64_t);
template void init_parameters<double>(Model<double>&, uint64_t);

}  // namespace integrad::nn
