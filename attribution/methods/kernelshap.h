// KernelSHAP's coalitions, exposed for the tests.
#pragma once

#include <cstdint>
#include <vector>

namespace integrad::attr {

// Coalitions of M groups (1: group kept) with their regression weights.
struct Coalitions {
  std::vector<std::vector<char>> keep;
  std::vector<double> weight;
};

// `samples` (< 2^M − 2) distinct coalitions of M groups by size, seeded; see kernelshap.cpp.
Coalitions sampled_coalitions(size_t m, int64_t samples, uint64_t seed);

}  // namespace integrad::attr
