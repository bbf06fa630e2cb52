// The report's sections on the two shortcut data sets (docs/datasets.md): a model trained on
// synthetic-watermark (`report --watermark-model`) and one trained on synthetic-loan
// (`report --loan-model`), each measured against the set's ground truth.
#pragma once

#include <string>

namespace integrad::cli {

// Accuracy on the training split (where the watermark agrees with the label) and on the test split
// (where it is random), and IG's relevance mass on the watermark and on the object.
std::string watermark_section(const std::string& model_path, int steps);

// Exact Shapley values from the training mean: each feature's share of the mean |attribution|
// (zip_code is the proxy), and the decisions that flip when only the zip code moves.
std::string loan_section(const std::string& model_path);

}  // namespace integrad::cli
