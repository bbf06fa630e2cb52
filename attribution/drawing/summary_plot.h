// SHAP-style summary plots of a tabular model's attributions, as SVG text: a bar chart of the mean
// |attribution| per feature, and a beeswarm (one row per feature, a dot per example at its
// attribution, coloured by the feature's value from blue (low) to red (high)). A feature's role,
// when known (e.g. "dummy"), is written beside its name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace integrad::attr {

struct SummaryFeature {
  std::string name;
  std::string role;  // "" when unknown
};

// mean_abs[j] per feature, in the given order (the caller sorts).
std::string mean_abs_bar_svg(const std::vector<SummaryFeature>& features, const std::vector<double>& mean_abs, const std::string& title);

// attributions and values are row-major [n, features.size()]; rows in the features' order.
std::string beeswarm_svg(const std::vector<SummaryFeature>& features, const std::vector<double>& attributions, const std::vector<double>& values, int64_t n,
                         const std::string& title);

}  // namespace integrad::attr
