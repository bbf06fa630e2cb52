// The architecture text of model files: layers separated by ';' or newlines, each written as in
// PyTorch — Name(positional, ..., key=value) — e.g. a chain (torch.nn.Sequential):
//   Conv2d(1, 16, 3, padding=1); ReLU(); MaxPool2d(2); Flatten(); Linear(3136, 10)
// A graph names its nodes and says what each reads when it is not the node before (docs/engine.md):
//   conv1 = Conv2d(1, 16, 3, padding=1); bn1 = BatchNorm2d(16); relu = ReLU()
//   layer1.0.conv1 = Conv2d(16, 16, 3, padding=1); ...; layer1.0.add = Add()(layer1.0.bn2, relu)
// where `input` is the model's input. A model of several inputs names them (ModelInput, stored in
// the file's metadata input_names) and its nodes read them by those names:
//   num.fc = Linear(5, 8)(num); cat.fc = Linear(3, 4)(cat); join = Concat(dim=1)(num.fc, cat.fc)
// An unnamed node is named by its index.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nn/model.h"

namespace integrad::nn {

// Builds the model with PyTorch's default initialisation drawn from `init_seed`, and checks that
// the shapes chain from input_shape through every layer.
template <ad::Scalar T>
Model<T> parse_architecture(std::string_view text, ad::Shape input_shape, InputDtype input_dtype, uint64_t init_seed);

// The same, for a model that reads several named inputs (or one with its own name), in order.
template <ad::Scalar T>
Model<T> parse_architecture(std::string_view text, const std::vector<ModelInput>& inputs, uint64_t init_seed);

inline constexpr std::string_view kInputName = "input";
// How the architecture text names input k: "input", or its own name.
template <ad::Scalar T>
std::string input_name(const Model<T>& model, size_t k);

// The text that parse_architecture reads back: a chain as "A(); B()" (the files of earlier
// versions, byte for byte), a graph as one named node per line.
template <ad::Scalar T>
std::string architecture_text(const Model<T>& model);

// One layer from its text, e.g. "Linear(784, 10)"; parameters zero.
template <ad::Scalar T>
std::unique_ptr<Layer<T>> parse_layer(std::string_view text);

}  // namespace integrad::nn
