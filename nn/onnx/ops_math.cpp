// MatMul (values or a constant right-hand side) and ReduceMean.
#include <fmt/format.h>

#include "nn/onnx/converters.h"
#include "nn/onnx/layers_tensor.h"
#include "nn/onnx/shape_folding.h"

namespace integrad::nn::onnx_in {

void convert_matmul(Builder& b, const onnx::NodeProto& node) {
  b.only_attributes(node, {});
  const Value &x = b.input(node, 0), &y = b.input(node, 1);
  if (x.integer || y.integer) b.fail(node, "multiplies integers");
  if (x.shape.size() < 2 || y.shape.size() < 2) b.fail(node, "needs operands of at least 2 dimensions");
  if (!(x.shape.back() == y.shape[y.shape.size() - 2])) b.fail(node, fmt::format("cannot multiply {} by {}", onnx_text::syms_text(x.shape), onnx_text::syms_text(y.shape)));
  if (!(y.shape.size() == 2 || y.shape.size() == x.shape.size())) b.fail(node, "broadcasts leading dimensions, which integrad does not");
  std::vector<Sym> shape = x.shape;
  shape.back() = y.shape.back();
  b.set_output(node, b.add_onnx_layer(node, std::make_unique<OnnxMatMul<double>>(), {&x, &y}, shape));
}

void convert_reduce_mean(Builder& b, const onnx::NodeProto& node) {
  b.only_attributes(node, {"axes", "keepdims"});
  const Value& x = b.runtime_input(node, 0);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  std::vector<int64_t> axes = b.attr_ints(node, "axes");
  if (axes.empty()) b.fail(node, "averages over every axis, the batch included");
  for (int64_t& a : axes) {
    a = normalise_axis(a, rank, "axis");
    if (!x.shape[a].fixed()) b.fail(node, "averages over the batch");
  }
  std::sort(axes.begin(), axes.end());
  auto layer = std::make_unique<OnnxReduceMean<double>>();
  layer->axes = axes;
  layer->keepdims = b.attr_int(node, "keepdims", 1) != 0;
  std::vector<Sym> shape;
  for (int64_t d = 0; d < rank; ++d) {
    const bool reduced = std::find(axes.begin(), axes.end(), d) != axes.end();
    if (!reduced) shape.push_back(x.shape[d]);
    else if (layer->keepdims) shape.push_back({0, 1});
  }
  b.set_output(node, b.add_onnx_layer(node, std::move(layer), {&x}, shape));
}

}  // namespace integrad::nn::onnx_in
