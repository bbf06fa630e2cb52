// Direct-loop convolution: the reference that tests hold the im2col + GEMM conv2d to.
#pragma once

#include "autodiff/tensor.h"

namespace integrad::ad {

// x [N, C, H, W], weight [O, C, kh, kw], bias [O] or empty: returns [N, O, Ho, Wo].
template <Scalar T>
Tensor<T> conv2d_naive(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>* bias, int stride, int padding) {
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const int64_t o = weight.size(0), kh = weight.size(2), kw = weight.size(3);
  const int64_t ho = (h + 2 * padding - kh) / stride + 1, wo = (w + 2 * padding - kw) / stride + 1;
  Tensor<T> out(Shape{n, o, ho, wo});
  for (int64_t b = 0; b < n; ++b)
    for (int64_t oc = 0; oc < o; ++oc)
      for (int64_t oy = 0; oy < ho; ++oy)
        for (int64_t ox = 0; ox < wo; ++ox) {
          T s = bias ? (*bias)[oc] : T(0);
          for (int64_t ic = 0; ic < c; ++ic)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                // Padding is a zero that is multiplied, as in PyTorch's im2col convolution and
                // in the fast kernels: a NaN or ±Inf weight over padding gives NaN (0 · Inf).
                const int64_t iy = oy * stride - padding + i, ix = ox * stride - padding + j;
                const T v = iy >= 0 && iy < h && ix >= 0 && ix < w ? x.at({b, ic, iy, ix}) : T(0);
                s += v * weight.at({oc, ic, i, j});
              }
          out.at({b, oc, oy, ox}) = s;
        }
  return out;
}

}  // namespace integrad::ad
