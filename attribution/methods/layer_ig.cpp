#include "attribution/methods/layer_ig.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <stdexcept>

namespace integrad::attr {

namespace {

// [N, a...] and [N, b...] side by side as [N, a + b] (row by row).
template <ad::Scalar T>
ad::Tensor<T> pack_rows(const ad::Tensor<T>& a, const ad::Tensor<T>& b) {
  const int64_t n = a.size(0), da = a.numel() / std::max<int64_t>(n, 1), db = b.numel() / std::max<int64_t>(n, 1);
  ad::Tensor<T> out(ad::Shape{n, da + db});
  for (int64_t i = 0; i < n; ++i) {
    std::copy(a.data() + i * da, a.data() + (i + 1) * da, out.data() + i * (da + db));
    std::copy(b.data() + i * db, b.data() + (i + 1) * db, out.data() + i * (da + db) + da);
  }
  return out;
}

// Layer IG inside a graph, where other branches read the model's input beside the layer (a
// residual block's shortcut): Captum's LayerIntegratedGradients holds the input at x and moves the
// layer's value alone. Both travel in one row [x | h] whose x part starts and ends at x — so IG's
// path leaves it fixed and gives it exactly zero — while a hook puts h in place of the layer's value.
// With `at_input`, h is the value the layer reads instead (alibi's attribute_to_layer_inputs):
// the layer computes from h while every other reader of that value still sees x's.
template <ad::Scalar T>
Attribution<T> graph_layer_ig(const nn::Model<T>& model, size_t layer, bool at_input, const ad::Tensor<T>& inputs, const Target<T>& target,
                              const IgOptions<T>& options, const std::vector<int64_t>& targets) {
  const size_t read = static_cast<size_t>(model.node_inputs(layer)[0]);  // at_input: a node, not the model's input (checked by the caller)
  const ad::Shape node_shape = model.output_shape((at_input ? read : layer) + 1);
  const int64_t dx = model.input_shape.numel(), dh = node_shape.numel();
  auto value_at = [&](const ad::Tensor<T>& x) {
    ad::Tape<T> tape;
    return model.forward(tape, tape.leaf(x), nn::Grads::none, 0, (at_input ? read : layer) + 1).tensor();
  };
  const Forward<T> packed = [&](ad::Tape<T>& tape, ad::Var<T> v) {
    const int64_t rows = v.shape()[0];
    const ad::Var<T> x = ad::reshape(ad::slice(v, 1, 0, dx), nn::with_batch(rows, model.input_shape));
    const ad::Var<T> h = ad::reshape(ad::slice(v, 1, dx, dx + dh), nn::with_batch(rows, node_shape));
    if (at_input)
      return model.forward(tape, x, nn::Grads::none, {.instead = [&](size_t i, std::span<const ad::Var<T>>) {
                             return i == layer ? model.layers[layer]->forward(tape, h, nn::Grads::none) : ad::Var<T>();
                           }});
    return model.forward(tape, x, nn::Grads::none, {.after = [&](size_t i, ad::Var<T> value) { return i == layer ? h : value; }});
  };
  IgOptions<T> packed_options = options;
  packed_options.baselines.clear();
  for (const Baseline<T>& b : options.baselines) packed_options.baselines.push_back(Baseline<T>::of(pack_rows(inputs, value_at(b.expand(inputs)))));
  Attribution<T> a = integrated_gradients(packed, pack_rows(inputs, value_at(inputs)), targets.empty() ? target : Target<T>::each(targets), packed_options);
  const int64_t n = inputs.size(0);
  ad::Tensor<T> values(nn::with_batch(n, node_shape));
  for (int64_t i = 0; i < n; ++i) std::copy(a.values.data() + i * (dx + dh) + dx, a.values.data() + (i + 1) * (dx + dh), values.data() + i * dh);
  a.values = std::move(values);
  return a;
}

}  // namespace

template <ad::Scalar T>
Attribution<T> layer_integrated_gradients(const nn::Model<T>& model, size_t layer, const ad::Tensor<T>& inputs, const Target<T>& target,
                                          const IgOptions<T>& options, bool layer_input) {
  if (layer >= model.layers.size())
    throw std::invalid_argument("layer " + std::to_string(layer) + " does not exist; the model has " + std::to_string(model.layers.size()) + " layers");
  if (layer_input) {
    const std::vector<int> reads = model.node_inputs(layer);
    if (reads.size() != 1)
      throw std::invalid_argument(fmt::format("--layer-input: layer {} reads {} values; it attributes to a layer that reads one", model.node_name(layer), reads.size()));
    if (reads[0] == nn::Model<T>::kModelInput) {  // the model's input itself: plain IG
      if (model.input_dtype == nn::InputDtype::int64)
        throw std::invalid_argument(fmt::format("--layer-input: layer {} reads the token ids, which have no gradient; attribute to its output instead", model.node_name(layer)));
      return integrated_gradients(forward_of(model), inputs, target, options);
    }
    // In a chain the value is read by this layer alone: the output of the layer before.
    if (model.is_chain()) return layer_integrated_gradients(model, size_t(reads[0]), inputs, target, options, false);
  }
  // Targets come from the whole model on the real inputs.
  const std::vector<int64_t> targets = resolve_targets(forward_of(model), inputs, target);
  if (!model.is_chain()) return graph_layer_ig(model, layer, layer_input, inputs, target, options, targets);
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

template Attribution<float> layer_integrated_gradients<float>(const nn::Model<float>&, size_t, const ad::Tensor<float>&, const Target<float>&,
                                                              const IgOptions<float>&, bool);
template Attribution<double> layer_integrated_gradients<double>(const nn::Model<double>&, size_t, const ad::Tensor<double>&,
                                                                const Target<double>&, const IgOptions<double>&, bool);
template ad::Tensor<float> sum_last_dim<float>(const ad::Tensor<float>&);
template ad::Tensor<double> sum_last_dim<double>(const ad::Tensor<double>&);
template ad::Tensor<float> norm_last_dim<float>(const ad::Tensor<float>&);
template ad::Tensor<double> norm_last_dim<double>(const ad::Tensor<double>&);

}  // namespace integrad::attr
