#include "nn/onnx/export.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <climits>

#include "nn/architecture.h"
#include "nn/atomic_file.h"
#include "nn/layer_registry.h"
#include "nn/model_file.h"
#include "nn/onnx/export_helpers.h"

namespace integrad::nn {

namespace {

constexpr int64_t kOpset = 17;
constexpr int64_t kIrVersion = 8;  // ONNX 1.12, the first with opset 17

void set_value_info(onnx::ValueInfoProto& info, const std::string& name, int elem_type, const ad::Shape& per_example) {
  info.set_name(name);
  onnx::TypeProto_Tensor& t = *info.mutable_type()->mutable_tensor_type();
  t.set_elem_type(elem_type);
  onnx::TensorShapeProto& s = *t.mutable_shape();
  s.add_dim()->set_dim_param("N");  // the batch: any size
  for (int64_t d : per_example.dims()) s.add_dim()->set_dim_value(d);
}

void add_metadata(onnx::ModelProto& m, const std::string& key, const std::string& value) {
  onnx::StringStringEntryProto& p = *m.add_metadata_props();
  p.set_key(key);
  p.set_value(value);
}

template <ad::Scalar T>
onnx::ModelProto to_onnx(const Model<T>& model) {
  onnx::ModelProto m;
  m.set_ir_version(kIrVersion);
  m.set_producer_name("integrad");
  onnx::OperatorSetIdProto& opset = *m.add_opset_import();
  opset.set_domain("");
  opset.set_version(kOpset);
  onnx::GraphProto& graph = *m.mutable_graph();
  graph.set_name("integrad");

  const std::vector<ad::Shape> shapes = model.output_shapes();  // throws when a layer does not fit
  // The graph's inputs: the model's named inputs, or its one input as "input".
  std::vector<std::string> inputs;
  for (size_t k = 0; k < model.input_count(); ++k) {
    const std::string name = model.named_inputs.empty() ? std::string("input") : model.named_inputs[k].name;
    const InputDtype dtype = model.named_inputs.empty() ? model.input_dtype : model.named_inputs[k].dtype;
    if (name == "output" || std::find(model.names.begin(), model.names.end(), name) != model.names.end())
      throw std::invalid_argument(fmt::format("the model's input '{}' has the name of a layer's output; ONNX needs each tensor named once", name));
    set_value_info(*graph.add_input(), name, dtype == InputDtype::int64 ? int(onnx::TensorProto::INT64) : onnx_export::onnx_type<T>(), model.input_shape_of(k));
    inputs.push_back(name);
  }
  onnx_export::Emitter<T> e(graph);
  for (size_t k = 0; k < inputs.size(); ++k)
    if ((model.named_inputs.empty() ? model.input_dtype : model.named_inputs[k].dtype) == InputDtype::int64) e.set_int64(inputs[k]);

  std::vector<std::string> values(model.layers.size());
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const Layer<T>& layer = *model.layers[i];
    const std::string path = model.node_name(i);
    const LayerType<T>* type = find_layer_type<T>(layer.kind());
    const OnnxExporter<T> exporter = type ? type->onnx : nullptr;
    if (!exporter)
      throw std::invalid_argument(fmt::format("layer '{}' ({}) cannot be exported to ONNX: no exporter for {} layers (nn/layer_registry.h)", path,
                                              layer.architecture(), layer.kind()));
    std::vector<std::string> reads;
    std::vector<ad::Shape> read_shapes;
    for (int r : model.node_inputs(i)) {
      reads.push_back(r < 0 ? inputs[size_t(-1 - r)] : values[size_t(r)]);
      read_shapes.push_back(r < 0 ? model.input_shape_of(size_t(-1 - r)) : shapes[size_t(r)]);
    }
    // A layer's output carries its module path (what --layer takes), the last one "output".
    e.begin_layer(path, read_shapes, i + 1 == model.layers.size() ? "output" : path);
    values[i] = e.finish_layer(exporter(e, layer, reads));
  }
  if (model.layers.empty()) values.push_back(e.finish_layer(inputs[0]));
  if (e.is_int64(values.back())) throw std::invalid_argument("the model's output is its int64 token ids: there is nothing to export");
  set_value_info(*graph.add_output(), values.back(), onnx_export::onnx_type<T>(), model.layers.empty() ? model.input_shape : shapes.back());

  add_metadata(m, "architecture", architecture_text(model));
  // As integrad's own files say them (nn/model_file.cpp): shapes separated by ';', one dtype each.
  std::vector<std::string> shapes_text, dtypes_text;
  for (size_t k = 0; k < inputs.size(); ++k) {
    shapes_text.push_back(fmt::format("{}", fmt::join(model.input_shape_of(k).dims(), ",")));
    dtypes_text.push_back(input_dtype_name(model.named_inputs.empty() ? model.input_dtype : model.named_inputs[k].dtype));
  }
  add_metadata(m, "input_shape", fmt::format("{}", fmt::join(shapes_text, ";")));
  add_metadata(m, "input_dtype", fmt::format("{}", fmt::join(dtypes_text, ";")));
  add_metadata(m, "input_names", fmt::format("{}", fmt::join(inputs, ",")));
  if (!model.output_kind.empty()) add_metadata(m, "output", model.output_kind);
  if (!model.feature_names.empty()) add_metadata(m, "feature_names", fmt::format("{}", fmt::join(model.feature_names, ",")));
  return m;
}

}  // namespace

template <ad::Scalar T>
std::string onnx_model_bytes(const Model<T>& model) {
  onnx::ModelProto m = to_onnx(model);
  const size_t size = m.ByteSizeLong();
  if (size > size_t(INT_MAX))
    throw std::invalid_argument(fmt::format("the model takes {} bytes as ONNX, more than protobuf's limit of 2 GiB for one file", size));
  // What we write must pass ONNX's own checks: the checker, then shape inference in strict mode
  // (types checked, a node whose shapes do not agree is an error) on a copy.
  try {
    onnx::checker::check_model(m);
    onnx::ModelProto inferred = m;
    onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(), onnx::ShapeInferenceOptions(true, 1, false));
  } catch (const std::exception& err) {
    throw std::logic_error(std::string("the ONNX graph written for this model fails ONNX's checker: ") + err.what());
  }
  std::string bytes;
  if (!m.SerializeToString(&bytes)) throw std::runtime_error("protobuf could not serialize the ONNX model");
  return bytes;
}

template <ad::Scalar T>
void export_onnx(const Model<T>& model, const std::string& path) {
  write_file_atomically(path, onnx_model_bytes(model));
}

template std::string onnx_model_bytes(const Model<float>&);
template std::string onnx_model_bytes(const Model<double>&);
template void export_onnx(const Model<float>&, const std::string&);
template void export_onnx(const Model<double>&, const std::string&);

}  // namespace integrad::nn
