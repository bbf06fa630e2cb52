// Attention as explanation: the weights of every TransformerEncoderLayer, attention rollout
// (Abnar & Zuidema 2020), and per-token scores read from them for `explain --method attention |
// rollout | attention-x-gradient`.
#pragma once

#include <vector>

#include "attribution/attribution.h"
#include "nn/model.h"

namespace integrad::attr {

// Whether the model has a TransformerEncoderLayer (and so attention to read).
template <ad::Scalar T>
bool has_attention(const nn::Model<T>& model);

// The model's TransformerEncoderLayer indices, in order; throws when it has none, or when their
// head counts differ (the weights are one [N, layers, heads, T, T] array).
template <ad::Scalar T>
std::vector<size_t> attention_layers(const nn::Model<T>& model);

// Every attention layer's weights [N, layers, heads, T, T] on `inputs` (eval mode: no dropout), as
// PyTorch's need_weights=True, average_attn_weights=False.
template <ad::Scalar T>
ad::Tensor<T> attention_weights(const nn::Model<T>& model, const ad::Tensor<T>& inputs, int64_t batch_size = 64);

// Rollout [N, T, T] of weights [N, L, H, T, T] through the first `layers` layers (all: -1): per layer
// Ã = (mean over heads + I) with rows renormalised to sum 1, and R = Ã_L ··· Ã_2 · Ã_1.
template <ad::Scalar T>
ad::Tensor<T> attention_rollout(const ad::Tensor<T>& weights, int64_t layers = -1);

// Which query row the model reads out: the index of a Select(1, i) after the last attention layer
// (a CLS token), or -1 when it pools every position (Mean(1)): scores then average all rows.
template <ad::Scalar T>
int64_t readout_row(const nn::Model<T>& model, int64_t seq_len);

// Per-token scores [N, T]: the readout row (or the mean of all rows) of a [N, T, T] map.
template <ad::Scalar T>
ad::Tensor<T> readout_scores(const ad::Tensor<T>& maps, int64_t row);

// attention × gradient at attention layer `which` (index into attention_layers): per head the
// weights times ∂F_target/∂weights (a class per example, or a function of the outputs), element-wise, averaged over the heads: [N, T, T].
template <ad::Scalar T>
ad::Tensor<T> attention_times_gradient(const nn::Model<T>& model, const ad::Tensor<T>& inputs, const Target<T>& target, size_t which);

}  // namespace integrad::attr
