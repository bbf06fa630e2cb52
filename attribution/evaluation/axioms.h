// The axioms of Sundararajan, Taly and Yan (2017) as executable checks. Each check runs one
// attribution method on a model and returns pass/fail, the measured figure and the tolerance it
// was held to — and each can fail: tests/attribution/test_axioms.cpp shows every one failing on a
// constructed violation.
//
//   completeness         Σ A(x) = F(x) − F(x′), within tol·max(|F(x) − F(x′)|, 0.1·max(|F(x)|, |F(x′)|), ε)
//                        (ε = 1e-6 in float64, 1e-4 in float32): relative, with an absolute floor
//   sensitivity_a        an input that differs from the baseline in one feature only, and whose
//                        output differs, gives that feature a non-zero attribution
//   dummy                (sensitivity b) a feature the function ignores gets 0 (to rounding: within the
//                        equality tolerance of the map's largest |A|) — checked on a copy of the model
//                        with one appended input whose weights are zero
//   implementation_invariance  functionally equal networks get equal attributions — twins given by
//                        the user and twins built from the model (hidden units permuted, a ReLU unit
//                        scaled by c and its outgoing weights by 1/c, a unit split in two, an
//                        identity layer inserted), each first verified to compute the same outputs
//   linearity            A(a·F₁ + b·F₂) = a·A(F₁) + b·A(F₂), with F₁, F₂ two output units
//   symmetry             for a function symmetric in two features, equal values there (in input and
//                        baseline) get equal attributions — on a copy of the model made symmetric
//   conservation         (LRP's relevance conservation) Σ A(x) = F(x), within tol·max(|F(x)|, ε);
//                        Σ A(x) = 1 within tol for a method seeded with relevance 1 (Zennit's LRP):
//                        the output itself, not its change from a baseline, is shared out (IG
//                        conserves F(x) − F(x′) instead, so fails it wherever F(x′) ≠ 0)
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "attribution/method.h"
#include "nn/model.h"

namespace integrad::attr {

struct CheckResult {
  std::string name;
  bool applicable = true;  // false: the model has no structure this check can use (detail says why)
  bool passed = false;
  double figure = 0;       // the worst measured violation, in the check's own unit (detail)
  double tolerance = 0;
  std::string detail;
};

struct CheckOptions {
  double completeness_tolerance = 0.05;  // relative to |F(x) − F(x′)|: the original authors' 5%
  // ... but to no less than this fraction of max(|F(x)|, |F(x′)|): where F(x) ≈ F(x′) the error is
  // judged against the outputs' size (an absolute tolerance of 0.05 · 0.1 · |F|).
  double completeness_output_fraction = 0.1;
  // Relative to the largest |attribution|; below 0, by precision: 1e-6 in float64, 1e-4 in float32.
  double equality_tolerance = -1;
  int max_features = 8;                  // sensitivity(a): features tried per example
  bool unit_seed = false;                // conservation: the method's output relevance is 1, not F(x)
};

template <ad::Scalar T>
using Twins = std::vector<std::pair<std::string, nn::Model<T>>>;

template <ad::Scalar T>
CheckResult check_completeness(const nn::Model<T>& model, const ExplainFn<T>& method, const ad::Tensor<T>& x, const ad::Tensor<T>& baseline,
                               const std::vector<int64_t>& targets, const CheckOptions& options = {});
template <ad::Scalar T>
CheckResult check_sensitivity_a(const nn::Model<T>& model, const ExplainFn<T>& method, const ad::Tensor<T>& x, const ad::Tensor<T>& baseline,
                                const std::vector<int64_t>& targets, const CheckOptions& options = {});
template <ad::Scalar T>
CheckResult check_dummy(const nn::Model<T>& model, const ExplainFn<T>& method, const ad::Tensor<T>& x, const ad::Tensor<T>& baseline,
                        const std::vector<int64_t>& targets, const CheckOptions& options = {});
template <ad::Scalar T>
CheckResult check_implementation_invariance(const nn::Model<T>& model, const ExplainFn<T>& method, const ad::Tensor<T>& x,
                                            const ad::Tensor<T>& baseline, const std::vector<int64_t>& targets, const Twins<T>& twins,
                                            const CheckOptions& options = {});
template <ad::Scalar T>
CheckResult check_linearity(const nn::Model<T>& model, const ExplainFn<T>& method, const ad::Tensor<T>& x, const ad::Tensor<T>& baseline,
                            const CheckOptions& options = {});
template <ad::Scalar T>
CheckResult check_symmetry(const nn::Model<T>& model, const ExplainFn<T>& method, const ad::Tensor<T>& x, const ad::Tensor<T>& baseline,
                           const std::vector<int64_t>& targets, const CheckOptions& options = {});

template <ad::Scalar T>
CheckResult check_conservation(const nn::Model<T>& model, const ExplainFn<T>& method, const ad::Tensor<T>& x, const ad::Tensor<T>& baseline,
                               const std::vector<int64_t>& targets, const CheckOptions& options = {});

// Functionally equivalent copies of the model, built from its first Linear–ReLU–Linear block
// (empty when it has none).
template <ad::Scalar T>
Twins<T> built_twins(const nn::Model<T>& model);

// The largest |F_twin(x) − F(x)| over all outputs.
template <ad::Scalar T>
double output_difference(const nn::Model<T>& a, const nn::Model<T>& b, const ad::Tensor<T>& x);

}  // namespace integrad::attr
