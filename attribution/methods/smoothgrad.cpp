#include "attribution/methods/smoothgrad.h"

#include <algorithm>
#include <stdexcept>

namespace integrad::attr {

template <ad::Scalar T>
ad::Tensor<T> smoothgrad(const std::function<ad::Tensor<T>(const ad::Tensor<T>&)>& method, const ad::Tensor<T>& x, const SmoothGradOptions& o) {
  if (o.samples < 1) throw std::invalid_argument("SmoothGrad needs at least one sample");
  if (o.stdev < 0) throw std::invalid_argument("SmoothGrad noise stdev must be >= 0");
  const int64_t n = x.size(0), row = x.shape().stride(0);
  std::vector<double> sigma(static_cast<size_t>(n), o.stdev);
  if (o.relative)
    for (int64_t i = 0; i < n; ++i) {
      const auto [lo, hi] = std::minmax_element(x.data() + i * row, x.data() + (i + 1) * row);
      sigma[static_cast<size_t>(i)] = o.stdev * double(*hi - *lo);
    }
  ad::Rng rng(o.seed);
  ad::Tensor<double> sum(x.shape()), sum_sq(x.shape());
  for (int s = 0; s < o.samples; ++s) {
    ad::Tensor<T> noisy = x;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < row; ++j) noisy[i * row + j] += static_cast<T>(sigma[static_cast<size_t>(i)] * rng.normal());
    const ad::Tensor<T> a = method(noisy);
    for (int64_t j = 0; j < a.numel(); ++j) {
      sum[j] += double(a[j]);
      sum_sq[j] += double(a[j]) * double(a[j]);
    }
  }
  ad::Tensor<T> out(x.shape());
  const double k = o.samples;
  for (int64_t j = 0; j < out.numel(); ++j) {
    const double mean = sum[j] / k, mean_sq = sum_sq[j] / k;
    out[j] = static_cast<T>(o.kind == NoiseKind::smoothgrad ? mean : o.kind == NoiseKind::smoothgrad_sq ? mean_sq : mean_sq - mean * mean);
  }
  return out;
}

NoiseKind parse_noise_kind(const std::string& name) {
  if (name == "smoothgrad") return NoiseKind::smoothgrad;
  if (name == "smoothgrad_sq") return NoiseKind::smoothgrad_sq;
  if (name == "vargrad") return NoiseKind::vargrad;
  throw std::invalid_argument("unknown noise tunnel type '" + name + "' (smoothgrad, smoothgrad_sq, vargrad)");
}

template ad::Tensor<float> smoothgrad<float>(const std::function<ad::Tensor<float>(const ad::Tensor<float>&)>&, const ad::Tensor<float>&,
                                             const SmoothGradOptions&);
template ad::Tensor<double> smoothgrad<double>(const std::function<ad::Tensor<double>(const ad::Tensor<double>&)>&, const ad::Tensor<double>&,
                                               const SmoothGradOptions&);

}  // namespace integrad::attr
