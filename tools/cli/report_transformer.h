// The report's transformer section (`integrad report --transformer-model M`): accuracy on
// synthetic-order, the tokens coloured by layer IG, attention, rollout, attention × gradient,
// token occlusion and KernelSHAP side by side with the attention maps, and relevance mass and the
// pointing game of each on the decisive tokens, with a sentence per finding.
#pragma once

#include <string>

namespace integrad::cli {

// The --transformer-model option's value (empty: no section).
std::string& transformer_model_option();

// The section's HTML, or "" when --transformer-model was not given. `output` is the report's path.
std::string transformer_section(const std::string& output, int steps);

}  // namespace integrad::cli
