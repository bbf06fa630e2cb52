#include "attribution/conv_surgery.h"

#include <cmath>
#include <memory>
#include <stdexcept>

#include "nn/layers_conv.h"
#include "nn/layers_linear.h"

namespace integrad::attr {

namespace {

// Conv2d at `conv`, whose channel c arrives at the weighted layer `next` as its input channel c
// (Conv2d) or as a run of consecutive columns (Linear after Flatten). Between them only layers
// that commute with permuting channels and with scaling one by c > 0.
struct ConvBlock {
  int conv = -1, next = -1;
};

template <ad::Scalar T>
ConvBlock conv_block(const nn::Sequential<T>& model) {
  for (size_t k = 0; k < model.layers.size(); ++k) {
    if (model.layers[k]->kind() != "Conv2d") continue;
    bool flattened = false;
    for (size_t j = k + 1; j < model.layers.size(); ++j) {
      const std::string kind = model.layers[j]->kind();
      if (kind == "ReLU" || kind == "MaxPool2d" || kind == "AvgPool2d") continue;
      if (kind == "Flatten") {
        flattened = true;
        continue;
      }
      if ((kind == "Conv2d" && !flattened) || (kind == "Linear" && flattened)) return {int(k), int(j)};
      break;
    }
  }
  return {};
}

// Copies of the block's two layers, with `edit` applied to them, put into a copy of the model.
template <ad::Scalar T, class Edit>
nn::Sequential<T> edited(const nn::Sequential<T>& model, const ConvBlock& b, Edit edit) {
  nn::Sequential<T> twin = model.clone();
  auto conv = std::make_unique<nn::Conv2d<T>>(dynamic_cast<const nn::Conv2d<T>&>(*model.layers[size_t(b.conv)]));
  // The next layer's weights as [out, channels, plane] whichever kind it is.
  std::unique_ptr<nn::Layer<T>> next;
  ad::Tensor<T>* w = nullptr;
  if (model.layers[size_t(b.next)]->kind() == "Conv2d") {
    auto c = std::make_unique<nn::Conv2d<T>>(dynamic_cast<const nn::Conv2d<T>&>(*model.layers[size_t(b.next)]));
    w = &c->weight.value;
    next = std::move(c);
  } else {
    auto l = std::make_unique<nn::Linear<T>>(dynamic_cast<const nn::Linear<T>&>(*model.layers[size_t(b.next)]));
    w = &l->weight.value;
    next = std::move(l);
  }
  const int64_t outs = w->size(0), plane = w->numel() / (outs * conv->out_ch);
  edit(*conv, [&](int64_t o, int64_t channel, int64_t i) -> T& { return (*w)[(o * conv->out_ch + channel) * plane + i]; }, outs, plane);
  twin.layers[size_t(b.conv)] = std::move(conv);
  twin.layers[size_t(b.next)] = std::move(next);
  return twin;
}

}  // namespace

template <ad::Scalar T>
std::vector<std::pair<std::string, nn::Sequential<T>>> conv_twins(const nn::Sequential<T>& model) {
  std::vector<std::pair<std::string, nn::Sequential<T>>> twins;
  const ConvBlock b = conv_block(model);
  if (b.conv < 0) return twins;
  const auto& original = dynamic_cast<const nn::Conv2d<T>&>(*model.layers[size_t(b.conv)]);
  const int64_t channels = original.out_ch, patch = original.in_ch * original.kernel * original.kernel;

  // Channels reversed: the conv's filters and biases, and the next layer's incoming weights.
  twins.emplace_back("permuted channels", edited(model, b, [&](nn::Conv2d<T>& conv, auto&& next_w, int64_t outs, int64_t plane) {
                       const nn::Conv2d<T> before = conv;
                       for (int64_t c = 0; c < channels; ++c) {
                         const int64_t from = channels - 1 - c;
                         for (int64_t p = 0; p < patch; ++p) conv.weight.value[c * patch + p] = before.weight.value[from * patch + p];
                         if (conv.has_bias) conv.bias.value[c] = before.bias.value[from];
                       }
                       for (int64_t o = 0; o < outs; ++o)
                         for (int64_t c = 0; c < channels / 2; ++c)
                           for (int64_t i = 0; i < plane; ++i) std::swap(next_w(o, c, i), next_w(o, channels - 1 - c, i));
                     }));
  // Channel 0 scaled by c > 0: ReLU and pooling commute with it, the next layer undoes it.
  twins.emplace_back("channel scaled by 2.5 and 1/2.5", edited(model, b, [&](nn::Conv2d<T>& conv, auto&& next_w, int64_t outs, int64_t plane) {
                       const T c = T(2.5);
                       for (int64_t p = 0; p < patch; ++p) conv.weight.value[p] *= c;
                       if (conv.has_bias) conv.bias.value[0] *= c;
                       for (int64_t o = 0; o < outs; ++o)
                         for (int64_t i = 0; i < plane; ++i) next_w(o, 0, i) /= c;
                     }));
  // An identity 1×1 convolution right after the block's convolution.
  {
    nn::Sequential<T> t = model.clone();
    auto id = std::make_unique<nn::Conv2d<T>>(channels, channels, 1);
    for (int64_t c = 0; c < channels; ++c) id->weight.value[c * channels + c] = T(1);
    t.layers.insert(t.layers.begin() + b.conv + 1, std::move(id));
    twins.emplace_back("identity 1x1 convolution inserted", std::move(t));
  }
  return twins;
}

namespace {

// A copy of the model whose first Conv2d takes one more input channel; `extra_weight(o, c, i)`
// gives the new weights from the old ones (channel in_ch is the new one).
template <ad::Scalar T, class Weight>
nn::Sequential<T> widened_input(const nn::Sequential<T>& model, Weight extra_weight) {
  if (model.layers.empty() || model.layers[0]->kind() != "Conv2d")
    throw std::invalid_argument("needs a model whose first layer is Conv2d, got " + model.architecture());
  const auto& conv = dynamic_cast<const nn::Conv2d<T>&>(*model.layers[0]);
  auto wide = std::make_unique<nn::Conv2d<T>>(conv.in_ch + 1, conv.out_ch, conv.kernel, conv.stride, conv.padding, conv.has_bias);
  const int64_t k2 = int64_t(conv.kernel) * conv.kernel;
  for (int64_t o = 0; o < conv.out_ch; ++o)
    for (int64_t c = 0; c <= conv.in_ch; ++c)
      for (int64_t i = 0; i < k2; ++i) {
        const T old = c < conv.in_ch ? conv.weight.value[(o * conv.in_ch + c) * k2 + i] : T(0);
        wide->weight.value[(o * (conv.in_ch + 1) + c) * k2 + i] = extra_weight(o, c, i, old);
      }
  wide->bias.value = conv.bias.value;
  nn::Sequential<T> out = model.clone();
  out.layers[0] = std::move(wide);
  out.input_shape = model.input_shape.with(0, conv.in_ch + 1);
  return out;
}

}  // namespace

template <ad::Scalar T>
nn::Sequential<T> with_dummy_channel(const nn::Sequential<T>& model) {
  return widened_input(model, [](int64_t, int64_t, int64_t, T old) { return old; });  // the new channel's weights stay 0
}

template <ad::Scalar T>
nn::Sequential<T> with_shared_channel(const nn::Sequential<T>& model) {
  if (model.layers.empty() || model.layers[0]->kind() != "Conv2d")
    throw std::invalid_argument("needs a model whose first layer is Conv2d, got " + model.architecture());
  const auto& conv = dynamic_cast<const nn::Conv2d<T>&>(*model.layers[0]);
  const int64_t k2 = int64_t(conv.kernel) * conv.kernel, last = conv.in_ch;
  return widened_input(model, [&](int64_t o, int64_t c, int64_t i, T old) {
    if (c == 0 || c == last) return conv.weight.value[(o * conv.in_ch) * k2 + i] / T(2);
    return old;
  });
}

template <ad::Scalar T>
ad::Tensor<T> with_extra_channel(const ad::Tensor<T>& x, T fill) {
  if (x.rank() != 4) throw std::invalid_argument("an extra channel needs inputs [N, C, H, W], got " + x.shape().str());
  const int64_t n = x.size(0), c = x.size(1), hw = x.size(2) * x.size(3);
  ad::Tensor<T> out(x.shape().with(1, c + 1));
  for (int64_t i = 0; i < n; ++i) {
    std::copy_n(x.data() + i * c * hw, c * hw, out.data() + i * (c + 1) * hw);
    T* extra = out.data() + (i * (c + 1) + c) * hw;
    if (std::isnan(fill)) std::copy_n(x.data() + i * c * hw, hw, extra);
    else std::fill_n(extra, hw, fill);
  }
  return out;
}

#define INTEGRAD_INSTANTIATE(T)                                                                                \
  template std::vector<std::pair<std::string, nn::Sequential<T>>> conv_twins(const nn::Sequential<T>&);        \
  template nn::Sequential<T> with_dummy_channel(const nn::Sequential<T>&);                                     \
  template nn::Sequential<T> with_shared_channel(const nn::Sequential<T>&);                                    \
  template ad::Tensor<T> with_extra_channel(const ad::Tensor<T>&, T);
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)
#undef INTEGRAD_INSTANTIATE

}  // namespace integrad::attr
