#include "attribution/methods/layer_ig.h"

#include <cmath>
#include <stdexcept>

namespace integrad::attr {

template <ad::Scalar T>
Attribution<T> layer_integrated_gradients(const nn::Sequential<T>& model, size_t layer, const ad::Tensor<T>& inputs, const Target<T>& target,
                                          const IgOptions<T>& options) {
  if (layer >= model.layers.size())
    throw std::invalid_argument("layer " + std::to_string(layer) + " does not exist; the model has " + std::to_string(model.layers.size()) + " layers");
  // Targets come from the whole model on the real inputs.
  const std::vector<int64_t> targets = resolve_targets(forward_of(model), inputs, target);
  const Target<T> fixed = targets.empty() ? target : Target<T>::each(targets);
  auto head = [&](const ad::Tensor<T>& x) {
    ad::Tape<T> tape;
    return model.forward(tape, tape.leaf(x), nn::Grads::none, 0, layer + 1).tensor();
  };
  IgOptions<T> layer_options = options;
  layer_options.baselines.clear();
  for (const Baseline<T>& b : options.baselines) layer_options.baselines.push_back(Baseline<T>::of(head(b.expand(inputs))));
  return integrated_gradients(forward_of(model, layer + 1), head(inputs), fixed, layer_options);
}

template <ad::Scalar T>
ad::Tensor<T> sum_last_dim(const ad::Tensor<T>& a) {
  const int64_t d = a.size(-1);
  ad::Tensor<T> out(a.shape().without(-1));
  for (int64_t i = 0; i < out.numel(); ++i)
    for (int64_t k = 0; k < d; ++k) out[i] += a[i * d + k];
  return out;
}

template <ad::Scalar T>
ad::Tensor<T> norm_last_dim(const ad::Tensor<T>& a) {
  const int64_t d = a.size(-1);
  ad::Tensor<T> out(a.shape().without(-1));
  for (int64_t i = 0; i < out.numel(); ++i) {
    T s = 0;
    for (int64_t k = 0; k < d; ++k) s += a[i * d + k] * a[i * d + k];
    out[i] = std::sqrt(s);
  }
  return out;
}

template Attribution<float> layer_integrated_gradients<float>(const nn::Sequential<float>&, size_t, const ad::Tensor<float>&, const Target<float>&,
                                                              const IgOptions<float>&);
template Attribution<double> layer_integrated_gradients<double>(const nn::Sequential<double>&, size_t, const ad::Tensor<double>&,
                                                                const Target<double>&, const IgOptions<double>&);
template ad::Tensor<float> sum_last_dim<float>(const ad::Tensor<float>&);
template ad::Tensor<double> sum_last_dim<double>(const ad::Tensor<double>&);
template ad::Tensor<float> norm_last_dim<float>(const ad::Tensor<float>&);
template ad::Tensor<double> norm_last_dim<double>(const ad::Tensor<double>&);

}  // namespace integrad::attr
