// Sigmoid and tanh over a row, in place, for the recurrent ops' gates. Internal to autodiff.
//
// Why: an LSTM step computes five transcendental functions per hidden unit, and libm's scalar
// expf/tanhf calls cost more than the step's GEMMs (layer IG on 1,000 sequences of 40 tokens makes
// that for 128 M hidden units). In float the functions below are branch-free polynomials (Cephes' expf and
// tanhf) that GCC vectorises; they are within a few ulp of libm (tests/autodiff/test_kernels.cpp
// compares them with std::exp and std::tanh in double). Double keeps libm's functions, so that
// double results match PyTorch's to rounding.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace integrad::ad {

// e^x for x in float's range; clamped to [−87, 88] (below, the result is tiny but normal, where
// e^x would be a denormal or 0; above, it would overflow). Relative error ~2 ulp.
inline float exp_poly(float x) {
  x = x < -87.0f ? -87.0f : x;  // ternaries, not std::min/max or std::floor: GCC vectorises these
  x = x > 88.0f ? 88.0f : x;
  // n = round(x / ln 2): adding and subtracting 1.5·2^23 rounds to an integer in float arithmetic.
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f;  // x − n·ln 2, with ln 2 in two parts so the reduction is exact
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  return p * std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);
}

// tanh: an odd polynomial below |x| = 0.625 (where 1 − 2/(e^{2x} + 1) would cancel), that formula
// above. Both are computed and one selected, so the loop has no branch.
inline float tanh_poly(float x) {
  const float a = std::abs(x), z = x * x;
  const float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z + 1.33314422036e-1f) * z - 3.33332819422e-1f) * z * x + x;
  const float large = 1.0f - 2.0f / (exp_poly(2.0f * a) + 1.0f);
  return a < 0.625f ? small : std::copysign(large, x);
}

// In place over v[0..n): float with the polynomials above, double with libm. The loops live in
// activation_kernels.cpp, compiled with -fno-trapping-math: without it GCC keeps the clamps'
// selects as branches (a select could raise a floating-point exception the branch would not) and
// runs the loops scalar, 3x slower. No code reads the floating-point exception flags.
void sigmoid_inplace(float* v, int64_t n);
void tanh_inplace(float* v, int64_t n);
void sigmoid_inplace(double* v, int64_t n);
void tanh_inplace(double* v, int64_t n);

}  // namespace integrad::ad
