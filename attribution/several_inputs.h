// Explaining a model of several named inputs with the methods written for one (docs/inputs.md).
//
// The methods stay as they are: for the inputs being explained (--attribute-to, alibi's
// attribution to some inputs with the others as forward_kwargs) an adapter model reads one input,
// those inputs packed flat side by side [N, D], unpacks it in its first nodes and feeds the other
// inputs as constants, the example's own values repeated along whatever batch a method makes of
// path points, noisy or perturbed copies. The methods explain the adapter; the attributions are
// unpacked per input at the end. When every input is explained the adapter holds no constants and
// all examples go through one call; otherwise one call per example, whose held inputs are its own.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "attribution/method.h"

namespace integrad::attr {

// Arrays by name, e.g. the inputs of a model ([N, ...that input's shape]) or their attributions.
template <ad::Scalar T>
using NamedTensors = std::vector<std::pair<std::string, ad::Tensor<T>>>;

template <ad::Scalar T>
struct InputsAttribution {
  // Values [N, D] for the explained inputs packed flat in the model's input order (or the layer's
  // output, for a layer method), with targets, F(x), F(x′) and deltas as one method call gives
  // them: the delta is Σ over all explained inputs − (F(x) − F(x′)).
  Attribution<T> packed;
  // One array per explained input, in its own shape [N, ...]; a layer method: one array named by
  // the layer.
  NamedTensors<T> values;
};

// The model's inputs in its order, each checked: a missing or unknown name, a wrong shape or
// number of examples is an error naming the input and `where` (the file).
template <ad::Scalar T>
std::vector<ad::Tensor<T>> inputs_in_order(const nn::Model<T>& model, const NamedTensors<T>& inputs, const std::string& where);

// The inputs --attribute-to names (empty: every floating-point input), as indices in model order;
// an unknown name is refused, naming it and the model's inputs.
template <ad::Scalar T>
std::vector<size_t> explained_inputs(const nn::Model<T>& model, const std::vector<std::string>& attribute_to);

// `baselines` by explained input's name (absent: zero); each one's tensor one example's shape or [N, ...].
template <ad::Scalar T>
InputsAttribution<T> explain_inputs(const Method<T>& method, const nn::Model<T>& model, const NamedTensors<T>& inputs,
                                    const std::vector<std::string>& attribute_to, const std::map<std::string, Baseline<T>>& baselines,
                                    const Target<T>& target, const Options& options, const std::function<void(double)>& progress = {});

}  // namespace integrad::attr
