// Layer Integrated Gradients: attribute to the output of layer I instead of the input. The path
// runs between the layer outputs of the baseline and of the input, h(x′) → h(x), through the rest
// of the network — so completeness holds for the layer's units. For an Embedding fed token ids,
// the baseline is a token id (e.g. padding 0), and per-token totals sum over the embedding
// dimension (still complete); the per-token L2 norm is offered too but is NOT complete.
#pragma once

#include "attribution/methods/integrated_gradients.h"
#include "nn/model.h"

namespace integrad::attr {

// `options.baselines` are baselines of the model's INPUT; `layer` is a node's index. With
// `layer_input` the path runs in the value the layer reads instead of its output (alibi's
// attribute_to_layer_inputs; in a graph other readers of that value keep x's).
template <ad::Scalar T>
Attribution<T> layer_integrated_gradients(const nn::Model<T>& model, size_t layer, const ad::Tensor<T>& inputs, const Target<T>& target,
                                          const IgOptions<T>& options, bool layer_input = false);

// [N, ..., D] -> [N, ...]: sum (complete) or L2 norm (not complete) over the last dimension.
template <ad::Scalar T>
ad::Tensor<T> sum_last_dim(const ad::Tensor<T>& a);
template <ad::Scalar T>
ad::Tensor<T> norm_last_dim(const ad::Tensor<T>& a);

}  // namespace integrad::attr
