// The report's section "Is the map faithful?": the methods × metrics table of `integrad evaluate`
// (attribution/evaluation/method_table.h) for the report's model on a few test images, and, given
// a model trained on synthetic-patches, for that one too, where the ground-truth masks of the
// patches let relevance mass and the pointing game check localisation. Each table comes with its
// deletion and insertion curves and a sentence per finding, written from the numbers.
#pragma once

#include <string>

#include "nn/model.h"

namespace integrad::cli {

// `x`: the report model's test images; `data_name` names their set in the text; `patches_model`:
// a model trained on synthetic-patches, or "" to leave that table out.
template <ad::Scalar T>
std::string evaluation_section(const nn::Model<T>& model, const ad::Tensor<T>& x, const std::string& data_name, const std::string& patches_model);

}  // namespace integrad::cli
