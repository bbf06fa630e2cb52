// Max pooling of one plane, shared by max_pool2d (ops_pool.cpp) and the convolution that pools
// its own output (conv2d_relu_max_pool2d, conv_rows.cpp), so that both give the same bits and pick
// the same winners, NaN included. Internal to autodiff.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <type_traits>

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

// The 2×2, stride-2 case in float32 for planes without a NaN, 8 outputs at a time with GCC's
// vector types: each row pair's inputs split into even and odd columns by shuffles, the same
// comparisons as max_pool_plane_2x2_values (so the same values and the same first-maximal
// winners), and the winners as offsets from integer selects. GCC left the scalar loops with winners
// scalar, and those without them scalar in their tails (a 7-wide output row is all tail). Every
// output row but the plane's last is done in whole vectors: the reads past its row pair's end land
// in the plane's next rows, and the writes past its end in the next output row, which is written
// after it; the last row finishes one output at a time. Needs wo ≥ 7 (for those writes to stay
// within the next row) and w ≥ 8 (for those reads to stay within the plane).
inline void max_pool_plane_2x2_f32(const PoolGeometry& g, const float* plane, float* y, int32_t* winner) {
  using V [[gnu::vector_size(32)]] = float;
  using I [[gnu::vector_size(32)]] = int32_t;
  constexpr int64_t lanes = 8;
  const I even = {0, 2, 4, 6, 8, 10, 12, 14};
  // mask ? x : y, lane by lane, as bits (a vector ?: is not portable between GCC and clang).
  const auto pick = [](I mask, V x, V y) { return (V)(((I)x & mask) | ((I)y & ~mask)); };
  for (int64_t oy = 0; oy < g.ho; ++oy) {
    const float* r0 = plane + (2 * oy) * g.w;
    const float* r1 = r0 + g.w;
    float* out = y + oy * g.wo;
    int32_t* at = winner ? winner + oy * g.wo : nullptr;
    const auto top = static_cast<int32_t>(2 * oy * g.w), w = static_cast<int32_t>(g.w);
    const int64_t vector_end = oy + 1 < g.ho ? g.wo : g.wo / lanes * lanes;
    int64_t ox = 0;
    for (; ox < vector_end; ox += lanes) {
      V p0, p1, q0, q1;
      std::memcpy(&p0, r0 + 2 * ox, sizeof(V));
      std::memcpy(&p1, r0 + 2 * ox + lanes, sizeof(V));
      std::memcpy(&q0, r1 + 2 * ox, sizeof(V));
      std::memcpy(&q1, r1 + 2 * ox + lanes, sizeof(V));
      const V a = __builtin_shufflevector(p0, p1, 0, 2, 4, 6, 8, 10, 12, 14), b = __builtin_shufflevector(p0, p1, 1, 3, 5, 7, 9, 11, 13, 15);
      const V c = __builtin_shufflevector(q0, q1, 0, 2, 4, 6, 8, 10, 12, 14), d = __builtin_shufflevector(q0, q1, 1, 3, 5, 7, 9, 11, 13, 15);
      const I right_top = a < b, right_bottom = c < d;  // −1 where the right element of the pair wins
      const V m0 = pick(right_top, b, a), m1 = pick(right_bottom, d, c);
      const I bottom = m0 < m1;
      const V best = pick(bottom, m1, m0);
      std::memcpy(out + ox, &best, sizeof(V));
      if (at) {
        const I left = top + static_cast<int32_t>(2 * ox) + even;
        const I top_winner = left - right_top, bottom_winner = left + w - right_bottom;
        const I from = (bottom_winner & bottom) | (top_winner & ~bottom);
        std::memcpy(at + ox, &from, sizeof(I));
      }
    }
    for (; ox < g.wo; ++ox) {
      const float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
      const float m0 = a < b ? b : a, m1 = c < d ? d : c;
      out[ox] = m0 < m1 ? m1 : m0;
      if (at) at[ox] = m0 < m1 ? top + w + static_cast<int32_t>(2 * ox) + (c < d) : top + static_cast<int32_t>(2 * ox) + (a < b);
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
  if constexpr (std::is_same_v<T, float>)
    if (!nan_wins && g.kernel == 2 && g.stride == 2 && g.wo >= 7 && g.w >= 8) return max_pool_plane_2x2_f32(g, plane, y, winner);
  if (!winner && !nan_wins && g.kernel == 2 && g.stride == 2) max_pool_plane_2x2_values(g, plane, y);
  else if (g.kernel == 2) nan_wins ? max_pool_plane<2, true>(g, plane, y, winner) : max_pool_plane<2, false>(g, plane, y, winner);
  else nan_wins ? max_pool_plane<0, true>(g, plane, y, winner) : max_pool_plane<0, false>(g, plane, y, winner);
}

}  // namespace integrad::ad
