// The ONNX reader's working state (nn/onnx/read.cpp): what each tensor name of the graph is while
// the nodes are converted one by one, and the model being built. A value is either computed at
// run time by a node of the model (it depends on the input), or known now: a constant (an
// initializer, a Constant node, or shape arithmetic folded at load time, where a dimension may be
// the batch N), or a fill (ConstantOfShape of a shape that holds N: an LSTM's zero state).
#pragma once

#include <onnx/onnx_pb.h>  // defines ONNX_API, then includes onnx-ml.pb.h (ONNX_ML=1)

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nn/model.h"
#include "nn/onnx/layer_base.h"

namespace integrad::nn::onnx_in {

using onnx_text::Sym;

struct Value {
  enum class Kind { runtime, constant, fill };
  Kind kind = Kind::constant;
  int node = -2;            // runtime: the model's node (Model::kModelInput for the input)
  std::vector<Sym> shape;   // full shape, batch included
  bool integer = false;     // int64 data (token ids, shape arithmetic)
  std::vector<double> real; // constant: the values, row-major
  std::vector<Sym> ints;    // constant integer: the values, which may hold N
  std::string initializer;  // the initializer this constant is, if any
  double fill = 0;          // fill: the value everywhere

  bool runtime() const { return kind == Kind::runtime; }
  bool constant() const { return kind == Kind::constant; }
  bool fixed_shape() const;
  std::vector<int64_t> dims() const;  // the shape of a constant (fixed)
  int64_t count() const;
  // The integer values of a constant, each fixed (no N): axes, perm, slice bounds.
  std::vector<int64_t> fixed_ints(const std::string& what) const;
};

// The per-example shape of a value of full shape `s`: the batch axis left out where it is exactly
// N, other dimensions taken at N = 1.
ad::Shape example_shape(const std::vector<Sym>& s);
std::vector<Sym> fixed_syms(const std::vector<int64_t>& dims);

class Builder {
 public:
  Builder(std::string path, int opset) : path_(std::move(path)), opset_(opset) {}

  Model<double> model;
  // Each parameter's initializer name (model parameter name → initializer), and the aliases
  // that --layer takes besides node names (tensor names, module paths).
  std::map<std::string, std::string> origin;
  std::vector<std::pair<std::string, size_t>> aliases;

  const std::string& path() const { return path_; }
  int opset() const { return opset_; }

  void define(const std::string& name, Value v) { values_[name] = std::move(v); }
  bool has_value(const std::string& name) const { return values_.count(name) != 0; }
  const Value& value(const std::string& name) const { return values_.at(name); }

  // Input k of the node (throws naming a dangling input); optional inputs may be absent ("").
  bool has_input(const onnx::NodeProto& node, int k) const { return k < node.input_size() && !node.input(k).empty(); }
  const Value& input(const onnx::NodeProto& node, int k) const;
  const Value& runtime_input(const onnx::NodeProto& node, int k) const;  // one the model computes
  const Value& constant_input(const onnx::NodeProto& node, int k) const;  // one known now
  void set_output(const onnx::NodeProto& node, Value v, int k = 0);

  // Adds a layer reading `reads` as a node of the model; the node's name is the ONNX node's (with
  // `suffix` for the helper layers one ONNX node may need). Returns the value it computes.
  Value add_layer(const onnx::NodeProto& node, std::unique_ptr<Layer<double>> layer, std::vector<int> reads, std::vector<Sym> shape,
                  const std::string& suffix = "");
  // An ONNX layer kind (nn/onnx/layers_*.h) reading the node's inputs `ks`: runtime values read,
  // float constants held; all constant: folded now. The output's full shape is `shape`.
  template <class L>
  Value add_onnx_layer(const onnx::NodeProto& node, std::unique_ptr<L> layer, const std::vector<const Value*>& operands, std::vector<Sym> shape,
                       const std::string& suffix = "");
  // The constant as a parameter's value; records its initializer under the parameter's full name.
  ad::Tensor<double> tensor(const Value& v, const std::vector<int64_t>& expect = {}) const;
  void note_origin(const std::string& node_name, const std::string& param, const Value& v);

  std::string node_label(const onnx::NodeProto& node) const;
  std::string layer_name(const onnx::NodeProto& node, const std::string& suffix) const;
  [[noreturn]] void fail(const onnx::NodeProto& node, const std::string& what) const;
  [[noreturn]] void fail(const std::string& what) const;

  const onnx::AttributeProto* attribute(const onnx::NodeProto& node, const std::string& name) const;
  int64_t attr_int(const onnx::NodeProto& node, const std::string& name, int64_t fallback) const;
  double attr_float(const onnx::NodeProto& node, const std::string& name, double fallback) const;
  std::string attr_string(const onnx::NodeProto& node, const std::string& name, const std::string& fallback) const;
  std::vector<int64_t> attr_ints(const onnx::NodeProto& node, const std::string& name) const;
  // Refuses attributes other than `known` (an attribute we would ignore could change the result).
  void only_attributes(const onnx::NodeProto& node, std::initializer_list<std::string_view> known) const;

 private:
  std::string path_;
  int opset_;
  std::map<std::string, Value> values_;
};

// A TensorProto (an initializer, a Constant's value) as a constant; sizes checked against the data
// present before anything is allocated. `dir`: the model's folder, for external data.
Value tensor_value(const onnx::TensorProto& t, const std::string& path, const std::string& dir);

// A runtime layer's output shape from its per-example shape (batch first).
std::vector<Sym> batch_first(const ad::Shape& example);

template <class L>
Value Builder::add_onnx_layer(const onnx::NodeProto& node, std::unique_ptr<L> layer, const std::vector<const Value*>& operands, std::vector<Sym> shape,
                              const std::string& suffix) {
  std::vector<int> reads;
  std::vector<ad::Shape> shapes;
  std::vector<const Value*> held;
  layer->operands.clear();
  for (const Value* v : operands) {
    if (v->kind == Value::Kind::fill) fail(node, "reads a constant whose shape depends on the batch, which only LSTM and GRU states may");
    if (v->runtime()) {
      layer->operands += 'r';
      reads.push_back(v->node);
    } else {
      if (v->integer && !v->fixed_shape()) fail(node, "reads integer data that depends on the batch");
      layer->operands += 'c';
      shapes.push_back(ad::Shape(v->dims()));
      held.push_back(v);
    }
  }
  layer->set_constant_shapes(shapes);
  for (size_t i = 0; i < held.size(); ++i) {
    layer->constants[i].value = tensor(*held[i]);
    // A constant of the graph (a Constant node, folded arithmetic) is no weight: it does not train,
    // as in PyTorch, where it was a literal. Initializers do.
    layer->constants[i].buffer = held[i]->initializer.empty();
  }
  layer->out = example_shape(shape);
  if (reads.empty()) {  // every operand known now: fold it
    ad::Tape<double> tape;
    ad::Var<double> y = layer->forward(tape, std::span<const ad::Var<double>>(), Grads::none);
    Value v;
    v.real.assign(y.value().begin(), y.value().end());
    v.shape = fixed_syms(y.shape().vec());
    return v;
  }
  const std::string name = layer_name(node, suffix);
  for (size_t i = 0; i < held.size(); ++i) note_origin(name, layer->constants[i].name, *held[i]);
  return add_layer(node, std::move(layer), reads, std::move(shape), suffix);
}

using Converter = void (*)(Builder&, const onnx::NodeProto&);
// The ONNX operations integrad reads, by op_type (nn/onnx/op_table.cpp): one line each.
const std::map<std::string, Converter>& op_table();

}  // namespace integrad::nn::onnx_in
