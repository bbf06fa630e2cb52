#include "nn/onnx/write_back.h"

#include <fmt/format.h>
#include <onnx/checker.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <numeric>
#include <set>

#include "nn/onnx/builder.h"
#include "nn/onnx/read_proto.h"
#include "nn/printable.h"

namespace integrad::nn {
namespace {

bool is_real(const onnx::TensorProto& t) { return t.data_type() == onnx::TensorProto::FLOAT || t.data_type() == onnx::TensorProto::DOUBLE; }

// `values` (row-major) as the tensor's data: raw little-endian bytes of its own type, inline.
void set_values(onnx::TensorProto& t, const std::vector<double>& values) {
  const bool single = t.data_type() == onnx::TensorProto::FLOAT;
  std::string raw(values.size() * (single ? 4 : 8), '\0');
  for (size_t i = 0; i < values.size(); ++i) {
    if (single) {
      const float f = static_cast<float>(values[i]);
      std::memcpy(raw.data() + 4 * i, &f, 4);
    } else {
      std::memcpy(raw.data() + 8 * i, &values[i], 8);
    }
  }
  t.clear_float_data();
  t.clear_double_data();
  t.clear_external_data();
  t.set_data_location(onnx::TensorProto::DEFAULT);
  t.set_raw_data(std::move(raw));
}

// The file with every real initializer holding each element's own index. Read through the reader,
// a parameter that is a copy of an initializer (as it is, transposed or reshaped) then holds the
// indices its values came from: how a trained value finds its place in the file, whatever the
// converter did, without a second description of each converter's layout.
// An LSTM's or GRU's initial states (and an LSTM's peepholes), which the reader takes only when
// zero, keep their values.
onnx::ModelProto index_probe(const onnx::ModelProto& proto, const std::string& path, const std::string& dir) {
  onnx::ModelProto probe = proto;
  std::set<std::string> states;
  for (const onnx::NodeProto& n : proto.graph().node())
    if (n.op_type() == "LSTM" || n.op_type() == "GRU")
      for (int k = 5; k < n.input_size(); ++k) states.insert(n.input(k));
  for (onnx::TensorProto& t : *probe.mutable_graph()->mutable_initializer()) {
    if (!is_real(t) || states.count(t.name())) continue;
    std::vector<double> index(onnx_in::tensor_value(t, path, dir).real.size());
    if (t.data_type() == onnx::TensorProto::FLOAT && index.size() > (size_t(1) << 24))
      throw std::runtime_error(fmt::format("{}: initializer '{}' has more than 2^24 values, too many to write back in float32", printable(path), printable(t.name())));
    std::iota(index.begin(), index.end(), 0.0);
    set_values(t, index);
  }
  return probe;
}

}  // namespace

template <ad::Scalar T>
std::string onnx_written_back(const Model<T>& model) {
  const std::string& path = model.origin.at("onnx");
  const std::string dir = std::filesystem::path(path).parent_path().string();
  onnx::ModelProto proto = onnx_in::parse_onnx_file(path);
  onnx::GraphProto& graph = *proto.mutable_graph();
  std::map<std::string, int> initializer_at;
  for (int i = 0; i < graph.initializer_size(); ++i) initializer_at[graph.initializer(i).name()] = i;
  std::map<std::string, std::string> identity_of;  // an Identity's output -> the initializer it copies
  for (const onnx::NodeProto& n : graph.node())
    if (n.op_type() == "Identity" && n.input_size() == 1 && n.output_size() == 1 && initializer_at.count(n.input(0))) identity_of[n.output(0)] = n.input(0);

  const Model<double> probe = onnx_in::model_of_proto<double>(index_probe(proto, path, dir), path);
  std::map<std::string, const Parameter<double>*> probed;
  for (const auto& [name, p] : probe.named_parameters()) probed[name] = p;

  std::map<std::string, std::vector<double>> values;  // initializer name (old, or an Identity's output) -> its values
  std::map<std::string, std::string> copies;          // an Identity's output written as an initializer -> the one it copied
  for (const auto& [name, p] : model.named_parameters()) {
    const auto origin = model.origin.find(name);
    if (origin == model.origin.end()) {
      if (p->buffer) continue;  // BatchNorm's num_batches_tracked: no ONNX node keeps it
      throw std::runtime_error(fmt::format("{}: parameter '{}' came from no initializer of the file; it cannot be written back", printable(path), name));
    }
    const std::string& target = origin->second;
    const bool identity = !initializer_at.count(target);
    if (identity && !identity_of.count(target))
      throw std::runtime_error(fmt::format("{}: parameter '{}' came from '{}', which is neither an initializer nor an Identity of one", printable(path), name, target));
    const std::string& source = identity ? identity_of.at(target) : target;
    std::vector<double>& out = values[target];
    if (out.empty()) out = onnx_in::tensor_value(graph.initializer(initializer_at.at(source)), path, dir).real;
    if (identity) copies[target] = source;
    const auto q = probed.find(name);
    if (q == probed.end() || q->second->value.numel() != p->value.numel())
      throw std::runtime_error(fmt::format("{}: parameter '{}' does not read back from the file the same way", printable(path), name));
    for (int64_t k = 0; k < p->value.numel(); ++k) {
      const double at = q->second->value[k];
      if (!(at >= 0 && at < double(out.size()) && at == std::floor(at)))
        throw std::runtime_error(fmt::format("{}: parameter '{}' is computed from initializer '{}', not copied; it cannot be written back", printable(path), name, source));
      out[size_t(at)] = double(p->value[k]);
    }
  }

  for (const auto& [name, v] : values) {
    if (!copies.count(name)) {
      set_values(*graph.mutable_initializer(initializer_at.at(name)), v);
      continue;
    }
    const onnx::TensorProto source = graph.initializer(initializer_at.at(copies.at(name)));
    onnx::TensorProto& t = *graph.add_initializer();
    t.set_name(name);
    t.set_data_type(source.data_type());
    *t.mutable_dims() = source.dims();
    set_values(t, v);
  }
  // The Identity nodes whose outputs are initializers of their own now.
  auto& nodes = *graph.mutable_node();
  for (int i = nodes.size(); i-- > 0;)
    if (nodes.Get(i).op_type() == "Identity" && nodes.Get(i).output_size() == 1 && copies.count(nodes.Get(i).output(0))) nodes.DeleteSubrange(i, 1);

  try {
    onnx::checker::check_model(proto);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: the model written back fails ONNX's checker: {}", printable(path), e.what()));
  }
  std::string bytes;
  if (!proto.SerializeToString(&bytes)) throw std::runtime_error("protobuf could not serialize the ONNX model");
  return bytes;
}

template std::string onnx_written_back(const Model<float>&);
template std::string onnx_written_back(const Model<double>&);

}  // namespace integrad::nn
