// ONNX's element-wise arithmetic as layers: OnnxBinary (Add, Sub, Mul, Div, Pow with NumPy
// broadcasting, each operand a value read or a constant) and OnnxUnary (Sqrt, Erf).
#pragma once

#include "nn/onnx/layer_base.h"

namespace integrad::nn {

template <ad::Scalar T>
struct OnnxBinary : OnnxLayer<T> {
  std::string op;  // Add, Sub, Mul, Div, Pow
  std::string kind() const override { return "OnnxBinary"; }
  std::string architecture() const override { return fmt::format("OnnxBinary({}, {})", op, this->common_text()); }
  ad::Var<T> compute(std::span<const ad::Var<T>> v) const override {
    if (op == "Add") return ad::add(v[0], v[1]);
    if (op == "Sub") return ad::sub(v[0], v[1]);
    if (op == "Mul") return ad::mul(v[0], v[1]);
    if (op == "Div") return ad::div(v[0], v[1]);
    // Pow: the reader only builds it with a constant scalar exponent.
    return ad::pow(v[0], v[1].value()[0]);
  }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<OnnxBinary>(*this); }
};

template <ad::Scalar T>
LayerType<T> onnx_binary_layer_type() {
  return {"OnnxBinary", OnnxLayer<T>::common_arguments({"op"}), [](const LayerArgs& a) -> std::unique_ptr<Layer<T>> {
            auto l = std::make_unique<OnnxBinary<T>>();
            l->op = a.word("op", "");
            if (l->op != "Add" && l->op != "Sub" && l->op != "Mul" && l->op != "Div" && l->op != "Pow") a.fail("'op' is one of Add, Sub, Mul, Div, Pow");
            l->parse_common(a);
            if (l->operands.size() != 2) a.fail("takes two operands");
            if (l->op == "Pow" && (l->operands[1] != 'c' || l->constants.back().value.numel() != 1)) a.fail("Pow needs a constant scalar exponent");
            return l;
          }};
}

template <ad::Scalar T>
struct OnnxUnary : OnnxLayer<T> {
  std::string op;  // Sqrt, Erf
  std::string kind() const override { return "OnnxUnary"; }
  std::string architecture() const override { return fmt::format("OnnxUnary({}, {})", op, this->common_text()); }
  ad::Var<T> compute(std::span<const ad::Var<T>> v) const override { return op == "Sqrt" ? ad::sqrt(v[0]) : ad::erf(v[0]); }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<OnnxUnary>(*this); }
};

template <ad::Scalar T>
LayerType<T> onnx_unary_layer_type() {
  return {"OnnxUnary", OnnxLayer<T>::common_arguments({"op"}), [](const LayerArgs& a) -> std::unique_ptr<Layer<T>> {
            auto l = std::make_unique<OnnxUnary<T>>();
            l->op = a.word("op", "");
            if (l->op != "Sqrt" && l->op != "Erf") a.fail("'op' is Sqrt or Erf");
            l->parse_common(a);
            if (l->operands != "r") a.fail("reads one value");
            return l;
          }};
}

}  // namespace integrad::nn
