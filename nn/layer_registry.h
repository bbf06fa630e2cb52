// The layer registry: one entry per layer kind, saying how model files name it (PyTorch's class
// name and argument order), how to build it from its arguments, and how PyTorch initialises it. The
// architecture parser, initialisation and `integrad info` read it, so adding a layer kind is one
// header (the layer's struct and its `*_layer_type<T>()`) and one line in nn/layers_builtin.cpp.
// The parameters' names (the state_dict keys) and the output shape are the layer's own.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "autodiff/rng.h"
#include "nn/layer.h"
#include "nn/layer_args.h"

namespace integrad::nn {

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
};

// Every registered layer kind (nn/layers_builtin.cpp), in order.
template <ad::Scalar T>
const std::vector<LayerType<T>>& layer_types();
// The entry named `name`; throws listing the known ones.
template <ad::Scalar T>
const LayerType<T>& layer_type(std::string_view name);

// U(−bound, bound) for every value: PyTorch's kaiming_uniform(a=√5) and bias initialisation.
template <ad::Scalar T>
void fill_uniform(ad::Tensor<T>& t, ad::Rng& rng, double bound) {
  for (T& v : t.span()) v = static_cast<T>(rng.uniform(-bound, bound));
}

}  // namespace integrad::nn
