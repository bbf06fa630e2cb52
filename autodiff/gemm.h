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

// dst[j·ldd + i] = src[i·lds + j] for i < rows, j < cols: the packings' transpose, for a caller
// that lays an operand out once. A convolution's weight gradient reads its padded image pixel by
// pixel (conv_rows.cpp), where transposing nine shifted copies of it in dW's packing was a tenth
// of a ResNet's training step. In 16 × 16 blocks in registers where this file has AVX-512.
template <Scalar T>
void transpose(int64_t rows, int64_t cols, const T* src, int64_t lds, T* dst, int64_t ldd);

// What gemm_rows does to each element of C on its way out, besides alpha: a convolution's forward
// (conv_rows.cpp) adds its bias and applies its ReLU there, and writes its rows straight into its
// output without the extra columns of its wide layout, where a pass over a wide copy of C did
// that after the GEMM (a fifth of a ResNet forward's time).
template <Scalar T>
struct Epilogue {
  const T* bias = nullptr;  // bias[i] added to row i (+0 without one, as that pass added)
  bool relu = false;        // then relu_value (autodiff/relu.h)
  // Column t of C is stored at (t / period)·keep + t % period in its row when t % period < keep,
  // and not at all otherwise.
  int64_t period = 1, keep = 1;
};

// C = A·B through the epilogue, B's rows at b_rows as above; C's row i starts at c + i·ldc.
template <Scalar T>
void gemm_rows(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* const* b_rows, T* c, int64_t ldc, const Epilogue<T>& epilogue);

// The reference: three loops, no blocking, no threads. Tests compare gemm with it.
template <Scalar T>
void gemm_naive(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
                const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

}  // namespace integrad::ad
