// PyTorch's default initialisation, drawn from our seeded generator: Linear and Conv2d weights
// kaiming_uniform(a=√5), i.e. U(−1/√fan_in, 1/√fan_in), biases U(−1/√fan_in, 1/√fan_in);
// Embedding weights N(0, 1). (Same distributions as PyTorch, not the same random stream.)
#pragma once

#include "nn/model.h"

namespace integrad::nn {

template <ad::Scalar T>
void init_layer(Layer<T>& layer, ad::Rng& rng);
template <ad::Scalar T>
void init_parameters(Model<T>& model, uint64_t seed);

}  // namespace integrad::nn
