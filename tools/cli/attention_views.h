// A transformer's tokens coloured by several methods side by side (layer IG on the embedding,
// attention, rollout, attention × gradient), for the terminal and for HTML with a head-by-head
// attention heat map; explain and the report use them.
#pragma once

#include <string>
#include <vector>

#include "attribution/method.h"

namespace integrad::cli {

// How many examples explain shows method by method (each runs every companion method and draws
// an attention map).
inline constexpr int64_t kSideBySideExamples = 20;

template <ad::Scalar T>
struct TokenScores {
  std::string method;     // display name
  ad::Tensor<T> scores;   // [N, T]
};

// Per-token scores of `first` (already computed, e.g. explain's own method) followed by the
// companions that are not it: ig (layer IG on layer 0, the embedding, baseline token 0, per-token
// sums), attention, rollout, attention-x-gradient; all for the same resolved targets.
template <ad::Scalar T>
std::vector<TokenScores<T>> side_by_side(const nn::Model<T>& model, const ad::Tensor<T>& inputs, const std::vector<int64_t>& targets,
                                         const std::string& first_name, const ad::Tensor<T>& first_scores);

template <ad::Scalar T>
void print_side_by_side(const ad::Tensor<T>& inputs, const std::vector<TokenScores<T>>& rows);

// The HTML of one example: the side-by-side rows and the attention heat maps of every layer and head
// (none for empty `weights`: a model without attention).
template <ad::Scalar T>
std::string example_html(const nn::Model<T>& model, const ad::Tensor<T>& inputs, int64_t i, const std::vector<TokenScores<T>>& rows,
                         const ad::Tensor<T>& weights, const std::vector<bool>& marked = {});

template <ad::Scalar T>
void write_side_by_side_html(const std::string& path, const nn::Model<T>& model, const ad::Tensor<T>& inputs, const std::vector<int64_t>& targets,
                             const std::vector<TokenScores<T>>& rows);

}  // namespace integrad::cli
