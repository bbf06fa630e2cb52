// The layer registry: one entry per layer kind, saying how model files name it (PyTorch's class
// name and argument order), how to build it from its arguments, how PyTorch initialises it and how
// it is written to ONNX. The architecture parser, initialisation, `integrad info` and `integrad
// export` read it, so adding a layer kind is one header (the layer's struct and its
// `*_layer_type<T>()`) and one line in nn/layers_builtin.cpp, plus its ONNX exporter in
// nn/onnx/export_*.cpp. The parameters' names (the state_dict keys) and the output shape are the
// layer's own; the code that looks inside a model knows a kind by its class (nn/layer.h layer_if).
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "autodiff/rng.h"
#include "nn/layer.h"
#include "nn/layer_args.h"

namespace integrad::nn {

namespace onnx_export {
template <ad::Scalar T>
class Emitter;  // nn/onnx/export_emitter.h
}  // namespace onnx_export

// Writes a layer's ONNX nodes through the Emitter, given the names of the values it reads, and
// returns the name of the value it computed. It computes what the layer's forward computes in
// evaluation mode (BatchNorm with its running statistics, Dropout as the identity). Defined in
// nn/onnx/export_*.cpp (the only code that sees ONNX's protobuf classes) and declared beside the
// layer, whose `*_layer_type<T>()` names it.
template <ad::Scalar T>
using OnnxExporter = std::string (*)(onnx_export::Emitter<T>& e, const Layer<T>& layer, std::span<const std::string> inputs);

template <ad::Scalar T>
struct LayerType {
  std::string name;                    // PyTorch's class name, as model files write it
  std::vector<std::string> arguments;  // PyTorch's parameter names, in positional order
  // Checks the arguments (sizes against the limits of nn/layer_args.h) and builds the layer with
  // its parameters zero.
  std::function<std::unique_ptr<Layer<T>>(const LayerArgs&)> make;
  // PyTorch's default initialisation from our generator (same distributions, not the same stream);
  // empty for a layer without parameters or random state.
  std::function<void(Layer<T>&, ad::Rng&)> init = {};
  // `integrad export`; null for a kind that cannot be written to ONNX (export refuses it by name).
  OnnxExporter<T> onnx = nullptr;
};

// Every registered layer kind (nn/layers_builtin.cpp), in order.
template <ad::Scalar T>
const std::vector<LayerType<T>>& layer_types();
// The entry named `name`; throws listing the known ones.
template <ad::Scalar T>
const LayerType<T>& layer_type(std::string_view name);
// The entry named `name`, or nullptr (a layer that is not in the registry, as the adapters of
// attribution/several_inputs.cpp).
template <ad::Scalar T>
const LayerType<T>* find_layer_type(std::string_view name);

// U(−bound, bound) for every value: PyTorch's kaiming_uniform(a=√5) and bias initialisation.
template <ad::Scalar T>
void fill_uniform(ad::Tensor<T>& t, ad::Rng& rng, double bound) {
  for (T& v : t.span()) v = static_cast<T>(rng.uniform(-bound, bound));
}

}  // namespace integrad::nn
