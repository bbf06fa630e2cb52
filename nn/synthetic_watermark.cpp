#include "nn/synthetic_watermark.h"

#include "autodiff/rng.h"

namespace integrad::nn {
namespace {

constexpr int64_t kSide = 28, kShape = 7;

ad::Tensor<float> pixels_equal(const ad::Tensor<float>& inputs, float value) {
  ad::Tensor<float> m(inputs.shape());
  for (int64_t k = 0; k < inputs.numel(); ++k) m[k] = inputs[k] == value ? 1.0f : 0.0f;
  return m;
}

}  // namespace

template <ad::Scalar T>
Dataset<T> synthetic_watermark(int64_t n, uint64_t seed, bool agreeing) {
  ad::Rng rng(seed * 0xD1B54A32D192ED03ull + 29);
  Dataset<T> ds;
  ds.inputs = ad::Tensor<T>(ad::Shape{n, 1, kSide, kSide});
  ds.num_classes = 2;
  ds.class_names = {"square", "plus"};
  for (int64_t e = 0; e < n; ++e) {
    const int64_t label = e % 2;  // balanced; the batch shuffle mixes the order
    T* img = ds.inputs.data() + e * kSide * kSide;
    for (int64_t i = 0; i < kSide * kSide; ++i) img[i] = T(rng.uniform(0.0, 0.2));
    const int64_t top = 7 + int64_t(rng.below(kSide - 14 - kShape + 1)), left = 7 + int64_t(rng.below(kSide - 14 - kShape + 1));
    for (int64_t i = 0; i < kShape; ++i)
      for (int64_t j = 0; j < kShape; ++j) {
        const bool on = label == 0 ? (i == 0 || j == 0 || i == kShape - 1 || j == kShape - 1) : (i == kShape / 2 || j == kShape / 2);
        if (on) img[(top + i) * kSide + left + j] = T(kWatermarkObject);
      }
    const int64_t mark = agreeing ? label : int64_t(rng.below(2));
    const int64_t mark_left = mark == 0 ? 1 : kSide - 4;
    for (int64_t i = 1; i < 4; ++i)
      for (int64_t j = 0; j < 3; ++j) img[i * kSide + mark_left + j] = T(kWatermarkMark);
    ds.labels.push_back(label);
  }
  return ds;
}

ad::Tensor<float> synthetic_watermark_object_masks(const ad::Tensor<float>& inputs) { return pixels_equal(inputs, kWatermarkObject); }
ad::Tensor<float> synthetic_watermark_masks(const ad::Tensor<float>& inputs) { return pixels_equal(inputs, kWatermarkMark); }

template Dataset<float> synthetic_watermark<float>(int64_t, uint64_t, bool);
template Dataset<double> synthetic_watermark<double>(int64_t, uint64_t, bool);

}  // namespace integrad::nn
