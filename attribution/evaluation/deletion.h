// Deletion and insertion curves (Petsiuk et al. 2018, RISE): the features sorted by attribution,
// descending (ties: lower flat index first); for k = 0..K the top round(k·D/K) are set to the
// baseline (deletion) or put back into the baseline (insertion), and p_k is the target's softmax
// probability. The metrics `deletion` and `insertion` score the trapezoid area under (k/K, p_k);
// the curves themselves are here for plots.
#pragma once

#include <vector>

#include "attribution/metric.h"

namespace integrad::attr {

enum class CurveKind { deletion, insertion };

// p_0 .. p_K for each example (K = steps), the K + 1 copies per example built and run in passes
// of at most batch_size rows (the same numbers whatever the pass).
// The attributions must have the inputs' shape; `classes` is the class scored per example.
template <ad::Scalar T>
std::vector<std::vector<double>> perturbation_curves(const nn::Model<T>& model, const ad::Tensor<T>& inputs, const ad::Tensor<T>& attributions,
                                                     const Baseline<T>& baseline, const std::vector<int64_t>& classes, int64_t steps, CurveKind kind,
                                                     int64_t batch_size = 512);

// The curves for a metric call (target resolved as the metrics resolve it, --steps read).
template <ad::Scalar T>
std::vector<std::vector<double>> perturbation_curves(const MetricCall<T>& c, CurveKind kind);

// The trapezoid area under (k/K, p_k), k = 0..K: Σ (p_{k−1} + p_k) / (2K).
double curve_area(const std::vector<double>& p);

}  // namespace integrad::attr
