// The largest relative difference between two tensors of one shape, each difference divided by
// max(floor, |expected|): the measure the PyTorch fixtures are held to.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "autodiff/tensor.h"

namespace integrad::testing {

template <ad::Scalar T>
double max_relative_error(const ad::Tensor<T>& actual, const ad::Tensor<T>& expected, double floor) {
  REQUIRE(actual.shape() == expected.shape());
  double worst = 0;
  for (int64_t i = 0; i < actual.numel(); ++i)
    worst = std::max(worst, std::abs(double(actual[i]) - double(expected[i])) / std::max(floor, std::abs(double(expected[i]))));
  return worst;
}

}  // namespace integrad::testing
