#include "nn/synthetic_order.h"

#include <stdexcept>

namespace integrad::nn {

template <ad::Scalar T>
Dataset<T> synthetic_order(int64_t n, int64_t seq_len, int64_t vocab, uint64_t seed) {
  if (vocab < 5 || seq_len < 3) throw std::invalid_argument("synthetic_order: needs vocab >= 5 and seq_len >= 3");
  ad::Rng rng(seed);
  Dataset<T> ds;
  ds.inputs = ad::Tensor<T>(ad::Shape{n, seq_len});
  ds.num_classes = 2;
  ds.class_names = {"B first", "A first"};
  for (int64_t e = 0; e < n; ++e) {
    T* seq = ds.inputs.data() + e * seq_len;
    seq[0] = T(kOrderCls);
    for (int64_t i = 1; i < seq_len; ++i) seq[i] = static_cast<T>(4 + static_cast<int64_t>(rng.below(static_cast<uint64_t>(vocab - 4))));
    const int64_t a = 1 + static_cast<int64_t>(rng.below(static_cast<uint64_t>(seq_len - 1)));
    int64_t b = 1 + static_cast<int64_t>(rng.below(static_cast<uint64_t>(seq_len - 2)));
    if (b >= a) ++b;
    seq[a] = T(kOrderA);
    seq[b] = T(kOrderB);
    ds.labels.push_back(a < b ? 1 : 0);
  }
  return ds;
}

ad::Tensor<float> synthetic_order_masks(const ad::Tensor<float>& inputs) {
  ad::Tensor<float> m(inputs.shape());
  for (int64_t k = 0; k < inputs.numel(); ++k) m[k] = inputs[k] == float(kOrderA) || inputs[k] == float(kOrderB) ? 1.0f : 0.0f;
  return m;
}

template Dataset<float> synthetic_order<float>(int64_t, int64_t, int64_t, uint64_t);
template Dataset<double> synthetic_order<double>(int64_t, int64_t, int64_t, uint64_t);

}  // namespace integrad::nn
