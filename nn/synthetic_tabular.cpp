#include "nn/synthetic_tabular.h"

#include "autodiff/rng.h"

namespace integrad::nn {

const std::vector<TabularFeature>& synthetic_tabular_features() {
  static const std::vector<TabularFeature> features = {
      {"linear_a", "linear", "weight 1.5"},       {"linear_b", "linear", "weight −1"},          {"linear_c", "linear", "weight 0.5"},
      {"interact_d", "interaction", "1.5·d·e"},  {"interact_e", "interaction", "1.5·d·e"}, {"dummy", "dummy", "ignored by the label"},
      {"linear_a_copy", "duplicate", "copy of linear_a"},
  };
  return features;
}

std::vector<std::string> synthetic_tabular_names() {
  std::vector<std::string> names;
  for (const auto& f : synthetic_tabular_features()) names.push_back(f.name);
  return names;
}

template <ad::Scalar T>
Dataset<T> synthetic_tabular(int64_t n, uint64_t seed) {
  ad::Rng rng(seed * 0x9E3779B97F4A7C15ull + 17);
  Dataset<T> ds;
  constexpr int64_t f = 7;
  ds.inputs = ad::Tensor<T>(ad::Shape{n, f});
  ds.num_classes = 2;
  ds.class_names = {"negative", "positive"};
  ds.feature_names = synthetic_tabular_names();
  for (int64_t i = 0; i < n; ++i) {
    const double a = rng.normal(), b = rng.normal(), c = rng.normal(), d = rng.normal(), e = rng.normal(), z = rng.normal();
    // Scored from the stored (rounded) values, so that a float32 set's labels follow its own inputs.
    const T row[f] = {T(a), T(b), T(c), T(d), T(e), T(z), T(a)};
    std::copy(row, row + f, ds.inputs.data() + i * f);
    const double score = 1.5 * double(row[0]) - 1.0 * double(row[1]) + 0.5 * double(row[2]) + 1.5 * double(row[3]) * double(row[4]);
    ds.labels.push_back(score > 0 ? 1 : 0);
  }
  return ds;
}

template Dataset<float> synthetic_tabular<float>(int64_t, uint64_t);
template Dataset<double> synthetic_tabular<double>(int64_t, uint64_t);

}  // namespace integrad::nn
