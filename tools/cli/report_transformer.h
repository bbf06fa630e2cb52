// The report's sections on models of synthetic-order. The transformer's (`--transformer-model M`):
// accuracy, the tokens coloured by layer IG, attention, rollout, attention × gradient, token
// occlusion and KernelSHAP side by side with the attention maps, and relevance mass and the
// pointing game of each on the decisive tokens, with a sentence per finding. The recurrent net's
// (`--recurrent-model M`, an LSTM or GRU): the same without the attention rows and maps.
#pragma once

#include <string>

namespace integrad::cli {

// The section's HTML for the model file at `model_path` (trained on synthetic-order).
std::string transformer_section(const std::string& model_path, int steps);
std::string recurrent_section(const std::string& model_path, int steps);

}  // namespace integrad::cli
