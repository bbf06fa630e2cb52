#include "attribution/evaluation/model_surgery.h"

#include <cmath>
#include <memory>
#include <stdexcept>

#include "nn/layers_activation.h"
#include "nn/layers_conv.h"
#include "nn/layers_linear.h"
#include "nn/layers_pool.h"
#include "nn/layers_shape.h"

namespace integrad::attr {

namespace {

// Conv2d at `conv`, whose channel c arrives at the weighted layer `next` as its input channel c
// (Conv2d) or as a run of consecutive columns (Linear after Flatten). Between them only layers
// that commute with permuting channels and with scaling one by c > 0.
struct ConvBlock {
  int conv = -1, next = -1;
};

// The rule table of the search: what each layer is to a block.
enum class BlockPart { conv, linear, flatten, commutes, other };

template <ad::Scalar T>
BlockPart block_part(const nn::Layer<T>& layer) {
  if (nn::layer_is<nn::Conv2d<T>>(layer)) return BlockPart::conv;
  if (nn::layer_is<nn::Linear<T>>(layer)) return BlockPart::linear;
  if (nn::layer_is<nn::Flatten<T>>(layer)) return BlockPart::flatten;
  if (nn::layer_is<nn::ReLU<T>>(layer) || nn::layer_is<nn::MaxPool2d<T>>(layer) || nn::layer_is<nn::AvgPool2d<T>>(layer)) return BlockPart::commutes;
  return BlockPart::other;
}

template <ad::Scalar T>
ConvBlock conv_block(const nn::Model<T>& model) {
  if (!model.is_chain()) return {};  // the edits below insert layers and follow a chain
  for (size_t k = 0; k < model.layers.size(); ++k) {
    if (block_part(*model.layers[k]) != BlockPart::conv) continue;
    bool flattened = false;
    for (size_t j = k + 1; j < model.layers.size(); ++j) {
      const BlockPart part = block_part(*model.layers[j]);
      if (part == BlockPart::commutes) continue;
      if (part == BlockPart::flatten) {
        flattened = true;
        continue;
      }
      if ((part == BlockPart::conv && !flattened) || (part == BlockPart::linear && flattened)) return {int(k), int(j)};
      break;
    }
  }
  return {};
}

// Copies of the block's two layers, with `edit` applied to them, put into a copy of the model.
template <ad::Scalar T, class Edit>
nn::Model<T> edited(const nn::Model<T>& model, const ConvBlock& b, Edit edit) {
  nn::Model<T> twin = model.clone();
  auto conv = std::make_unique<nn::Conv2d<T>>(nn::layer_as<nn::Conv2d<T>>(*model.layers[size_t(b.conv)]));
  // The next layer's weights as [out, channels, plane] whichever kind it is.
  std::unique_ptr<nn::Layer<T>> next;
  ad::Tensor<T>* w = nullptr;
  if (const auto* next_conv = nn::layer_if<nn::Conv2d<T>>(*model.layers[size_t(b.next)])) {
    auto c = std::make_unique<nn::Conv2d<T>>(*next_conv);
    w = &c->weight.value;
    next = std::move(c);
  } else {
    auto l = std::make_unique<nn::Linear<T>>(nn::layer_as<nn::Linear<T>>(*model.layers[size_t(b.next)]));
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
std::vector<std::pair<std::string, nn::Model<T>>> conv_twins(const nn::Model<T>& model) {
  std::vector<std::pair<std::string, nn::Model<T>>> twins;
  const ConvBlock b = conv_block(model);
  if (b.conv < 0) return twins;
  const auto& original = nn::layer_as<nn::Conv2d<T>>(*model.layers[size_t(b.conv)]);
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
    nn::Model<T> t = model.clone();
    auto id = std::make_unique<nn::Conv2d<T>>(channels, channels, 1);
    for (int64_t c = 0; c < channels; ++c) id->weight.value[c * channels + c] = T(1);
    t.layers.insert(t.layers.begin() + b.conv + 1, std::move(id));
    twins.emplace_back("identity 1x1 convolution inserted", std::move(t));
  }
  return twins;
}

namespace {

// A copy of the model whose first Conv2d takes one more input channel, last. Each weight is
// `weight(channel, old, first)`: `channel` says which input channel it reads (channel 0, the added
// one, or another), `old` is its present value (0 for the added channel), `first` the weight at
// the same output channel and kernel position of channel 0.
enum class InputChannel { first, added, other };
template <ad::Scalar T, class Weight>
nn::Model<T> widened_input(const nn::Model<T>& model, Weight weight) {
  if (model.layers.empty() || !nn::layer_is<nn::Conv2d<T>>(*model.layers[0]) || model.node_readers(nn::Model<T>::kModelInput).size() != 1)
    throw std::invalid_argument("needs a model whose input is read by one Conv2d, its first layer");
  const auto& conv = nn::layer_as<nn::Conv2d<T>>(*model.layers[0]);
  auto wide = std::make_unique<nn::Conv2d<T>>(conv.in_ch + 1, conv.out_ch, conv.kernel, conv.stride, conv.padding, conv.has_bias);
  const int64_t k2 = int64_t(conv.kernel) * conv.kernel;
  for (int64_t o = 0; o < conv.out_ch; ++o)
    for (int64_t c = 0; c <= conv.in_ch; ++c)
      for (int64_t i = 0; i < k2; ++i) {
        const T old = c < conv.in_ch ? conv.weight.value[(o * conv.in_ch + c) * k2 + i] : T(0);
        const T first = conv.weight.value[o * conv.in_ch * k2 + i];
        const InputChannel channel = c == 0 ? InputChannel::first : c == conv.in_ch ? InputChannel::added : InputChannel::other;
        wide->weight.value[(o * (conv.in_ch + 1) + c) * k2 + i] = weight(channel, old, first);
      }
  wide->bias.value = conv.bias.value;
  nn::Model<T> out = model.clone();
  out.layers[0] = std::move(wide);
  out.input_shape = model.input_shape.with(0, conv.in_ch + 1);
  return out;
}

}  // namespace

template <ad::Scalar T>
nn::Model<T> with_dummy_channel(const nn::Model<T>& model) {
  return widened_input(model, [](InputChannel, T old, T) { return old; });  // the added channel's weights stay 0
}

template <ad::Scalar T>
nn::Model<T> with_shared_channel(const nn::Model<T>& model) {
  return widened_input(model, [](InputChannel channel, T old, T first) { return channel == InputChannel::other ? old : first / T(2); });
}

namespace {
// x with one more channel, last: `fill(channel_0, extra, pixels)` writes it for each example.
template <ad::Scalar T, class Fill>
ad::Tensor<T> with_one_more_channel(const ad::Tensor<T>& x, Fill fill) {
  if (x.rank() != 4) throw std::invalid_argument("an extra channel needs inputs [N, C, H, W], got " + x.shape().str());
  const int64_t n = x.size(0), c = x.size(1), hw = x.size(2) * x.size(3);
  ad::Tensor<T> out(x.shape().with(1, c + 1));
  for (int64_t i = 0; i < n; ++i) {
    std::copy_n(x.data() + i * c * hw, c * hw, out.data() + i * (c + 1) * hw);
    fill(x.data() + i * c * hw, out.data() + (i * (c + 1) + c) * hw, hw);
  }
  return out;
}
}  // namespace

template <ad::Scalar T>
ad::Tensor<T> with_constant_channel(const ad::Tensor<T>& x, T value) {
  return with_one_more_channel(x, [value](const T*, T* extra, int64_t hw) { std::fill_n(extra, hw, value); });
}

template <ad::Scalar T>
ad::Tensor<T> with_channel_0_repeated(const ad::Tensor<T>& x) {
  return with_one_more_channel(x, [](const T* channel_0, T* extra, int64_t hw) { std::copy_n(channel_0, hw, extra); });
}

template <ad::Scalar T>
int first_linear(const nn::Model<T>& model) {
  if (!model.is_chain()) return -1;
  for (size_t i = 0; i < model.layers.size(); ++i) {
    if (nn::layer_is<nn::Linear<T>>(*model.layers[i])) return static_cast<int>(i);
    if (!nn::layer_is<nn::Flatten<T>>(*model.layers[i])) return -1;
  }
  return -1;
}

namespace {
// Index k of the first Linear(k) – ReLU(k+1) – Linear(k+2) block, or -1.
template <ad::Scalar T>
int hidden_block(const nn::Model<T>& model) {
  for (size_t k = 0; k + 2 < model.layers.size(); ++k)
    if (nn::layer_is<nn::Linear<T>>(*model.layers[k]) && nn::layer_is<nn::ReLU<T>>(*model.layers[k + 1]) && nn::layer_is<nn::Linear<T>>(*model.layers[k + 2]))
      return static_cast<int>(k);
  return -1;
}

}  // namespace

template <ad::Scalar T>
std::vector<std::pair<std::string, nn::Model<T>>> linear_twins(const nn::Model<T>& model) {
  std::vector<std::pair<std::string, nn::Model<T>>> twins;
  const int k = hidden_block(model);
  if (k < 0) return twins;
  const auto& l1 = nn::layer_as<nn::Linear<T>>(*model.layers[size_t(k)]);
  const auto& l2 = nn::layer_as<nn::Linear<T>>(*model.layers[size_t(k + 2)]);
  const int64_t h = l1.out;
  auto with_block = [&](std::unique_ptr<nn::Linear<T>> a, std::unique_ptr<nn::Linear<T>> b) {
    nn::Model<T> t = model.clone();
    t.layers[size_t(k)] = std::move(a);
    t.layers[size_t(k + 2)] = std::move(b);
    return t;
  };
  // Hidden units permuted (reversed): rows of W1 and b1, columns of W2.
  {
    auto a = std::make_unique<nn::Linear<T>>(l1), b = std::make_unique<nn::Linear<T>>(l2);
    for (int64_t u = 0; u < h; ++u) {
      const int64_t v = h - 1 - u;
      for (int64_t i = 0; i < l1.in; ++i) a->weight.value.at({u, i}) = l1.weight.value.at({v, i});
      if (l1.has_bias) a->bias.value[u] = l1.bias.value[v];
      for (int64_t o = 0; o < l2.out; ++o) b->weight.value.at({o, u}) = l2.weight.value.at({o, v});
    }
    twins.emplace_back("permuted hidden units", with_block(std::move(a), std::move(b)));
  }
  // Unit 0 scaled: ReLU(c·z)/c = ReLU(z) for c > 0.
  {
    const T c = T(2.5);
    auto a = std::make_unique<nn::Linear<T>>(l1), b = std::make_unique<nn::Linear<T>>(l2);
    for (int64_t i = 0; i < l1.in; ++i) a->weight.value.at({0, i}) *= c;
    if (l1.has_bias) a->bias.value[0] *= c;
    for (int64_t o = 0; o < l2.out; ++o) b->weight.value.at({o, 0}) /= c;
    twins.emplace_back("unit scaled by 2.5 and 1/2.5", with_block(std::move(a), std::move(b)));
  }
  // Unit 0 split into two identical units, each passing on half.
  {
    auto a = std::make_unique<nn::Linear<T>>(l1.in, h + 1, l1.has_bias);
    auto b = std::make_unique<nn::Linear<T>>(h + 1, l2.out, l2.has_bias);
    for (int64_t u = 0; u <= h; ++u) {
      const int64_t src = u == h ? 0 : u;
      for (int64_t i = 0; i < l1.in; ++i) a->weight.value.at({u, i}) = l1.weight.value.at({src, i});
      if (l1.has_bias) a->bias.value[u] = l1.bias.value[src];
      for (int64_t o = 0; o < l2.out; ++o) b->weight.value.at({o, u}) = l2.weight.value.at({o, src}) * (src == 0 ? T(0.5) : T(1));
    }
    b->bias.value = l2.bias.value;
    twins.emplace_back("unit split in two", with_block(std::move(a), std::move(b)));
  }
  // An identity Linear inserted before the ReLU.
  {
    nn::Model<T> t = model.clone();
    auto id = std::make_unique<nn::Linear<T>>(h, h, true);
    for (int64_t u = 0; u < h; ++u) id->weight.value.at({u, u}) = T(1);
    t.layers.insert(t.layers.begin() + k + 1, std::move(id));
    twins.emplace_back("identity layer inserted", std::move(t));
  }
  return twins;
}

template <ad::Scalar T>
nn::Model<T> with_dummy_feature(const nn::Model<T>& model) {
  const int k = first_linear(model);
  if (k < 0) throw std::invalid_argument("a dummy feature needs a model whose first weighted layer is Linear");
  const auto& first = nn::layer_as<nn::Linear<T>>(*model.layers[size_t(k)]);
  nn::Model<T> dummy = model.clone();
  auto widened = std::make_unique<nn::Linear<T>>(first.in + 1, first.out, first.has_bias);
  for (int64_t o = 0; o < first.out; ++o)
    for (int64_t i = 0; i < first.in; ++i) widened->weight.value.at({o, i}) = first.weight.value.at({o, i});
  widened->bias.value = first.bias.value;
  dummy.layers[size_t(k)] = std::move(widened);
  dummy.input_shape = ad::Shape{first.in + 1};
  return dummy;
}

template <ad::Scalar T>
nn::Model<T> with_features_0_1_shared(const nn::Model<T>& model) {
  const int k = first_linear(model);
  if (k < 0) throw std::invalid_argument("shared features need a model whose first weighted layer is Linear");
  nn::Model<T> sym = model.clone();
  auto& l = nn::layer_as<nn::Linear<T>>(*sym.layers[size_t(k)]);
  for (int64_t u = 0; u < l.out; ++u) l.weight.value.at({u, 0}) = l.weight.value.at({u, 1}) = (l.weight.value.at({u, 0}) + l.weight.value.at({u, 1})) / 2;
  return sym;
}

#define INTEGRAD_INSTANTIATE(T)                                                                                \
  template std::vector<std::pair<std::string, nn::Model<T>>> conv_twins(const nn::Model<T>&);        \
  template nn::Model<T> with_dummy_channel(const nn::Model<T>&);                                     \
  template nn::Model<T> with_shared_channel(const nn::Model<T>&);                                    \
  template ad::Tensor<T> with_constant_channel(const ad::Tensor<T>&, T);                                       \
  template ad::Tensor<T> with_channel_0_repeated(const ad::Tensor<T>&);                                        \
  template int first_linear(const nn::Model<T>&);                                                         \
  template std::vector<std::pair<std::string, nn::Model<T>>> linear_twins(const nn::Model<T>&);      \
  template nn::Model<T> with_dummy_feature(const nn::Model<T>&);                                     \
  template nn::Model<T> with_features_0_1_shared(const nn::Model<T>&);
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)
#undef INTEGRAD_INSTANTIATE

}  // namespace integrad::attr
