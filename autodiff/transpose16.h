// A 16 × 16 float transpose in AVX-512 registers, for the GEMM's packing (gemm.cpp, the one
// file compiled with AVX-512: include it only where __AVX512F__ is defined). Internal to autodiff.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace integrad::ad {

using Floats16 [[gnu::vector_size(64)]] = float;
using Indices16 [[gnu::vector_size(64)]] = int32_t;
// Lane k of the result is lane lanes[k] of a:b (b's lanes numbered 16 to 31), one vpermt2ps: the
// unpack and shuffle intrinsics warn of an uninitialised operand in GCC 12.
inline Floats16 pick(Floats16 a, Floats16 b, Indices16 lanes) { return _mm512_permutex2var_ps(a, __m512i(lanes), b); }

// A block of 16 columns of `rows` rows (row i from src(i) on), transposed: out[q·out_ld + i] =
// src(i)[q] for q < 16 and i < width, zero for rows <= i < width. The GEMM's packings are
// transposes wherever the source runs along k: element by element they were an eighth of a
// training step (dW's GEMMs), in registers four shuffles a vector.
template <class Row>
void transpose16(Row&& src, int rows, float* out, int64_t out_ld, int width) {
  Floats16 r[16], t[16];
  for (int i = 0; i < 16; ++i) {
    r[i] = Floats16{};
    if (i < rows) std::memcpy(&r[i], src(i), sizeof(Floats16));
  }
  // Pairs of rows interleaved, then pairs of pairs: r[4m + c], in its 128-bit quarter q, holds
  // column 4q + c of rows 4m .. 4m + 3.
  constexpr Indices16 low_pairs{0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25, 12, 28, 13, 29};
  constexpr Indices16 high_pairs{2, 18, 3, 19, 6, 22, 7, 23, 10, 26, 11, 27, 14, 30, 15, 31};
  constexpr Indices16 low_quads{0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29};
  constexpr Indices16 high_quads{2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31};
  for (int i = 0; i < 16; i += 2) {
    t[i] = pick(r[i], r[i + 1], low_pairs);
    t[i + 1] = pick(r[i], r[i + 1], high_pairs);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = pick(t[i], t[i + 2], low_quads);
    r[i + 1] = pick(t[i], t[i + 2], high_quads);
    r[i + 2] = pick(t[i + 1], t[i + 3], low_quads);
    r[i + 3] = pick(t[i + 1], t[i + 3], high_quads);
  }
  // Then the quarters gathered, the four groups of rows of column c into one vector.
  constexpr Indices16 even_quarters{0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27};
  constexpr Indices16 odd_quarters{4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31};
  const __mmask16 mask = __mmask16((1u << width) - 1);
  for (int c = 0; c < 4; ++c) {
    const Floats16 a = pick(r[c], r[4 + c], even_quarters), b = pick(r[c], r[4 + c], odd_quarters);
    const Floats16 lo = pick(r[8 + c], r[12 + c], even_quarters), hi = pick(r[8 + c], r[12 + c], odd_quarters);
    _mm512_mask_storeu_ps(out + c * out_ld, mask, pick(a, lo, even_quarters));
    _mm512_mask_storeu_ps(out + (8 + c) * out_ld, mask, pick(a, lo, odd_quarters));
    _mm512_mask_storeu_ps(out + (4 + c) * out_ld, mask, pick(b, hi, even_quarters));
    _mm512_mask_storeu_ps(out + (12 + c) * out_ld, mask, pick(b, hi, odd_quarters));
  }
}

}  // namespace integrad::ad
