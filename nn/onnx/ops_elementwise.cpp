// Add, Sub, Mul, Div, Pow (NumPy broadcasting; a constant operand held by the layer), Sqrt, Erf,
// and Relu, Sigmoid, Tanh as integrad's own activation layers.
#include <fmt/format.h>

#include "nn/layers_activation.h"
#include "nn/layers_merge.h"
#include "nn/onnx/converters.h"
#include "nn/onnx/layers_elementwise.h"
#include "nn/onnx/shape_folding.h"

namespace integrad::nn::onnx_in {
namespace {

// NumPy broadcasting of two full shapes.
std::vector<Sym> broadcast(const Builder& b, const onnx::NodeProto& node, const std::vector<Sym>& x, const std::vector<Sym>& y) {
  const size_t rank = std::max(x.size(), y.size());
  std::vector<Sym> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const Sym one{0, 1};
    const Sym dx = i + x.size() >= rank ? x[i + x.size() - rank] : one, dy = i + y.size() >= rank ? y[i + y.size() - rank] : one;
    if (dx == dy || dy == one) out[i] = dx;
    else if (dx == one) out[i] = dy;
    else b.fail(node, fmt::format("cannot broadcast {} with {}", onnx_text::syms_text(x), onnx_text::syms_text(y)));
  }
  return out;
}

}  // namespace

void convert_binary(Builder& b, const onnx::NodeProto& node) {
  b.only_attributes(node, {});
  const Value &x = b.input(node, 0), &y = b.input(node, 1);
  const std::string& op = node.op_type();
  if (x.constant() && y.constant() && x.integer && y.integer && op != "Pow") {
    b.set_output(node, int_arithmetic(op, x, y));
    return;
  }
  if (x.integer || y.integer) b.fail(node, "mixes integer and real values");
  if (op == "Pow" && !(y.constant() && y.count() == 1)) b.fail(node, "has an exponent that is not a constant scalar");
  // A residual sum of two computed values of one shape, the batch first: integrad's Add, which the
  // methods that look inside a model (exact IG, LRP's Norm rule) know.
  if (op == "Add" && x.runtime() && y.runtime() && x.shape == y.shape && !x.shape.empty() && x.shape[0] == Sym{1, 0}) {
    b.set_output(node, b.add_layer(node, std::make_unique<Add<double>>(), {x.node, y.node}, x.shape));
    return;
  }
  auto layer = std::make_unique<OnnxBinary<double>>();
  layer->op = op;
  b.set_output(node, b.add_onnx_layer(node, std::move(layer), {&x, &y}, broadcast(b, node, x.shape, y.shape)));
}

void convert_unary(Builder& b, const onnx::NodeProto& node) {
  b.only_attributes(node, {});
  const Value& x = b.input(node, 0);
  if (x.integer) b.fail(node, "reads integers");
  auto layer = std::make_unique<OnnxUnary<double>>();
  layer->op = node.op_type();
  b.set_output(node, b.add_onnx_layer(node, std::move(layer), {&x}, x.shape));
}

void convert_activation(Builder& b, const onnx::NodeProto& node) {
  b.only_attributes(node, {});
  const Value& x = b.runtime_input(node, 0);
  const Activation f = node.op_type() == "Relu" ? Activation::relu : node.op_type() == "Sigmoid" ? Activation::sigmoid : Activation::tanh;
  b.set_output(node, b.add_layer(node, make_activation<double>(f), {x.node}, x.shape));
}

}  // namespace integrad::nn::onnx_in
