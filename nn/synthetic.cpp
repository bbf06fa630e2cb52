#include "nn/synthetic.h"

#include <stdexcept>
#include <string>

namespace integrad::nn {

std::pair<int64_t, int64_t> synthetic_patch_origin(int64_t label) { return {4 + 16 * (label / 5), 2 + 5 * (label % 5)}; }

ad::Tensor<float> synthetic_patches_mask(int64_t label) {
  ad::Tensor<float> mask(ad::Shape{1, 28, 28});
  const auto [r, c] = synthetic_patch_origin(label);
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 4; ++j) mask.at({0, r + i, c + j}) = 1.0f;
  return mask;
}

template <ad::Scalar T>
Dataset<T> synthetic_patches(int64_t n, uint64_t seed) {
  ad::Rng rng(seed);
  Dataset<T> ds;
  ds.inputs = ad::Tensor<T>(ad::Shape{n, 1, 28, 28});
  ds.num_classes = 10;
  for (int64_t k = 0; k < 10; ++k) ds.class_names.push_back("patch " + std::to_string(k));
  for (int64_t e = 0; e < n; ++e) {
    const int64_t label = e % 10;  // balanced; order mixed by the batch shuffle
    T* img = ds.inputs.data() + e * 784;
    for (int64_t i = 0; i < 784; ++i) img[i] = static_cast<T>(rng.uniform(0.0, 0.3));
    const auto [r, c] = synthetic_patch_origin(label);
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t j = 0; j < 4; ++j) img[(r + i) * 28 + c + j] = T(1);
    ds.labels.push_back(label);
  }
  return ds;
}

std::vector<int64_t> synthetic_tokens_positive() { return {1, 2}; }
std::vector<int64_t> synthetic_tokens_negative() { return {3, 4}; }

template <ad::Scalar T>
Dataset<T> synthetic_tokens(int64_t n, int64_t seq_len, int64_t vocab, uint64_t seed) {
  if (vocab < 6 || seq_len < 3) throw std::invalid_argument("synthetic_tokens: needs vocab >= 6 and seq_len >= 3");
  ad::Rng rng(seed);
  Dataset<T> ds;
  ds.inputs = ad::Tensor<T>(ad::Shape{n, seq_len});
  ds.num_classes = 2;
  ds.class_names = {"negative", "positive"};
  const auto pos = synthetic_tokens_positive(), neg = synthetic_tokens_negative();
  for (int64_t e = 0; e < n; ++e) {
    const int64_t label = static_cast<int64_t>(rng.below(2));
    T* seq = ds.inputs.data() + e * seq_len;
    for (int64_t i = 0; i < seq_len; ++i) seq[i] = static_cast<T>(5 + static_cast<int64_t>(rng.below(static_cast<uint64_t>(vocab - 5))));
    // The winning side gets 1..3 markers, the other side strictly fewer, at distinct places.
    const int64_t wins = 1 + static_cast<int64_t>(rng.below(std::min<uint64_t>(3, static_cast<uint64_t>(seq_len) / 2)));
    const int64_t loses = static_cast<int64_t>(rng.below(static_cast<uint64_t>(wins)));
    const auto& win_ids = label ? pos : neg;
    const auto& lose_ids = label ? neg : pos;
    std::vector<bool> used(static_cast<size_t>(seq_len), false);
    auto place = [&](int64_t token) {
      int64_t at;
      do at = static_cast<int64_t>(rng.below(static_cast<uint64_t>(seq_len)));
      while (used[static_cast<size_t>(at)]);
      used[static_cast<size_t>(at)] = true;
      seq[at] = static_cast<T>(token);
    };
    for (int64_t k = 0; k < wins; ++k) place(win_ids[rng.below(win_ids.size())]);
    for (int64_t k = 0; k < loses; ++k) place(lose_ids[rng.below(lose_ids.size())]);
    ds.labels.push_back(label);
  }
  return ds;
}

template Dataset<float> synthetic_patches<float>(int64_t, uint64_t);
template Dataset<double> synthetic_patches<double>(int64_t, uint64_t);
template Dataset<float> synthetic_tokens<float>(int64_t, int64_t, int64_t, uint64_t);
template Dataset<double> synthetic_tokens<double>(int64_t, int64_t, int64_t, uint64_t);

}  // namespace integrad::nn
