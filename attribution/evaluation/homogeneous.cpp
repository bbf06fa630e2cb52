#include "attribution/evaluation/homogeneous.h"

#include <algorithm>
#include <memory>

#include "nn/layers_activation.h"
#include "nn/layers_conv.h"
#include "nn/layers_linear.h"
#include "nn/layers_merge.h"
#include "nn/layers_pool.h"
#include "nn/layers_shape.h"
#include "nn/layers_transformer.h"

namespace integrad::attr {

namespace {

// Layers that commute with a positive scale of their input and add no constant.
template <ad::Scalar T>
bool homogeneous_kind(const nn::Layer<T>& l) {
  using namespace nn;
  return layer_is<Linear<T>>(l) || layer_is<Conv2d<T>>(l) || layer_is<ReLU<T>>(l) || layer_is<MaxPool2d<T>>(l) || layer_is<AvgPool2d<T>>(l) ||
         layer_is<AdaptiveAvgPool2d<T>>(l) || layer_is<Flatten<T>>(l) || layer_is<Mean<T>>(l) || layer_is<Add<T>>(l) || layer_is<Identity<T>>(l) ||
         layer_is<Dropout<T>>(l);
}

template <ad::Scalar T>
bool zero_bias(const nn::Layer<T>& layer) {
  const ad::Tensor<T>* bias = nullptr;
  if (const auto* l = nn::layer_if<nn::Linear<T>>(layer)) {
    if (l->has_bias) bias = &l->bias.value;
  } else if (const auto* c = nn::layer_if<nn::Conv2d<T>>(layer)) {
    if (c->has_bias) bias = &c->bias.value;
  }
  return !bias || std::all_of(bias->span().begin(), bias->span().end(), [](T v) { return v == T(0); });
}

}  // namespace

template <ad::Scalar T>
bool bias_free_relu_network(const nn::Model<T>& model) {
  return std::all_of(model.layers.begin(), model.layers.end(), [](const auto& l) { return homogeneous_kind(*l) && zero_bias(*l); });
}

template <ad::Scalar T>
std::optional<nn::Model<T>> without_biases(const nn::Model<T>& model) {
  if (!std::all_of(model.layers.begin(), model.layers.end(), [](const auto& l) { return homogeneous_kind(*l); })) return std::nullopt;
  nn::Model<T> out = model.clone();
  for (auto& layer : out.layers) {
    if (const auto* l = nn::layer_if<nn::Linear<T>>(*layer)) {
      auto bare = std::make_unique<nn::Linear<T>>(l->in, l->out, false);
      bare->weight.value = l->weight.value;
      layer = std::move(bare);
    } else if (const auto* c = nn::layer_if<nn::Conv2d<T>>(*layer)) {
      auto bare = std::make_unique<nn::Conv2d<T>>(c->in_ch, c->out_ch, c->kernel, c->stride, c->padding, false);
      bare->weight.value = c->weight.value;
      layer = std::move(bare);
    }
  }
  return out;
}

template bool bias_free_relu_network<float>(const nn::Model<float>&);
template bool bias_free_relu_network<double>(const nn::Model<double>&);
template std::optional<nn::Model<float>> without_biases<float>(const nn::Model<float>&);
template std::optional<nn::Model<double>> without_biases<double>(const nn::Model<double>&);

}  // namespace integrad::attr
