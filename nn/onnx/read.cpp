#include "nn/onnx/read.h"

#include <fmt/format.h>
#include <google/protobuf/io/coded_stream.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "nn/layers_shape.h"
#include "nn/model_file.h"
#include "nn/onnx/builder.h"
#include "nn/onnx/read_proto.h"
#include "nn/printable.h"

namespace integrad::nn {
namespace {

using onnx_in::Builder;
using onnx_in::Sym;
using onnx_in::Value;

constexpr int64_t kMaxFileBytes = int64_t(1) << 31;  // protobuf's own limit is 2 GiB
constexpr size_t kMaxInputs = 64;                       // as integrad's own files (input_names)


// One of the model's inputs: its shape with dimension 0 as the batch N, whether the file fixed it or not.
Value input_value(const onnx::ValueInfoProto& in, const std::string& path, InputDtype& dtype) {
  auto fail = [&](const std::string& what) -> void { throw std::runtime_error(fmt::format("{}: input '{}' {}", printable(path), printable(in.name()), what)); };
  if (!in.type().has_tensor_type()) fail("is not a tensor");
  const auto& tt = in.type().tensor_type();
  switch (tt.elem_type()) {
    case onnx::TensorProto::FLOAT: dtype = InputDtype::float32; break;
    case onnx::TensorProto::DOUBLE: dtype = InputDtype::float64; break;
    case onnx::TensorProto::INT64: dtype = InputDtype::int64; break;
    default: fail(fmt::format("has element type {}; integrad takes float, double or int64 inputs", tt.elem_type()));
  }
  if (!tt.has_shape() || tt.shape().dim_size() < 1 || tt.shape().dim_size() > 6) fail("needs a shape of 1 to 6 dimensions, the batch first");
  Value v;
  v.kind = Value::Kind::runtime;
  v.node = Model<double>::kModelInput;
  v.integer = dtype == InputDtype::int64;
  for (int k = 0; k < tt.shape().dim_size(); ++k) {
    const auto& d = tt.shape().dim(k);
    if (k == 0) {
      v.shape.push_back({1, 0});
      continue;
    }
    if (!d.has_dim_value() || d.dim_value() < 1 || d.dim_value() > (int64_t(1) << 24))
      fail(fmt::format("has dimension {} '{}'; only the batch (dimension 0) may be symbolic, the others must be fixed sizes", k,
                       printable(d.has_dim_param() ? d.dim_param() : std::to_string(d.dim_value()))));
    v.shape.push_back({0, d.dim_value()});
  }
  return v;
}

// Metadata input_dtype: the dtype a float64 graph's real-valued inputs were trained on, one for all
// or one per input separated by ';' (as integrad's own files say it). An int64 input stays int64.
void apply_input_dtypes(const std::string& text, Model<double>& m, const std::string& path) {
  std::vector<std::string> parts;
  for (size_t start = 0, semi;; start = semi + 1) {
    semi = text.find(';', start);
    parts.push_back(text.substr(start, semi - start));
    if (semi == std::string::npos) break;
  }
  const size_t count = m.input_count();
  if (parts.size() != 1 && parts.size() != count)
    throw std::runtime_error(fmt::format("{}: metadata input_dtype gives {} dtypes for {} inputs", printable(path), parts.size(), count));
  for (size_t k = 0; k < count; ++k) {
    InputDtype& have = m.named_inputs.empty() ? m.input_dtype : m.named_inputs[k].dtype;
    if (have == InputDtype::int64) continue;
    InputDtype d;
    try {
      d = parse_input_dtype(parts[parts.size() == 1 ? 0 : k]);
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(fmt::format("{}: metadata: {}", printable(path), e.what()));
    }
    if (d == InputDtype::int64) throw std::runtime_error(fmt::format("{}: metadata says input_dtype int64, the graph's input is real-valued", printable(path)));
    have = d;
  }
  if (!m.named_inputs.empty()) m.input_dtype = m.named_inputs[0].dtype;
}

// What integrad's own exporter writes into metadata_props (nn/onnx/export.h) and its files say
// about a model beyond the graph: the output kind, the features' names, and the input dtype a
// float64 model was trained on. Other producers' keys are left alone.
void apply_metadata(const onnx::ModelProto& proto, Model<double>& m, const std::string& path) {
  for (const auto& p : proto.metadata_props()) {
    if (p.key() == "output") m.output_kind = p.value();
    else if (p.key() == "feature_names") {
      std::vector<std::string> names;
      for (size_t start = 0, comma;; start = comma + 1) {
        comma = p.value().find(',', start);
        names.push_back(p.value().substr(start, comma - start));
        if (comma == std::string::npos) break;
      }
      if (m.input_shape.rank() == 1 && int64_t(names.size()) == m.input_shape[0]) m.feature_names = std::move(names);
    } else if (p.key() == "input_dtype") {
      apply_input_dtypes(p.value(), m, path);
    }
  }
}

// A node name as torch.onnx.export writes it, "/layer1/layer1.0/conv1/Conv", as the module
// path "layer1.0.conv1". Each scope is one module deeper, written as torch 1.13's
// `_unqualified_variable_name` of its path: from the path's last non-numeric atom on, so
// `layer2.0` is "layer2.0" and `layer2.0.downsample.0` is "downsample.0". The module's own attribute
// is therefore the scope's last atom, and what stands before it must end the parent's path; names
// that do not follow this are not torch's and give no module paths.
std::vector<std::string> module_scopes(const std::string& node_name) {
  std::vector<std::string> parts;
  if (node_name.size() < 2 || node_name[0] != '/') return {};
  size_t start = 1;
  for (size_t slash; (slash = node_name.find('/', start)) != std::string::npos; start = slash + 1) parts.push_back(node_name.substr(start, slash - start));
  std::vector<std::string> scopes;
  std::string path;
  for (const std::string& p : parts) {
    const size_t dot = p.rfind('.');
    const std::string attribute = dot == std::string::npos ? p : p.substr(dot + 1);
    if (attribute.empty()) return {};
    if (dot != std::string::npos) {
      const std::string parent_tail = p.substr(0, dot);
      if (path != parent_tail && !path.ends_with("." + parent_tail)) return {};
    }
    path = path.empty() ? attribute : path + "." + attribute;
    scopes.push_back(path);
  }
  return scopes;
}

}  // namespace

namespace onnx_in {

onnx::ModelProto parse_onnx_file(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw std::runtime_error(fmt::format("{}: cannot read the file ({})", printable(path), ec.message()));
  if (static_cast<int64_t>(size) >= kMaxFileBytes) throw std::runtime_error(fmt::format("{}: {} bytes; an ONNX file must be below 2 GiB", printable(path), size));
  std::ifstream in(path, std::ios::binary);
  std::string bytes(size, '\0');
  if (!in.read(bytes.data(), static_cast<std::streamsize>(size))) throw std::runtime_error(fmt::format("{}: cannot read the file", printable(path)));
  google::protobuf::io::CodedInputStream stream(reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<int>(bytes.size()));
  stream.SetRecursionLimit(64);  // nested subgraphs beyond this are refused, not followed
  onnx::ModelProto model;
  if (!model.ParseFromCodedStream(&stream) || !stream.ConsumedEntireMessage())
    throw std::runtime_error(fmt::format("{}: not a valid ONNX model (the protobuf is truncated, corrupt or nested too deeply)", printable(path)));
  return model;
}

}  // namespace onnx_in

bool is_onnx_path(const std::string& path) { return path.size() >= 5 && path.compare(path.size() - 5, 5, ".onnx") == 0; }

template <ad::Scalar T>
Model<T> load_onnx(const std::string& path, const std::vector<std::string>& held) {
  return onnx_in::model_of_proto<T>(onnx_in::parse_onnx_file(path), path, held);
}

template <ad::Scalar T>
Model<T> onnx_in::model_of_proto(const onnx::ModelProto& proto, const std::string& path, const std::vector<std::string>& held) {
  int opset = -1;
  for (const auto& o : proto.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") opset = static_cast<int>(o.version());
  // Opsets 13 to 17; older ones down to 7 where every op the model uses means there what it means at
  // 13 (ONNX's own node tests record the opset at which each op last changed: Conv at 11).
  if (opset < 7 || opset > 17)
    throw std::runtime_error(fmt::format("{}: opset {}; integrad reads ONNX opsets 13 to 17 (torch.onnx.export(..., opset_version=17))", printable(path), opset));
  const onnx::GraphProto& g = proto.graph();
  Builder b(path, opset);
  const std::string dir = std::filesystem::path(path).parent_path().string();

  std::set<std::string> initializer_names;
  for (const auto& t : g.initializer()) {
    Value v = onnx_in::tensor_value(t, path, dir);
    v.initializer = t.name();
    initializer_names.insert(t.name());
    b.define(t.name(), std::move(v));
  }
  std::vector<const onnx::ValueInfoProto*> inputs;
  for (const auto& in : g.input())
    if (!initializer_names.count(in.name())) inputs.push_back(&in);
  if (!held.empty()) {
    if (held.size() + 1 != inputs.size())
      throw std::runtime_error(fmt::format("{}: {} tensors held for {} inputs after the first", printable(path), held.size(), inputs.size() - 1));
    for (size_t k = 0; k < held.size(); ++k) {
      std::ifstream in(held[k], std::ios::binary);
      onnx::TensorProto t;
      if (!in || !t.ParseFromIstream(&in)) throw std::runtime_error(fmt::format("{}: not a valid ONNX TensorProto", printable(held[k])));
      b.define(inputs[k + 1]->name(), onnx_in::tensor_value(t, held[k], ""));
    }
    inputs.resize(1);
  }
  if (inputs.empty()) b.fail("the graph has no input besides its initializers");
  if (inputs.size() > kMaxInputs)
    b.fail(fmt::format("the graph has {} inputs besides its initializers; integrad reads at most {}", inputs.size(), kMaxInputs));
  // Each input is model input k (node index −1 − k), with its per-example shape and dtype. One input
  // keeps the model's one-input form (no named inputs): the same model as before several were read.
  std::vector<ModelInput> model_inputs;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const std::string& name = inputs[k]->name();
    if (name.empty()) b.fail(fmt::format("the graph's input {} has no name", k));
    for (size_t j = 0; j < k; ++j)
      if (inputs[j]->name() == name) b.fail(fmt::format("two of the graph's inputs are named '{}'", printable(name)));
    InputDtype dtype = InputDtype::float32;
    Value input = input_value(*inputs[k], path, dtype);
    input.node = Model<double>::model_input(k);
    model_inputs.push_back({name, onnx_in::example_shape(input.shape), dtype});
    b.define(name, std::move(input));
    b.aliases.emplace_back(name, Model<double>::npos);  // not a node: refused below if asked for
  }
  if (model_inputs.size() == 1) {
    b.model.input_shape = model_inputs[0].shape;
    b.model.input_dtype = model_inputs[0].dtype;
  } else {
    b.model.set_inputs(model_inputs);
  }

  const auto& table = onnx_in::op_table();
  for (const auto& node : g.node()) {
    if (!node.domain().empty() && node.domain() != "ai.onnx") b.fail(node, fmt::format("is in domain '{}', which integrad does not read", printable(node.domain())));
    auto it = table.find(node.op_type());
    if (it == table.end()) b.fail(node, "is an operation integrad does not read (docs/onnx.md lists those it does)");
    static const std::set<std::string> changed_at_13 = {"Softmax", "Squeeze", "Unsqueeze", "Split", "Clip", "Resize"};
    if (opset < 13 && changed_at_13.count(node.op_type()))
      b.fail(node, fmt::format("is at opset {}, where it means something else than at 13; integrad reads it from opset 13", opset));
    for (int k = 0; k < node.input_size(); ++k)
      if (!node.input(k).empty()) (void)b.input(node, k);  // dangling inputs (and cycles) are named here
    for (const auto& a : node.attribute())
      if (a.type() == onnx::AttributeProto::GRAPH || a.type() == onnx::AttributeProto::GRAPHS) b.fail(node, "holds a subgraph, which integrad does not read");
    try {
      it->second(b, node);
    } catch (const std::invalid_argument& e) {
      b.fail(node, printable(e.what()));
    }
  }
  if (g.output_size() < 1) b.fail("the graph has no output");
  if (!b.has_value(g.output(0).name())) b.fail(fmt::format("the output '{}' is produced by no node", printable(g.output(0).name())));
  const Value& out = b.value(g.output(0).name());
  if (!out.runtime() || out.node < 0) b.fail(fmt::format("the output '{}' does not depend on the input", printable(g.output(0).name())));
  if (out.node + 1 != static_cast<int>(b.model.layers.size())) {  // the output must be the last node: an Identity makes it so
    onnx::NodeProto tail;
    tail.set_name(g.output(0).name());
    tail.set_op_type("Identity");
    b.add_layer(tail, std::make_unique<Identity<double>>(), {out.node}, out.shape);
  }
  for (auto& [name, node] : b.aliases)  // a later node that reads ONNX's output
    if (node == Model<double>::npos) node = 0;
  std::erase_if(b.aliases, [&](const auto& a) {
    return std::any_of(inputs.begin(), inputs.end(), [&](const onnx::ValueInfoProto* in) { return in->name() == a.first; });
  });

  // Module paths: each scope of a node name names the last node inside it, as a forward hook on
  // that module would see it.
  for (size_t i = 0; i < b.model.layers.size(); ++i)
    for (const std::string& scope : module_scopes(b.model.names[i])) {
      std::erase_if(b.aliases, [&](const auto& a) { return a.first == scope; });
      b.aliases.emplace_back(scope, i);
    }
  Model<double> m = std::move(b.model);
  m.aliases = std::move(b.aliases);
  m.origin = std::move(b.origin);
  m.origin["onnx"] = path;
  apply_metadata(proto, m, path);
  (void)m.output_shapes();
  if constexpr (std::is_same_v<T, double>) return m;
  else return m.template to<T>();
}

ad::Tensor<double> read_onnx_tensor(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  onnx::TensorProto t;
  if (!in || !t.ParseFromIstream(&in)) throw std::runtime_error(fmt::format("{}: not a valid ONNX TensorProto", printable(path)));
  const Value v = onnx_in::tensor_value(t, path, std::filesystem::path(path).parent_path().string());
  ad::Tensor<double> out(ad::Shape(v.dims()));
  for (int64_t i = 0; i < out.numel(); ++i) out[i] = v.integer ? static_cast<double>(v.ints[i].c) : v.real[i];
  return out;
}

template Model<float> load_onnx<float>(const std::string&, const std::vector<std::string>&);
template Model<double> load_onnx<double>(const std::string&, const std::vector<std::string>&);
template Model<float> onnx_in::model_of_proto<float>(const onnx::ModelProto&, const std::string&, const std::vector<std::string>&);
template Model<double> onnx_in::model_of_proto<double>(const onnx::ModelProto&, const std::string&, const std::vector<std::string>&);

}  // namespace integrad::nn
