// Guided Integrated Gradients (Kapishnikov et al. 2021), as PAIR saliency's GuidedIG computes it
// (saliency/core/guided_ig.py, guided_ig_impl). The path from the baseline x′ to the input x is
// chosen as it is walked: at each of `steps` steps the L1 distance to x must shrink by
// ‖x − x′‖₁ / steps, and it is the features with the smallest |∂F/∂x| (a `fraction` of them, by
// NumPy's quantile with interpolation "lower") that move toward x, as far as the bound allows:
// no feature may be more than `max_dist` (as a fraction of its own x − x′) ahead of the straight
// path, and features that fall more than max_dist behind are pulled up to it. The gradient is
// taken once per step, at the step's start; each move adds (x_new − x_old) · ∂F/∂x. max_dist 0
// keeps every feature on the straight path (IG with a left Riemann sum of `steps` steps); 1 lets
// the path go anywhere in the box between x′ and x.
// Where PAIR would stop with an assertion (the pull-up overshoots the step's L1 target) or loop
// forever (every feature at its bound and the target not reached), the step ends there instead.
// State and sums are float64 whatever T, as PAIR converts to float64.
#pragma once

#include "attribution/target.h"

namespace integrad::attr {

struct GuidedIgOptions {
  int steps = 200;
  double fraction = 0.25;
  double max_dist = 0.02;
};

// Guided IG of x [N, ...] from baseline [N, ...] for the target (resolved per example beforehand
// where it is a class). Every step evaluates the N examples' current points in one pass.
template <ad::Scalar T>
ad::Tensor<T> guided_integrated_gradients(const Forward<T>& f, const ad::Tensor<T>& x, const ad::Tensor<T>& baseline, const Target<T>& target,
                                          std::span<const int64_t> targets, const GuidedIgOptions& options);

}  // namespace integrad::attr
