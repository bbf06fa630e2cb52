// The report's section on a tabular model trained on synthetic-tabular (`report --tabular-model`).
#pragma once

#include <cstdint>
#include <string>

namespace integrad::cli {

// SHAP-style summaries of `model_path` on `examples` synthetic-tabular test examples (target:
// class 1, baseline 0, the features' mean): per method (IG, exact Shapley, KernelSHAP, Shapley
// sampling, LIME, feature ablation) a bar chart of the mean |attribution| per feature and a
// beeswarm, the features' ground-truth roles beside their names, and a table of the dummy's share
// and the duplicate's gap. A model trained on other features is refused, naming them.
std::string tabular_section(const std::string& model_path, int64_t examples = 200);

}  // namespace integrad::cli
