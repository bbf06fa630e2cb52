// Constant, Identity and Dropout (evaluation: the identity), Cast, Shape, ConstantOfShape.
#include <fmt/format.h>

#include <filesystem>

#include "nn/onnx/converters.h"
#include "nn/onnx/shape_folding.h"

namespace integrad::nn::onnx_in {

void convert_constant(Builder& b, const onnx::NodeProto& node) {
  const auto* a = b.attribute(node, "value");
  if (!a || a->type() != onnx::AttributeProto::TENSOR || node.attribute_size() != 1) b.fail(node, "needs exactly a 'value' tensor attribute");
  b.set_output(node, tensor_value(a->t(), b.path(), std::filesystem::path(b.path()).parent_path().string()));
}

void convert_identity(Builder& b, const onnx::NodeProto& node) {
  // Dropout in evaluation passes its input on; its optional mask output is refused (never read).
  if (node.op_type() == "Dropout" && node.output_size() > 1 && !node.output(1).empty()) b.fail(node, "has a mask output, which integrad does not produce");
  Value v = b.input(node, 0);
  if (v.runtime() && b.has_input(node, 0)) v.initializer.clear();
  // An Identity reading an initializer (torch's exporter merges equal initializers that way) is a
  // constant of its own name: it may train apart from the one it copies.
  if (v.constant() && !v.initializer.empty()) v.initializer = node.output(0);
  b.set_output(node, v);
}

void convert_cast(Builder& b, const onnx::NodeProto& node) {
  const int64_t to = b.attr_int(node, "to", -1);
  const bool to_int = to == onnx::TensorProto::INT64 || to == onnx::TensorProto::INT32;
  const bool to_real = to == onnx::TensorProto::FLOAT || to == onnx::TensorProto::DOUBLE;
  if (!to_int && !to_real) b.fail(node, fmt::format("casts to type {}; integrad casts to float, double, int32 and int64", to));
  Value v = b.input(node, 0);
  if (v.runtime()) {
    if (v.integer != to_int) b.fail(node, "casts a computed value between integer and real, which would cut its gradient");
  } else if (v.constant() && v.integer && to_real && v.fixed_shape()) {
    for (Sym s : v.ints) {
      if (!s.fixed()) b.fail(node, "casts the batch size to a real number");
      v.real.push_back(static_cast<double>(s.c));
    }
    v.ints.clear();
    v.integer = false;
  } else if (v.constant() && !v.integer && to_int) {
    for (double r : v.real) v.ints.push_back({0, static_cast<int64_t>(r)});
    v.real.clear();
    v.integer = true;
  }
  v.initializer.clear();
  b.set_output(node, v);
}

void convert_shape(Builder& b, const onnx::NodeProto& node) {
  const Value& x = b.input(node, 0);
  b.set_output(node, shape_of(x, b.attr_int(node, "start", 0), b.attr_int(node, "end", static_cast<int64_t>(x.shape.size()))));
}

void convert_constant_of_shape(Builder& b, const onnx::NodeProto& node) {
  const Value& shape = b.constant_input(node, 0);
  if (!shape.integer || shape.shape.size() != 1) b.fail(node, "needs a 1-D integer shape");
  double fill = 0;
  bool integer = false;
  if (const auto* a = b.attribute(node, "value")) {
    const Value f = tensor_value(a->t(), b.path(), "");
    if (f.count() != 1) b.fail(node, "needs a one-element 'value'");
    integer = f.integer;
    fill = f.integer ? static_cast<double>(f.ints[0].c) : f.real[0];
  }
  Value v;
  v.shape = shape.ints;
  v.integer = integer;
  for (Sym s : v.shape)
    if (s.fixed() && (s.c < 0 || s.c > (int64_t(1) << 24))) b.fail(node, fmt::format("asks for a dimension of {}", s.c));
  if (!v.fixed_shape()) {  // depends on the batch: a fill, which only a recurrent state may read
    v.kind = Value::Kind::fill;
    v.fill = fill;
    b.set_output(node, v);
    return;
  }
  if (v.count() > (int64_t(1) << 26)) b.fail(node, "asks for more than 2^26 values");
  for (int64_t i = 0; i < v.count(); ++i) {
    if (integer) v.ints.push_back({0, static_cast<int64_t>(fill)});
    else v.real.push_back(fill);
  }
  b.set_output(node, v);
}

}  // namespace integrad::nn::onnx_in
