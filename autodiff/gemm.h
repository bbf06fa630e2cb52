// GEMM: C = alpha·op(A)·op(B) + beta·C for row-major matrices, op(X) = X or Xᵀ by flag, so callers
// never copy a transpose. Every matmul, convolution and linear layer goes through here.
#pragma once

#include <cstdint>

#include "autodiff/tensor.h"

namespace integrad::ad {

// op(A) is m×k, op(B) is k×n, C is m×n. lda/ldb/ldc are the row strides of A, B, C as stored.
// beta == 0 overwrites C without reading it (so C may hold garbage, like BLAS).
// Deterministic: each element of C is computed by one thread in a fixed order, whatever the
// thread count.
template <Scalar T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

// C = alpha·A·B + beta·C (A not transposed) where row p of B (k × n) is the n values at b_rows[p]:
// B gathered from anywhere without a copy. A stride-1 convolution reads its patches straight from
// the padded image this way (conv_rows.cpp) instead of unfolding them first. The same sums in the
// same order as gemm on B copied into a matrix.
template <Scalar T>
void gemm_rows(int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* const* b_rows, T beta, T* c, int64_t ldc);

// The reference: three loops, no blocking, no threads. Tests compare gemm with it.
template <Scalar T>
void gemm_naive(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
                const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

}  // namespace integrad::ad
