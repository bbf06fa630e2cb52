#include "autodiff/activation_kernels.h"

namespace integrad::ad {

void sigmoid_inplace(float* v, int64_t n) {
  for (int64_t j = 0; j < n; ++j) v[j] = 1.0f / (1.0f + exp_poly(-v[j]));
}
void tanh_inplace(float* v, int64_t n) {
  for (int64_t j = 0; j < n; ++j) v[j] = tanh_poly(v[j]);
}
void sigmoid_inplace(double* v, int64_t n) {
  for (int64_t j = 0; j < n; ++j) v[j] = 1.0 / (1.0 + std::exp(-v[j]));
}
void tanh_inplace(double* v, int64_t n) {
  for (int64_t j = 0; j < n; ++j) v[j] = std::tanh(v[j]);
}

}  // namespace integrad::ad
