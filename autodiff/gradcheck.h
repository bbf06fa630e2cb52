// gradcheck: compare the tape's gradients with central finite differences, in double, with
// PyTorch's defaults (eps 1e-6, |analytic − numeric| <= 1e-5 + 1e-3·|numeric|). A non-scalar
// output is contracted with a fixed random vector w, so every output element is exercised:
// the check is on wᵀJ. Two more checks, as torch.autograd.gradcheck does: two backward runs
// give the same gradients, and a zero seed gives zero gradients.
#pragma once

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "autodiff/ops.h"

namespace integrad::ad {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
  uint64_t seed = 1234;
};

struct GradcheckResult {
  bool ok = true;
  double worst_excess = 0;  // max over elements of |a − n| − (atol + rtol·|n|); <= 0 passes
  std::string message;      // the first failure, with input, element, analytic and numeric values
};

// `fn` records a function of the given inputs on the tape and returns its output.
using GradcheckFn = std::function<Var<double>(Tape<double>&, const std::vector<Var<double>>&)>;

inline GradcheckResult gradcheck(const GradcheckFn& fn, std::vector<Tensor<double>> inputs, GradcheckOptions opt = {}) {
  GradcheckResult result;
  auto fail = [&](std::string message) {
    if (result.ok) result.message = std::move(message);
    result.ok = false;
  };
  Tape<double> tape;
  auto run = [&](bool requires_grad) {
    tape.rewind();
    std::vector<Var<double>> vars;
    for (const auto& x : inputs) vars.push_back(tape.leaf(x, requires_grad));
    return std::pair{fn(tape, vars), vars};
  };

  // The contraction vector w, fixed by the seed.
  Rng rng(opt.seed);
  Tensor<double> w;
  {
    auto [out, vars] = run(false);
    w = Tensor<double>::uniform(out.shape(), rng, -1.0, 1.0);
  }
  auto weighted_output = [&] {
    auto [out, vars] = run(false);
    double s = 0;
    for (int64_t i = 0; i < out.numel(); ++i) s += w[i] * out.value()[static_cast<size_t>(i)];
    return s;
  };
  auto analytic = [&](const Tensor<double>& seed) {
    auto [out, vars] = run(true);
    tape.backward(out, seed.span());
    std::vector<Tensor<double>> grads;
    for (auto& v : vars) grads.push_back(v.grad_tensor());
    return grads;
  };

  const std::vector<Tensor<double>> first = analytic(w);
  for (size_t i = 0; i < inputs.size(); ++i) {
    for (int64_t j = 0; j < inputs[i].numel(); ++j) {
      const double saved = inputs[i][j];
      inputs[i][j] = saved + opt.eps;
      const double plus = weighted_output();
      inputs[i][j] = saved - opt.eps;
      const double minus = weighted_output();
      inputs[i][j] = saved;
      const double numeric = (plus - minus) / (2 * opt.eps), a = first[i][j];
      const double excess = std::abs(a - numeric) - (opt.atol + opt.rtol * std::abs(numeric));
      result.worst_excess = std::max(result.worst_excess, excess);
      if (!(excess <= 0))
        fail(fmt::format("input {} element {}: analytic {:.10g} vs numeric {:.10g}", i, j, a, numeric));
    }
  }

  const std::vector<Tensor<double>> second = analytic(w);
  for (size_t i = 0; i < inputs.size(); ++i)
    if (first[i].vector() != second[i].vector()) fail(fmt::format("input {}: two backward runs disagree", i));

  const std::vector<Tensor<double>> zero = analytic(Tensor<double>(w.shape()));
  for (size_t i = 0; i < inputs.size(); ++i)
    for (double g : zero[i].span())
      if (g != 0) {
        fail(fmt::format("input {}: a zero seed gave a non-zero gradient", i));
        break;
      }
  return result;
}

}  // namespace integrad::ad
