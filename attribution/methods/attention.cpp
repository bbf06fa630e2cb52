#include "attribution/methods/attention.h"

#include <fmt/format.h>

#include <stdexcept>

#include "attribution/method.h"
#include "attribution/target.h"
#include "nn/layers_shape.h"
#include "nn/layers_transformer.h"

namespace integrad::attr {

template <ad::Scalar T>
bool has_attention(const nn::Model<T>& model) {
  for (const auto& l : model.layers)
    if (nn::layer_is<nn::TransformerEncoderLayer<T>>(*l)) return true;
  return false;
}

template <ad::Scalar T>
std::vector<size_t> attention_layers(const nn::Model<T>& model) {
  std::vector<size_t> out;
  int64_t heads = -1;
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const auto* l = nn::layer_if<nn::TransformerEncoderLayer<T>>(*model.layers[i]);
    if (!l) continue;
    if (heads >= 0 && l->nhead != heads)
      throw std::invalid_argument(fmt::format("the model's attention layers have different head counts ({} and {}): their weights do not stack", heads, l->nhead));
    heads = l->nhead;
    out.push_back(i);
  }
  if (out.empty()) throw std::invalid_argument("the model has no TransformerEncoderLayer: there is no attention to read");
  return out;
}

namespace {
// Runs the model on one batch; `on_attention(k, var)` sees attention layer k's weights [n, H, T, T].
// With `grad_from` set, the output of layer `grad_from - 1` enters as a leaf that requires a
// gradient, so that the weights after it can be differentiated.
template <ad::Scalar T, class F>
ad::Var<T> run_recording(ad::Tape<T>& tape, const nn::Model<T>& model, const std::vector<size_t>& att, ad::Var<T> x, F&& on_attention,
                         size_t grad_from = nn::Model<T>::npos) {
  if (grad_from == 0) x = tape.leaf(x.tensor(), true);
  size_t k = 0;
  nn::NodeHook<T> hook;
  hook.instead = [&](size_t i, std::span<const ad::Var<T>> reads) {
    if (k >= att.size() || att[k] != i) return ad::Var<T>();
    ad::Var<T> w;
    ad::Var<T> y = nn::layer_as<nn::TransformerEncoderLayer<T>>(*model.layers[i]).forward_attention(tape, reads[0], nn::Grads::none, &w);
    on_attention(k++, w);
    return y;
  };
  hook.after = [&](size_t i, ad::Var<T> value) { return i + 1 == grad_from ? tape.leaf(value.tensor(), true) : value; };
  return model.forward(tape, x, nn::Grads::none, hook);
}
}  // namespace

template <ad::Scalar T>
ad::Tensor<T> attention_weights(const nn::Model<T>& model, const ad::Tensor<T>& inputs, int64_t batch_size) {
  const std::vector<size_t> att = attention_layers(model);
  const int64_t n = inputs.size(0), row = inputs.shape().stride(0);
  const int64_t heads = nn::layer_as<nn::TransformerEncoderLayer<T>>(*model.layers[att[0]]).nhead;
  const int64_t t = model.output_shape(att[0])[0], layers = static_cast<int64_t>(att.size());
  ad::Tensor<T> out(ad::Shape{n, layers, heads, t, t});
  const int64_t map = heads * t * t;
  ad::Tape<T> tape;
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t count = std::min(batch_size, n - start);
    ad::Var<T> x = tape.leaf(inputs.shape().with(0, count), inputs.data() + start * row);
    run_recording(tape, model, att, x, [&](size_t k, ad::Var<T> w) {
      for (int64_t e = 0; e < count; ++e)
        std::copy_n(w.value().data() + e * map, map, out.data() + ((start + e) * layers + int64_t(k)) * map);
    });
    tape.rewind();
  }
  return out;
}

template <ad::Scalar T>
ad::Tensor<T> attention_rollout(const ad::Tensor<T>& weights, int64_t layers) {
  if (weights.rank() != 5 || weights.size(3) != weights.size(4)) throw std::invalid_argument("attention_rollout: weights must be [N, layers, heads, T, T], got " + weights.shape().str());
  const int64_t n = weights.size(0), l_all = weights.size(1), h = weights.size(2), t = weights.size(3);
  const int64_t l_use = layers < 0 ? l_all : std::min(layers, l_all);
  ad::Tensor<T> out(ad::Shape{n, t, t});
  std::vector<double> r(size_t(t * t)), a(size_t(t * t)), next(size_t(t * t));
  for (int64_t e = 0; e < n; ++e) {
    for (int64_t i = 0; i < t; ++i)
      for (int64_t j = 0; j < t; ++j) r[size_t(i * t + j)] = i == j;
    for (int64_t l = 0; l < l_use; ++l) {
      const T* w = weights.data() + (e * l_all + l) * h * t * t;
      for (int64_t i = 0; i < t; ++i) {
        double sum = 0;
        for (int64_t j = 0; j < t; ++j) {
          double m = 0;
          for (int64_t k = 0; k < h; ++k) m += double(w[(k * t + i) * t + j]);
          a[size_t(i * t + j)] = m / double(h) + (i == j);
          sum += a[size_t(i * t + j)];
        }
        for (int64_t j = 0; j < t; ++j) a[size_t(i * t + j)] /= sum;
      }
      // R ← Ã · R: the later layer on the left.
      for (int64_t i = 0; i < t; ++i)
        for (int64_t j = 0; j < t; ++j) {
          double s = 0;
          for (int64_t k = 0; k < t; ++k) s += a[size_t(i * t + k)] * r[size_t(k * t + j)];
          next[size_t(i * t + j)] = s;
        }
      r.swap(next);
    }
    for (int64_t i = 0; i < t * t; ++i) out[e * t * t + i] = T(r[size_t(i)]);
  }
  return out;
}

template <ad::Scalar T>
int64_t readout_row(const nn::Model<T>& model, int64_t seq_len) {
  const std::vector<size_t> att = attention_layers(model);
  for (size_t i = att.back() + 1; i < model.layers.size(); ++i) {
    if (const auto* s = nn::layer_if<nn::Select<T>>(*model.layers[i])) {
      if (s->dim == 1 || s->dim == -2) return s->index < 0 ? s->index + seq_len : s->index;
    }
    if (nn::layer_is<nn::Mean<T>>(*model.layers[i])) return -1;
  }
  return -1;
}

template <ad::Scalar T>
ad::Tensor<T> readout_scores(const ad::Tensor<T>& maps, int64_t row) {
  const int64_t n = maps.size(0), t = maps.size(1);
  ad::Tensor<T> out(ad::Shape{n, t});
  for (int64_t e = 0; e < n; ++e)
    for (int64_t j = 0; j < t; ++j) {
      double s = 0;
      if (row >= 0) s = double(maps[(e * t + row) * t + j]);
      else {
        for (int64_t i = 0; i < t; ++i) s += double(maps[(e * t + i) * t + j]);
        s /= double(t);
      }
      out[e * t + j] = T(s);
    }
  return out;
}

template <ad::Scalar T>
ad::Tensor<T> attention_times_gradient(const nn::Model<T>& model, const ad::Tensor<T>& inputs, const Target<T>& target, size_t which) {
  const std::vector<size_t> att = attention_layers(model);
  if (which >= att.size()) throw std::invalid_argument(fmt::format("attention layer {} does not exist; the model has {}", which, att.size()));
  const std::vector<int64_t> targets = resolve_targets(forward_of(model), inputs, target);  // empty for a function target
  const int64_t n = inputs.size(0), row = inputs.shape().stride(0), batch = 64;
  const int64_t t = model.output_shape(att[0])[0];
  ad::Tensor<T> out(ad::Shape{n, t, t});
  ad::Tape<T> tape;
  for (int64_t start = 0; start < n; start += batch) {
    const int64_t count = std::min(batch, n - start);
    ad::Var<T> x = tape.leaf(inputs.shape().with(0, count), inputs.data() + start * row);
    ad::Var<T> w;
    ad::Var<T> outputs = run_recording(tape, model, att, x, [&](size_t k, ad::Var<T> v) { if (k == which) w = v; }, att[which]);
    const std::span<const int64_t> rows = targets.empty() ? std::span<const int64_t>() : std::span<const int64_t>(targets).subspan(size_t(start), size_t(count));
    // Examples never mix: the gradient of the sum is each example's own.
    tape.backward(ad::sum(select_target(outputs, target, rows)));
    const ad::Tensor<T> g = w.grad_tensor(), v = w.tensor();
    const int64_t h = w.size(1);
    for (int64_t e = 0; e < count; ++e)
      for (int64_t ij = 0; ij < t * t; ++ij) {
        double s = 0;
        for (int64_t k = 0; k < h; ++k) s += double(v[(e * h + k) * t * t + ij]) * double(g[(e * h + k) * t * t + ij]);
        out[(start + e) * t * t + ij] = T(s / double(h));
      }
    tape.rewind();
  }
  return out;
}

#define INTEGRAD_INSTANTIATE(T)                                                                                                  \
  template bool has_attention<T>(const nn::Model<T>&);                                                                      \
  template std::vector<size_t> attention_layers<T>(const nn::Model<T>&);                                                   \
  template ad::Tensor<T> attention_weights<T>(const nn::Model<T>&, const ad::Tensor<T>&, int64_t);                         \
  template ad::Tensor<T> attention_rollout<T>(const ad::Tensor<T>&, int64_t);                                                   \
  template int64_t readout_row<T>(const nn::Model<T>&, int64_t);                                                           \
  template ad::Tensor<T> readout_scores<T>(const ad::Tensor<T>&, int64_t);                                                      \
  template ad::Tensor<T> attention_times_gradient<T>(const nn::Model<T>&, const ad::Tensor<T>&, const Target<T>&, size_t);
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)
#undef INTEGRAD_INSTANTIATE

}  // namespace integrad::attr
