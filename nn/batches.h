// Mini-batches: in order, or shuffled by a seeded Fisher–Yates so that a seed fixes the order.
#pragma once

#include <cstring>
#include <span>
#include <vector>

#include "autodiff/tensor.h"

namespace integrad::nn {

inline std::vector<std::vector<int64_t>> make_batches(int64_t n, int64_t batch_size, bool shuffle, uint64_t seed) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  if (shuffle) {
    ad::Rng rng(seed);
    for (int64_t i = n - 1; i > 0; --i) std::swap(order[static_cast<size_t>(i)], order[rng.below(static_cast<uint64_t>(i + 1))]);
  }
  std::vector<std::vector<int64_t>> batches;
  for (int64_t start = 0; start < n; start += batch_size)
    batches.emplace_back(order.begin() + start, order.begin() + std::min(n, start + batch_size));
  return batches;
}

// Rows `rows` of inputs [N, ...] as a new tensor [rows, ...].
template <ad::Scalar T>
ad::Tensor<T> gather_rows(const ad::Tensor<T>& inputs, std::span<const int64_t> rows) {
  const int64_t row = inputs.shape().stride(0);
  ad::Tensor<T> out(inputs.shape().with(0, static_cast<int64_t>(rows.size())));
  for (size_t i = 0; i < rows.size(); ++i)
    std::memcpy(out.data() + static_cast<int64_t>(i) * row, inputs.data() + rows[i] * row, sizeof(T) * static_cast<size_t>(row));
  return out;
}

}  // namespace integrad::nn
