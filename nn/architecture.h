// The architecture text of model files: layers separated by ';' or newlines, each written as in
// PyTorch — Name(positional, ..., key=value) — e.g.
//   Conv2d(1, 16, 3, padding=1); ReLU(); MaxPool2d(2); Flatten(); Linear(3136, 10)
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "nn/sequential.h"

namespace integrad::nn {

// Builds the model with PyTorch's default initialisation drawn from `init_seed`, and checks that
// the shapes chain from input_shape through every layer.
template <ad::Scalar T>
Sequential<T> parse_architecture(std::string_view text, ad::Shape input_shape, InputDtype input_dtype, uint64_t init_seed);

// One layer from its text, e.g. "Linear(784, 10)"; parameters zero.
template <ad::Scalar T>
std::unique_ptr<Layer<T>> parse_layer(std::string_view text);

}  // namespace integrad::nn
