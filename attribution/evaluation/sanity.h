// Sanity checks for saliency methods (Adebayo et al. 2018): randomize the model's weights and
// see whether the attributions notice. Cascading: re-initialise layers from the top down, one more
// each time; independent: one layer at a time. The figure is the Spearman rank correlation between
// the trained and the randomized model's attributions (of |A| and of A): a method that explains
// the model should drop towards 0; one that mostly reflects the input stays high.
#pragma once

#include <string>
#include <vector>

#include "attribution/evaluation/axioms.h"

namespace integrad::attr {

struct SanityPoint {
  std::string method;
  std::string mode;  // "cascading" or "independent"
  size_t layer;      // the layer randomized (cascading: the lowest randomized so far)
  double spearman_abs, spearman_signed;
};

template <ad::Scalar T>
std::vector<SanityPoint> sanity_checks(const nn::Model<T>& model, const std::vector<NamedMethod<T>>& methods, const ad::Tensor<T>& x,
                                       const ad::Tensor<T>& baseline, uint64_t seed = 1);

double spearman(std::span<const double> a, std::span<const double> b);

// The model with every layer that has parameters re-initialised, from the top down with one
// generator of `seed` (the last step of sanity_checks' cascade).
template <ad::Scalar T>
nn::Model<T> randomized_model(const nn::Model<T>& model, uint64_t seed);


}  // namespace integrad::attr
