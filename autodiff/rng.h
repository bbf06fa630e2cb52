// A small seeded random generator with the same stream on every platform (std:: distributions are
// implementation-defined, which would break "same seed, same bits").
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>

namespace integrad::ad {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : state_(seed) {}

  // splitmix64: tiny, well-mixed, and good enough for initialisation, shuffling and noise.
  uint64_t next_u64() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal by Box-Muller; uses two uniforms per sample so the stream stays simple.
  double normal() {
    double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  // Uniform integer in [0, n) without modulo bias worth mentioning for n << 2^64.
  uint64_t below(uint64_t n) { return static_cast<uint64_t>(uniform() * static_cast<double>(n)); }

 private:
  uint64_t state_;
};

}  // namespace integrad::ad
