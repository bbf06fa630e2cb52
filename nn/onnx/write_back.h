// A model read from ONNX, written back into the file it came from: the same graph, nodes and
// initializer names, with the values the model holds now (after `integrad train MODEL.onnx`).
// Initializers that torch's exporter merged because their values were equal (an Identity node
// reading another initializer) trained as the separate parameters they were, so each is written as
// its own initializer again, under the Identity's output name, and that Identity is dropped.
#pragma once

#include <string>

#include "nn/model.h"

namespace integrad::nn {

// Whether `model` was read from an ONNX file (its Model::origin names it).
template <ad::Scalar T>
bool read_from_onnx(const Model<T>& model) {
  return model.origin.count("onnx") != 0;
}

// The rewritten file's bytes, checked by onnx::checker. A trained parameter with no initializer to
// go to, or one the reader computed from several values rather than copied, is refused by name.
template <ad::Scalar T>
std::string onnx_written_back(const Model<T>& model);

}  // namespace integrad::nn
