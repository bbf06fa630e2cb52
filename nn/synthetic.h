// Synthetic data sets whose ground truth is known, for studying attributions: a good attribution
// should light up exactly what decides the class.
//
// patches: noise images [N, 1, 28, 28] with values in [0, 0.3]; class k (0..9) puts a bright 4x4
//   patch (value 1) at a fixed place of its own (synthetic_patch_origin). Nothing else differs.
// tokens: sequences of token ids [N, L] (stored as exact integers). Id 0 is padding (a natural
//   baseline), ids 1 and 2 are "positive" markers, 3 and 4 "negative" markers, the rest neutral.
//   The label is 1 when a sequence holds more positive than negative markers, else 0; every
//   sequence holds at least one marker and never a tie.
#pragma once

#include <utility>
#include <vector>

#include "nn/dataset.h"

namespace integrad::nn {

template <ad::Scalar T>
Dataset<T> synthetic_patches(int64_t n, uint64_t seed);
std::pair<int64_t, int64_t> synthetic_patch_origin(int64_t label);  // (row, column) of the top-left corner
ad::Tensor<float> synthetic_patches_mask(int64_t label);            // [1, 28, 28], 1 on the patch

template <ad::Scalar T>
Dataset<T> synthetic_tokens(int64_t n, int64_t seq_len, int64_t vocab, uint64_t seed);
std::vector<int64_t> synthetic_tokens_positive();
std::vector<int64_t> synthetic_tokens_negative();

}  // namespace integrad::nn
