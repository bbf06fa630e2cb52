#include "autodiff/gemm.h"

#include <vector>

namespace integrad::ad {

namespace {

// C = alpha·A·Bᵀ + beta·C with both A and B read along k: every element is a dot product of two
// contiguous rows. Sixteen independent partial sums form one vector register (no reassociation
// needed, so the summation order is fixed and the same on every thread count).
template <Scalar T>
void gemm_nt_dot(int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  constexpr int kLanes = 16;
  [[maybe_unused]] const bool parallel = m * n * k > (int64_t(1) << 15);
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t i = 0; i < m; ++i) {
    const T* ai = a + i * lda;
    for (int64_t j = 0; j < n; ++j) {
      const T* bj = b + j * ldb;
      T lanes[kLanes] = {};
      int64_t p = 0;
      for (; p + kLanes <= k; p += kLanes)
        for (int l = 0; l < kLanes; ++l) lanes[l] += ai[p + l] * bj[p + l];
      T sum = 0;
      for (; p < k; ++p) sum += ai[p] * bj[p];
      for (int l = 0; l < kLanes; ++l) sum += lanes[l];
      T& out = c[i * ldc + j];
      out = alpha * sum + (beta == T(0) ? T(0) : beta * out);
    }
  }
}

}  // namespace

// A first cache-friendly version: B is made row-major-untransposed once (packed), then each row
// of C is an axpy sweep over packed rows of B, which the compiler vectorises. Rows of C are split
// over threads, so each output element has exactly one writer and a fixed summation order.
template <Scalar T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (!trans_a && trans_b && k >= 64) return gemm_nt_dot(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  std::vector<T> packed_b;
  const T* bp = b;
  int64_t ldbp = ldb;
  if (trans_b) {
    packed_b.resize(static_cast<size_t>(k * n));
    for (int64_t p = 0; p < k; ++p)
      for (int64_t j = 0; j < n; ++j) packed_b[static_cast<size_t>(p * n + j)] = b[j * ldb + p];
    bp = packed_b.data();
    ldbp = n;
  }
  [[maybe_unused]] const bool parallel = m * n * k > (int64_t(1) << 15);
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t i = 0; i < m; ++i) {
    T* ci = c + i * ldc;
    if (beta == T(0)) {
      for (int64_t j = 0; j < n; ++j) ci[j] = T(0);
    } else if (beta != T(1)) {
      for (int64_t j = 0; j < n; ++j) ci[j] *= beta;
    }
    for (int64_t p = 0; p < k; ++p) {
      const T av = alpha * (trans_a ? a[p * lda + i] : a[i * lda + p]);
      const T* bk = bp + p * ldbp;
      for (int64_t j = 0; j < n; ++j) ci[j] += av * bk[j];
    }
  }
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                          float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t, const double*,
                           int64_t, double, double*, int64_t);

}  // namespace integrad::ad
