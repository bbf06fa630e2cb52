// What the ONNX layer kinds share (nn/onnx/layers_*.h): operations that integrad has no PyTorch
// layer for, each over whole tensors (the batch may sit at any axis, or be merged into one, as in
// an exported attention's [S, N·heads, d] view). An operand is a value the layer reads
// ("r") or a constant it holds ("c") — an ONNX initializer, kept as a Parameter so training could
// update it. The per-example output shape is the one the reader inferred when it folded the
// graph's shapes, written in the text (`out=`), since a layer that may move the batch cannot
// derive it from a per-example input shape.
#pragma once

#include <fmt/format.h>

#include <string>
#include <vector>

#include "nn/layer.h"
#include "nn/layer_registry.h"
#include "nn/onnx/layer_text.h"

namespace integrad::nn {

template <ad::Scalar T>
struct OnnxLayer : Layer<T> {
  std::string operands;               // per ONNX input, in order: 'r' read, 'c' constant
  std::vector<Parameter<T>> constants;  // the 'c' operands, in order
  ad::Shape out;                      // per example

  void set_constant_shapes(const std::vector<ad::Shape>& shapes) {
    constants.clear();
    for (size_t i = 0; i < shapes.size(); ++i) constants.push_back({fmt::format("c{}", i), ad::Tensor<T>(shapes[i]), ad::Tensor<T>(shapes[i])});
  }
  // The common arguments: "operands=r c, constants=8x1x1, out=8 4 4".
  std::string common_text() const {
    std::vector<std::string> shapes;
    for (const Parameter<T>& p : constants) shapes.push_back(onnx_text::shape_text(p.value.shape()));
    std::string ops;
    for (char c : operands) ops += ops.empty() ? std::string(1, c) : std::string(" ") + c;
    return fmt::format("operands={}, constants={}, out={}", ops, shapes.empty() ? "-" : fmt::format("{}", fmt::join(shapes, " ")),
                       onnx_text::shape_text(out));
  }
  void parse_common(const LayerArgs& a) {
    operands.clear();
    for (const std::string& w : onnx_text::words(a.word("operands", "r"))) {
      if (w != "r" && w != "c") a.fail("'operands' lists r (a value read) or c (a constant)");
      operands += w;
    }
    std::vector<ad::Shape> shapes;
    const std::string cs = a.word("constants", "-");
    if (cs != "-")
      for (const std::string& w : onnx_text::words(cs)) shapes.push_back(onnx_text::parse_shape(a, w));
    if (static_cast<size_t>(std::count(operands.begin(), operands.end(), 'c')) != shapes.size()) a.fail("'constants' needs one shape per constant operand");
    int64_t total = 0;
    for (const ad::Shape& s : shapes) total += s.numel();
    if (total > kMaxLayerParameters) a.fail("more than 2^26 constant values");
    set_constant_shapes(shapes);
    out = onnx_text::parse_shape(a, a.word("out", "s"));
  }
  static std::vector<std::string> common_arguments(std::vector<std::string> own) {
    own.insert(own.end(), {"operands", "constants", "out"});
    return own;
  }

  size_t arity() const override { return static_cast<size_t>(std::count(operands.begin(), operands.end(), 'r')); }
  // The operands in ONNX order: the values read and the constants on the tape.
  std::vector<ad::Var<T>> gather(ad::Tape<T>& tape, std::span<const ad::Var<T>> xs, Grads grads) const {
    std::vector<ad::Var<T>> v;
    size_t r = 0, c = 0;
    for (char k : operands) v.push_back(k == 'r' ? xs[r++] : on_tape(tape, constants[c++], grads));
    return v;
  }
  virtual ad::Var<T> compute(std::span<const ad::Var<T>> operand_values) const = 0;
  ad::Var<T> forward(ad::Tape<T>& tape, ad::Var<T> x, Grads grads) const override { return forward(tape, std::span<const ad::Var<T>>(&x, 1), grads); }
  ad::Var<T> forward(ad::Tape<T>& tape, std::span<const ad::Var<T>> xs, Grads grads) const override {
    const std::vector<ad::Var<T>> v = gather(tape, xs, grads);
    return compute(v);
  }
  ad::Shape output_shape(const ad::Shape&) const override { return out; }
  ad::Shape output_shape(std::span<const ad::Shape>) const override { return out; }
  std::vector<Parameter<T>*> parameters() override {
    std::vector<Parameter<T>*> p;
    for (Parameter<T>& c : constants) p.push_back(&c);
    return p;
  }
};

// The batch size of a value, from the axis and multiple the reader found it at (axis < 0: the value
// does not depend on the batch).
inline int64_t batch_of(const ad::Shape& s, int axis, int64_t multiple) {
  if (axis < 0 || axis >= s.rank() || multiple <= 0) return 1;
  return s[axis] / multiple;
}

}  // namespace integrad::nn
