// synthetic-order: a token task that a bag of embeddings cannot solve and attention can. Each
// sequence [L] starts with a CLS token (id 1) and holds exactly one A marker (id 2) and one B
// marker (id 3) at distinct random places in 1..L−1; every other place holds a filler token
// (ids 4..vocab−1, uniform). The label is 1 when A comes before B, 0 when B comes first. Both
// classes hold the same multiset of tokens in distribution, so any model that ignores order
// (Embedding; Mean; Linear) is at chance; the decisive tokens are the two markers. Id 0 (padding)
// never occurs in the data: it is the natural baseline.
#pragma once

#include "nn/dataset.h"

namespace integrad::nn {

inline constexpr int64_t kOrderCls = 1, kOrderA = 2, kOrderB = 3;

template <ad::Scalar T>
Dataset<T> synthetic_order(int64_t n, int64_t seq_len, int64_t vocab, uint64_t seed);

// [N, L]: 1 at the two marker positions of each sequence, 0 elsewhere.
ad::Tensor<float> synthetic_order_masks(const ad::Tensor<float>& inputs);

}  // namespace integrad::nn
