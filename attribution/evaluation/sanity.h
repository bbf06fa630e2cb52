// Sanity checks for saliency methods (Adebayo et al. 2018): randomize the model's weights and
// see whether the attributions notice. Cascading: re-initialise layers from the top down, one more
// each time; independent: one layer at a time. The figure is the Spearman rank correlation between
// the trained and the randomized model's map of the same example (of |A| and of A), averaged over
// the examples, as the paper does per image: a method that explains the model should drop towards
// 0; one that mostly reflects the input stays high.
//
// Per example, not over the batch pooled: pooled, the ranks compare examples with each other, and
// a map that is constant per example (Grad-CAM at a 1×1 layer) scored 0.9 on two images by ordering
// the two constants. An example whose trained map is constant (Grad-CAM clipped to 0 everywhere)
// has no ranks to keep: it is left out, and a method with no such example left gets NaN.
#pragma once

#include <string>
#include <vector>

#include "attribution/evaluation/axioms.h"

namespace integrad::attr {

struct SanityPoint {
  std::string method;
  std::string mode;  // "cascading" or "independent"
  size_t layer;      // the layer randomized (cascading: the lowest randomized so far)
  double spearman_abs, spearman_signed;  // means over `examples`; NaN if there are none
  int64_t examples;  // the examples whose trained map is not constant
};

template <ad::Scalar T>
std::vector<SanityPoint> sanity_checks(const nn::Model<T>& model, const std::vector<NamedMethod<T>>& methods, const ad::Tensor<T>& x,
                                       const ad::Tensor<T>& baseline, uint64_t seed = 1);

// Spearman's rank correlation (ties share their mean rank, as scipy's spearmanr); 0 where either
// side is constant.
double spearman(std::span<const double> a, std::span<const double> b);

// The mean over examples of the Spearman correlation between `trained` [N, ...] and `randomized`
// [N, ...], row by row, of |A| (`absolute`) or of A, skipping rows where `trained` is constant;
// NaN if every row is. `counted`, if given, receives how many rows were averaged.
template <ad::Scalar T>
double mean_spearman(const ad::Tensor<T>& trained, const ad::Tensor<T>& randomized, bool absolute, int64_t* counted = nullptr);

// The model with every layer that has parameters re-initialised, from the top down with one
// generator of `seed` (the last step of sanity_checks' cascade).
template <ad::Scalar T>
nn::Model<T> randomized_model(const nn::Model<T>& model, uint64_t seed);

}  // namespace integrad::attr
