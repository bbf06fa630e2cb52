#include <doctest/doctest.h>

#include <cmath>

#include "attribution/methods/exact_ig.h"
#include "nn/architecture.h"

using namespace integrad;

TEST_CASE("exact IG: zero delta, and agreement with 4096-point Gauss-Legendre on a ReLU network") {
  const auto model = nn::parse_architecture<double>("Linear(5, 16); ReLU(); Linear(16, 12); ReLU(); Linear(12, 3)", ad::Shape{5}, nn::InputDtype::float64, 7);
  ad::Rng rng(11);
  const auto x = ad::Tensor<double>::uniform(ad::Shape{3, 5}, rng, -2, 2);
  const auto exact = attr::exact_integrated_gradients(model, x, attr::Target<double>::predicted());
  attr::IgOptions<double> o;
  o.steps = 4096;
  o.batch_size = 4096;
  const auto gl = attr::integrated_gradients(attr::forward_of(model), x, attr::Target<double>::each(exact.targets), o);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(std::abs(exact.deltas[i]) < 1e-12);
    CHECK(exact.steps[i] > 1);  // the path does cross kinks
  }
  for (int64_t j = 0; j < x.numel(); ++j) CHECK(exact.values[j] == doctest::Approx(gl.values[j]).epsilon(1e-3).scale(1e-3));
}

TEST_CASE("exact IG on a CNN with max pooling has zero delta") {
  const auto model = nn::parse_architecture<double>("Conv2d(1, 3, 3, padding=1); ReLU(); MaxPool2d(2); Flatten(); Linear(12, 2)", ad::Shape{1, 4, 4},
                                                    nn::InputDtype::float64, 3);
  ad::Rng rng(5);
  const auto x = ad::Tensor<double>::uniform(ad::Shape{2, 1, 4, 4}, rng, 0, 1);
  const auto exact = attr::exact_integrated_gradients(model, x, attr::Target<double>::of(1));
  for (double d : exact.deltas) CHECK(std::abs(d) < 1e-12);
}

TEST_CASE("exact IG refuses smooth layers") {
  const auto model = nn::parse_architecture<double>("Linear(2, 2); Tanh()", ad::Shape{2}, nn::InputDtype::float64, 1);
  CHECK_THROWS_AS(attr::exact_integrated_gradients(model, ad::Tensor<double>(ad::Shape{1, 2}), attr::Target<double>::of(0)), std::invalid_argument);
}
