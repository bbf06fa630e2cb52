#include "nn/fold_batch_norm.h"

#include "nn/layers_batch_norm.h"
#include "nn/layers_conv.h"
#include "nn/layers_linear.h"
#include "nn/layers_shape.h"

namespace integrad::nn {

namespace {

// The layer's output channels: rows of a Linear's weight, filters of a Conv2d. Returns a copy with
// a bias (zero where it had none) whose weights and bias are folded with scale and shift.
template <ad::Scalar T, class L>
std::unique_ptr<Layer<T>> folded(const L& layer, const ad::Tensor<T>& scale, const ad::Tensor<T>& shift, std::unique_ptr<L> with_bias) {
  const int64_t channels = scale.numel(), per_channel = layer.weight.value.numel() / channels;
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t k = 0; k < per_channel; ++k) with_bias->weight.value[c * per_channel + k] = layer.weight.value[c * per_channel + k] * scale[c];
    with_bias->bias.value[c] = (layer.has_bias ? layer.bias.value[c] : T(0)) * scale[c] + shift[c];
  }
  return with_bias;
}

}  // namespace

template <ad::Scalar T>
Model<T> fold_batch_norm(const Model<T>& model) {
  Model<T> out = model.clone();
  for (size_t i = 0; i < out.layers.size(); ++i) {
    const auto* bn = layer_if<BatchNorm<T>>(*out.layers[i]);
    if (!bn) continue;
    const std::vector<int> reads = out.node_inputs(i);
    if (reads[0] < 0 || out.node_readers(reads[0]).size() != 1) continue;
    const auto [scale, shift] = bn->affine();
    std::unique_ptr<Layer<T>>& before = out.layers[size_t(reads[0])];
    if (const auto* c = layer_if<Conv2d<T>>(*before)) {
      before = folded(*c, scale, shift, std::make_unique<Conv2d<T>>(c->in_ch, c->out_ch, c->kernel, c->stride, c->padding, true));
    } else if (const auto* l = layer_if<Linear<T>>(*before)) {
      before = folded(*l, scale, shift, std::make_unique<Linear<T>>(l->in, l->out, true));
    } else {
      continue;
    }
    out.layers[i] = std::make_unique<Identity<T>>();
  }
  return out;
}

template <ad::Scalar T>
int count_batch_norms(const Model<T>& model) {
  int n = 0;
  for (const auto& l : model.layers) n += layer_is<BatchNorm<T>>(*l);
  return n;
}

template Model<float> fold_batch_norm<float>(const Model<float>&);
template Model<double> fold_batch_norm<double>(const Model<double>&);
template int count_batch_norms<float>(const Model<float>&);
template int count_batch_norms<double>(const Model<double>&);

}  // namespace integrad::nn
