// How far a result is from a reference's numbers (fixtures from PyTorch, Captum, Zennit, PAIR), in
// the two measures the tests hold them to. Shared by every suite (tests/ is on their include path).
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "autodiff/tensor.h"

namespace integrad::testing {

// The largest difference, each divided by max(floor, |expected|).
template <ad::Scalar T>
double max_relative_error(const ad::Tensor<T>& actual, const ad::Tensor<T>& expected, double floor) {
  REQUIRE(actual.shape() == expected.shape());
  double worst = 0;
  for (int64_t i = 0; i < actual.numel(); ++i)
    worst = std::max(worst, std::abs(double(actual[i]) - double(expected[i])) / std::max(floor, std::abs(double(expected[i]))));
  return worst;
}

// The largest difference relative to the reference's largest value (a case's scale); the reference
// must not be all (nearly) zero, or the comparison would be empty.
template <ad::Scalar T>
double relative_gap(const ad::Tensor<T>& actual, const ad::Tensor<T>& expected) {
  REQUIRE(actual.shape() == expected.shape());
  double gap = 0, largest = 0;
  for (int64_t i = 0; i < actual.numel(); ++i) {
    gap = std::max(gap, std::abs(double(actual[i]) - double(expected[i])));
    largest = std::max(largest, std::abs(double(expected[i])));
  }
  REQUIRE(largest > 1e-6);
  return gap / largest;
}

}  // namespace integrad::testing
