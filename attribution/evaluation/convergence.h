// How fast each quadrature rule's IG approaches the true integral: for n = 2, 4, …, 1024 steps,
// |delta| and the error against a reference — exact IG on piecewise-linear networks, a
// 4096-point Gauss-Legendre IG on smooth ones — and the fitted order p in error ≈ C·n^(−p).
// On ReLU networks every rule converges only like 1/n or so (the integrand jumps at kinks);
// on smooth ones Gauss-Legendre converges geometrically.
#pragma once

#include <string>
#include <vector>

#include "attribution/methods/quadrature.h"
#include "nn/model.h"

namespace integrad::attr {

struct ConvergencePoint {
  Rule rule;
  int steps;
  double abs_delta;  // max over examples of |Σ IG − (F(x) − F(x′))|
  double error;      // max |IG − reference| / max |reference|
};

struct ConvergenceStudy {
  std::string reference;  // "exact IG" or "Gauss-Legendre, 4096 steps"
  std::vector<ConvergencePoint> points;
  std::vector<std::pair<Rule, double>> order;  // least-squares slope of −log(error) on log(n)
};

template <ad::Scalar T>
ConvergenceStudy convergence_study(const nn::Model<T>& model, const ad::Tensor<T>& x, const ad::Tensor<T>& baseline, int max_steps = 1024);


}  // namespace integrad::attr
