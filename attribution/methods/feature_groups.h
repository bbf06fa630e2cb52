// What the perturbation methods (occlusion, ablation, shapley, kernelshap) share: the feature groups
// from --feature-mask, and a forward-only evaluation of many perturbed copies of one example.
// "Removing" a feature sets it to the baseline (interfaces.md, "Perturbation and Shapley methods").
#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <span>
#include <vector>

#include "attribution/method.h"

namespace integrad::attr {

// The shared options --feature-mask (a path to an int64 .npy) and --patch K (K×K superpixels).
std::vector<OptionSpec> mask_options();

// The shared options --samples N (default, help, at most max) and --seed K (the seed of `sampler`).
std::vector<OptionSpec> sampling_options(const std::string& default_samples, const std::string& samples_help, double max_samples,
                                         const std::string& sampler);

// Option lists one after the other.
std::vector<OptionSpec> join(std::initializer_list<std::vector<OptionSpec>> lists);

// Per example, its groups in ascending id order, each as the flat offsets (within one example's row)
// of its features. Without --feature-mask every scalar is its own group. The mask has one example's
// shape (shared by all) or the inputs' [N, ...]; ids are any int64, in any order, not necessarily
// contiguous. A mask of another shape is refused, naming the file. --patch K (not with
// --feature-mask) groups an image's [..., H, W] into K×K squares from the top left, shared by the
// leading dims (channels); the patches at the right and bottom edges are smaller where K does not
// divide W or H.
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
std::function<bool(const nn::Model<T>&)> at_most_features(int64_t limit) {
  return [limit](const nn::Model<T>& model) { return model.input_shape.numel() <= limit; };
}

// The call's targets resolved to one class per example (empty for a function target).
template <ad::Scalar T>
std::vector<int64_t> perturbation_targets(const MethodCall<T>& call);

// What every perturbation method starts with: the groups per example, the baseline of the inputs'
// shape, the targets resolved, and the number of scalars in one example.
template <ad::Scalar T>
struct Perturbation {
  std::vector<Groups> groups;
  ad::Tensor<T> base;
  std::vector<int64_t> targets;
  int64_t row = 0;
};
template <ad::Scalar T>
Perturbation<T> perturbation_setup(const MethodCall<T>& call);

// Completeness counts each group once: where a group has several elements (all carrying its value),
// sets a's F(x), F(x′) and deltas Σ_groups φ_g − (F(x) − F(x′)); with a scalar per group it leaves
// them to explain (the sum over the elements is the same thing).
template <ad::Scalar T>
void set_group_deltas(Attribution<T>& a, const MethodCall<T>& call, const Perturbation<T>& p);

}  // namespace integrad::attr
