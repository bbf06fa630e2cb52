// Max pooling of one plane, shared by max_pool2d (ops_pool.cpp) and the convolution that pools
// its own output (conv2d_relu_max_pool2d, conv_rows.cpp), so that both give the same bits and pick
// the same winners, NaN included. Internal to autodiff.
#pragma once

#include <cstdint>
#include <optional>

#include "autodiff/tensor.h"

namespace integrad::ad {

struct PoolGeometry {
  int64_t planes, h, w, ho, wo;
  int kernel, stride;
};

// Whether x[0..n) holds a NaN: one pass the compiler vectorises (no early exit).
template <Scalar T>
bool has_nan(const T* x, int64_t n) {
  int any = 0;
  for (int64_t i = 0; i < n; ++i) any |= x[i] != x[i];
  return any != 0;
}

// One plane's window maxima and, when `winner` is set, where each came from. The kernel size is a
// template argument for the common 2×2 case (0: read it from g), so the window loops unroll.
// NanWins adds PyTorch's `|| isnan(v)`. It is a separate instantiation, taken only for planes that
// hold a NaN, because that second condition made the loop ten times slower (measured: 0.35 →
// 3.5 ms for 64×16×28×28): GCC no longer keeps the window in selects. Without a NaN in the plane
// both give the same winners.
template <int FixedKernel, bool NanWins, Scalar T>
void max_pool_plane(const PoolGeometry& g, const T* plane, T* y, int32_t* winner) {
  const int kernel = FixedKernel ? FixedKernel : g.kernel;
  for (int64_t oy = 0; oy < g.ho; ++oy)
    for (int64_t ox = 0; ox < g.wo; ++ox) {
      int64_t best = (oy * g.stride) * g.w + ox * g.stride;
      T best_value = plane[best];
      for (int i = 0; i < kernel; ++i)
        for (int j = 0; j < kernel; ++j) {
          // Selects, not a branch: which element wins is data, and a mispredicted branch per
          // element cost more than all the rest of the loop. v != v: v is NaN.
          const int64_t at = (oy * g.stride + i) * g.w + ox * g.stride + j;
          const T v = plane[at];
          const bool better = NanWins ? v > best_value || v != v : v > best_value;
          best_value = better ? v : best_value;
          best = better ? at : best;
        }
      y[oy * g.wo + ox] = best_value;
      if (winner) winner[oy * g.wo + ox] = static_cast<int32_t>(best);
    }
}
// The forward-only 2×2, stride-2 case (inference, perturbation methods: no winners kept, no NaN in
// the plane): the maximum of each pair of a row, then of the two rows' pairs. (a < b ? b : a) keeps
// the first of equal values, as max_pool_plane does, so -0 and +0 give the same bits; the loop has
// no index to carry and vectorises. It was a seventh of a forward pass's instructions.
template <Scalar T>
void max_pool_plane_2x2_values(const PoolGeometry& g, const T* plane, T* y) {
  for (int64_t oy = 0; oy < g.ho; ++oy) {
    const T* r0 = plane + (2 * oy) * g.w;
    const T* r1 = r0 + g.w;
    T* out = y + oy * g.wo;
    for (int64_t ox = 0; ox < g.wo; ++ox) {
      const T a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
      const T m0 = a < b ? b : a, m1 = c < d ? d : c;
      out[ox] = m0 < m1 ? m1 : m0;
    }
  }
}

// One plane [h, w] pooled into y [ho, wo], each window's winner (an offset within the plane) in
// `winner` when it is not null: the fastest of the loops above that gives PyTorch's result.
// `holds_nan` says whether the plane holds a NaN when the caller knows (the convolution finds out
// as it writes the plane); otherwise the plane is scanned for one.
template <Scalar T>
void max_pool_plane_any(const PoolGeometry& g, const T* plane, T* y, int32_t* winner, std::optional<bool> holds_nan = std::nullopt) {
  const bool nan_wins = holds_nan ? *holds_nan : has_nan(plane, g.h * g.w);
  if (!winner && !nan_wins && g.kernel == 2 && g.stride == 2) max_pool_plane_2x2_values(g, plane, y);
  else if (g.kernel == 2) nan_wins ? max_pool_plane<2, true>(g, plane, y, winner) : max_pool_plane<2, false>(g, plane, y, winner);
  else nan_wins ? max_pool_plane<0, true>(g, plane, y, winner) : max_pool_plane<0, false>(g, plane, y, winner);
}

}  // namespace integrad::ad
