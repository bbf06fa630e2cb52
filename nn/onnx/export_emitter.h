// The ONNX graph being written by the exporter (nn/onnx/export.h): what a layer's exporter
// (nn/layer_registry.h OnnxExporter) calls to add nodes, parameters and constants. It names things as
// torch.onnx.export does, so that the reader maps them back:
// - a node by its module path's scopes and its op: layer1.0.conv1's Conv is
//   "/layer1/layer1.0/conv1/Conv" (each scope named as torch 1.13's _unqualified_variable_name:
//   the path from its last non-numeric atom), a repeated name gets "_1", "_2", ...;
// - a parameter by its state_dict key ("layer1.0.conv1.weight"), its values as they are (raw
//   little-endian bytes of the model's dtype), so the initializers are the state_dict;
// - a layer's output tensor by the module path ("layer1.0.conv1"), the model's by "output";
//   values inside a layer as "<node name>_output_<k>".
#pragma once

#include <onnx/onnx_pb.h>  // defines ONNX_API, then includes onnx/onnx-ml.pb.h

#include <map>
#include <set>
#include <string>
#include <vector>

#include "nn/layer.h"

namespace integrad::nn::onnx_export {

// ONNX's TensorProto element type of T (FLOAT or DOUBLE).
template <ad::Scalar T>
constexpr int onnx_type() {
  return std::is_same_v<T, double> ? onnx::TensorProto::DOUBLE : onnx::TensorProto::FLOAT;
}

onnx::AttributeProto attribute(const std::string& name, int64_t value);
onnx::AttributeProto attribute(const std::string& name, float value);
onnx::AttributeProto attribute(const std::string& name, const std::vector<int64_t>& values);

template <ad::Scalar T>
class Emitter {
 public:
  explicit Emitter(onnx::GraphProto& graph) : graph_(graph) {}

  // The layer about to be emitted: its module path, its inputs' per-example shapes, and the name
  // its output tensor will carry.
  void begin_layer(const std::string& path, std::vector<ad::Shape> input_shapes, std::string output_name);
  // Gives the layer's result the output name: the last node's output is renamed when that node
  // wrote it, otherwise an Identity node copies it (a layer that passes its input on).
  std::string finish_layer(const std::string& result);

  const std::string& path() const { return path_; }
  const std::vector<ad::Shape>& input_shapes() const { return input_shapes_; }

  // A node of `op` in the layer's scope, or in its child module `sub` ("self_attn", "linear1");
  // returns its `outputs` output names.
  std::vector<std::string> nodes_out(const std::string& op, const std::vector<std::string>& inputs, int outputs,
                                     const std::vector<onnx::AttributeProto>& attributes = {}, const std::string& sub = "");
  std::string node(const std::string& op, const std::vector<std::string>& inputs, const std::vector<onnx::AttributeProto>& attributes = {},
                   const std::string& sub = "") {
    return nodes_out(op, inputs, 1, attributes, sub)[0];
  }
  // A parameter or buffer of the layer, as the initializer named by its state_dict key.
  std::string parameter(const Parameter<T>& p);
  // Constants (Constant nodes, so that the initializers stay exactly the state_dict): int64
  // values (a vector, or a 0-d scalar) and a scalar of the model's dtype.
  std::string int64s(const std::vector<int64_t>& values, const std::string& sub = "");
  std::string int64_scalar(int64_t value, const std::string& sub = "");
  std::string scalar(double value, const std::string& sub = "");

  // Value types: the model's input may hold int64 token ids, every other value is of type T.
  void set_int64(const std::string& value) { int64_values_.insert(value); }
  bool is_int64(const std::string& value) const { return int64_values_.count(value) > 0; }
  // `value` as type T, or as int64 (a Cast node the first time, shared by later readers).
  std::string floating(const std::string& value);
  std::string int64(const std::string& value);

 private:
  std::string scope(const std::string& sub) const;
  std::string unique_node_name(const std::string& base);

  onnx::GraphProto& graph_;
  std::string path_, output_name_;
  std::vector<ad::Shape> input_shapes_;
  int first_node_ = 0;  // the layer's first node in graph_
  std::set<std::string> node_names_, int64_values_;
  std::map<std::string, std::string> casts_;  // (value, to) -> cast value
};

}  // namespace integrad::nn::onnx_export
