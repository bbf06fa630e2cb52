// What the perturbation methods (occlusion, ablation, shapley, kernelshap) share: the feature groups
// from --feature-mask, and a forward-only evaluation of many perturbed copies of one example.
// "Removing" a feature sets it to the baseline (interfaces.md, "Perturbation and Shapley methods").
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "attribution/method.h"

namespace integrad::attr {

// The shared option --feature-mask (a path to an int64 .npy).
OptionSpec feature_mask_option();

// Per example, its groups in ascending id order, each as the flat offsets (within one example's row)
// of its features. Without --feature-mask every scalar is its own group. The mask has one example's
// shape (shared by all) or the inputs' [N, ...]; ids are any int64, in any order, not necessarily
// contiguous. A mask of another shape is refused, naming the file.
using Groups = std::vector<std::vector<int64_t>>;
// The inputs are rows [first, first + N) of a set of `total` (0: N): a mask [total, ...] is read at those rows.
std::vector<Groups> feature_groups(const Options& options, const ad::Shape& inputs_shape, int64_t first = 0, int64_t total = 0);

// F_target of perturbed copies of example `example`: `count` copies, each starting as x[example]
// and changed by fill(k, row); evaluated forward-only, several per batch. `targets` are the
// resolved classes per example (empty for a function target).
template <ad::Scalar T>
std::vector<double> evaluate_perturbations(const MethodCall<T>& call, std::span<const int64_t> targets, int64_t example, int64_t count,
                                           const std::function<void(int64_t k, std::span<T> row)>& fill);

// Solves A φ = r in place (A k × k, row-major, e.g. normal equations) by Gaussian elimination with
// partial pivoting: φ is left in r; false if A is singular (a pivot below 1e-12 of the largest diagonal).
bool solve_linear(std::vector<double>& a, std::vector<double>& r, size_t k);

// The axiom matrix and the report run every method on every model: a perturbation method joins them
// where the model's examples have at most `limit` scalars (each its own group there). The dummy check
// appends one input, so a limit that a method enforces (shapley's 16 groups) needs room for it.
template <ad::Scalar T>
std::function<bool(const nn::Sequential<T>&)> at_most_features(int64_t limit) {
  return [limit](const nn::Sequential<T>& model) { return model.input_shape.numel() <= limit; };
}

// The call's targets resolved to one class per example (empty for a function target).
template <ad::Scalar T>
std::vector<int64_t> perturbation_targets(const MethodCall<T>& call);

}  // namespace integrad::attr
