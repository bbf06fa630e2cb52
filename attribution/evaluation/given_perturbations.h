// The random metrics scored from given perturbations. Each metric draws its own perturbations
// (from --seed + example index) and calls these; a test or a reference written in another language
// can supply the very same perturbations and compare the numbers exactly.
#pragma once

#include <cstdint>
#include <vector>

#include "attribution/metric.h"

namespace integrad::attr {

// Faithfulness correlation of one example: x, a, base are one example each ([1, ...], the
// inputs' shape with a batch of one), `subsets` the flat indices set to the baseline in each run. Pearson
// correlation over the runs between Σ_{j∈S} a_j and F(x) − F(x with S set to the baseline), F the
// class's output (logit). NaN when either list is constant.
template <ad::Scalar T>
double faithfulness_correlation_given(const nn::Model<T>& model, const ad::Tensor<T>& x, const ad::Tensor<T>& a, const ad::Tensor<T>& base, int64_t cls,
                                      const std::vector<std::vector<int64_t>>& subsets);

// Infidelity of one example ([1, ...] each) from given perturbations I [S, ...]: the mean over s of
// (Σ a·I_s − (F(x) − F(x − I_s)))², F the class's output.
template <ad::Scalar T>
double infidelity_given(const nn::Model<T>& model, const ad::Tensor<T>& x, const ad::Tensor<T>& a, int64_t cls, const ad::Tensor<T>& perturbations);

// Max-sensitivity of one example ([1, ...] each) from given noise U [S, ...]: the largest
// ‖Φ(x + U_s) − a‖ / ‖a‖, Φ the method run with `options` for class `cls`; `baseline` is what the
// method gets for the S perturbed rows.
template <ad::Scalar T>
double sensitivity_max_given(const Method<T>& method, const Options& options, const nn::Model<T>& model, const ad::Tensor<T>& x, const ad::Tensor<T>& a,
                             const Baseline<T>& baseline, int64_t cls, const ad::Tensor<T>& noise);

// Randomisation from a given re-initialised model: per example, the Spearman correlation of a
// (|a| unless is_signed) with the method's map of `random` for the given classes.
template <ad::Scalar T>
std::vector<double> randomisation_given(const Method<T>& method, const nn::Model<T>& random, const ad::Tensor<T>& inputs, const ad::Tensor<T>& attributions,
                                        const Baseline<T>& baseline, const std::vector<int64_t>& classes, bool is_signed);

// Pearson correlation of two lists; NaN when either is constant (as scipy.stats.pearsonr).
double pearson(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace integrad::attr
