// Models of several named inputs on the command line (docs/inputs.md): INPUT as an .npz whose
// arrays carry the inputs' names, --baseline per input, the attributions as an .npz.
#pragma once

#include <map>
#include <string>

#include "attribution/several_inputs.h"

namespace integrad::cli {

// Whether a command reads these inputs through the .npz path: a model of several inputs, or an .npz.
template <ad::Scalar T>
bool uses_named_inputs(const nn::Model<T>& model, const std::string& input_path);

// The arrays of an .npz as the model's inputs (checked by name and shape, the file named in errors);
// a one-input model takes its one array whatever its name.
template <ad::Scalar T>
attr::NamedTensors<T> load_named_inputs(const std::string& path, const nn::Model<T>& model);

// --baseline for the explained inputs: zero, a number (for each), an .npy (the one explained
// input's), or an .npz of arrays named by explained inputs (the others zero).
template <ad::Scalar T>
std::map<std::string, attr::Baseline<T>> parse_named_baselines(const std::string& text, const nn::Model<T>& model, const std::vector<size_t>& explained);

// For the commands that run one input (train, eval, report, attention, serve): a model of several
// inputs is refused, naming its inputs and the commands that take them.
template <ad::Scalar T>
void refuse_several_inputs(const nn::Model<T>& model, const std::string& path, const std::string& command);

// "num, cat" — the model's inputs for messages.
template <ad::Scalar T>
std::string input_list(const nn::Model<T>& model);

}  // namespace integrad::cli
