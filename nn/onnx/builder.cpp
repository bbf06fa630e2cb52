#include "nn/onnx/builder.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "nn/printable.h"

namespace integrad::nn::onnx_in {

bool Value::fixed_shape() const {
  return std::all_of(shape.begin(), shape.end(), [](Sym s) { return s.fixed(); });
}

std::vector<int64_t> Value::dims() const {
  std::vector<int64_t> d;
  for (Sym s : shape) d.push_back(s.c);
  return d;
}

int64_t Value::count() const {
  int64_t n = 1;
  for (Sym s : shape) n *= s.c;
  return n;
}

std::vector<int64_t> Value::fixed_ints(const std::string& what) const {
  std::vector<int64_t> out;
  if (!integer) {
    for (double r : real) out.push_back(static_cast<int64_t>(r));
    return out;
  }
  for (Sym s : ints) {
    if (!s.fixed()) throw std::invalid_argument(what + " depends on the batch");
    out.push_back(s.c);
  }
  return out;
}

ad::Shape example_shape(const std::vector<Sym>& s) {
  std::vector<int64_t> dims;
  bool dropped = false;
  for (Sym d : s) {
    if (!dropped && d.n == 1 && d.c == 0) {
      dropped = true;
      continue;
    }
    dims.push_back(std::max<int64_t>(0, d.at(1)));
  }
  if (dims.size() > 6) dims.resize(6);
  return ad::Shape(dims);
}

std::vector<Sym> fixed_syms(const std::vector<int64_t>& dims) {
  std::vector<Sym> out;
  for (int64_t d : dims) out.push_back({0, d});
  return out;
}

std::vector<Sym> batch_first(const ad::Shape& example) {
  std::vector<Sym> out{{1, 0}};
  for (int64_t d : example.dims()) out.push_back({0, d});
  return out;
}

const Value& Builder::input(const onnx::NodeProto& node, int k) const {
  if (!has_input(node, k)) fail(node, fmt::format("has no input {}", k));
  auto it = values_.find(node.input(k));
  if (it == values_.end())
    fail(node, fmt::format("reads '{}', which no node, initializer or input before it produces (a dangling input, or a cycle)", printable(node.input(k))));
  return it->second;
}

const Value& Builder::runtime_input(const onnx::NodeProto& node, int k) const {
  const Value& v = input(node, k);
  if (!v.runtime()) fail(node, fmt::format("input {} ('{}') must be computed from the model's input here", k, printable(node.input(k))));
  return v;
}

const Value& Builder::constant_input(const onnx::NodeProto& node, int k) const {
  const Value& v = input(node, k);
  if (!v.constant()) fail(node, fmt::format("input {} ('{}') must be a constant (an initializer or folded shape arithmetic)", k, printable(node.input(k))));
  return v;
}

void Builder::set_output(const onnx::NodeProto& node, Value v, int k) {
  if (k >= node.output_size() || node.output(k).empty()) return;
  if (v.runtime()) aliases.emplace_back(node.output(k), static_cast<size_t>(v.node));
  values_[node.output(k)] = std::move(v);
}

std::string Builder::node_label(const onnx::NodeProto& node) const {
  const std::string name = node.name().empty() ? (node.output_size() ? node.output(0) : std::string("?")) : node.name();
  return fmt::format("node '{}' ({})", printable(name), printable(node.op_type()));
}

std::string Builder::layer_name(const onnx::NodeProto& node, const std::string& suffix) const {
  std::string name = node.name().empty() ? (node.output_size() ? node.output(0) : node.op_type()) : node.name();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-' && c != '/' && c != ':') c = '_';
  name += suffix;
  // Names are unique in a model: a second use gets a counter.
  std::string unique = name;
  for (int k = 1; std::find(model.names.begin(), model.names.end(), unique) != model.names.end(); ++k) unique = fmt::format("{}:{}", name, k);
  return unique;
}

void Builder::fail(const onnx::NodeProto& node, const std::string& what) const {
  throw std::runtime_error(fmt::format("{}: {} {}", printable(path_), node_label(node), what));
}
void Builder::fail(const std::string& what) const { throw std::runtime_error(fmt::format("{}: {}", printable(path_), what)); }

Value Builder::add_layer(const onnx::NodeProto& node, std::unique_ptr<Layer<double>> layer, std::vector<int> reads, std::vector<Sym> shape,
                         const std::string& suffix) {
  if (model.layers.size() >= 100000) fail(node, "makes the model more than 100000 layers deep");
  const std::string name = layer_name(node, suffix);
  if (reads.empty()) reads = {Model<double>::kModelInput};
  // Model::add reads the node before when `reads` is empty; here every node says what it reads.
  model.add(name, std::move(layer), reads);
  Value v;
  v.kind = Value::Kind::runtime;
  v.node = static_cast<int>(model.layers.size()) - 1;
  v.shape = std::move(shape);
  if (v.shape.empty() || !(v.shape[0] == Sym{1, 0})) model.batch_elsewhere.insert(name);
  return v;
}

ad::Tensor<double> Builder::tensor(const Value& v, const std::vector<int64_t>& expect) const {
  if (!v.constant() || !v.fixed_shape()) throw std::logic_error("tensor() of a value that is not a constant");
  ad::Tensor<double> t(ad::Shape(expect.empty() ? v.dims() : expect));
  if (t.numel() != v.count()) throw std::logic_error("tensor() with the wrong element count");
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = v.integer ? static_cast<double>(v.ints[i].c) : v.real[i];
  return t;
}

void Builder::note_origin(const std::string& node_name, const std::string& param, const Value& v) {
  if (!v.initializer.empty()) origin[node_name + "." + param] = v.initializer;
}

const onnx::AttributeProto* Builder::attribute(const onnx::NodeProto& node, const std::string& name) const {
  for (const auto& a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

int64_t Builder::attr_int(const onnx::NodeProto& node, const std::string& name, int64_t fallback) const {
  const auto* a = attribute(node, name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::INT) fail(node, fmt::format("attribute '{}' is not an integer", printable(name)));
  return a->i();
}

double Builder::attr_float(const onnx::NodeProto& node, const std::string& name, double fallback) const {
  const auto* a = attribute(node, name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::FLOAT) fail(node, fmt::format("attribute '{}' is not a float", printable(name)));
  // ONNX keeps float attributes in float32: PyTorch's eps=1e-5 arrives as 9.99999975e-06, and a
  // BatchNorm's momentum 0.1 as 1 − 0.899999976. Read as the shortest decimal that rounds to the
  // same float (fmt's round-trip form), each is the double its author wrote.
  return std::stod(fmt::format("{}", a->f()));
}

std::string Builder::attr_string(const onnx::NodeProto& node, const std::string& name, const std::string& fallback) const {
  const auto* a = attribute(node, name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::STRING) fail(node, fmt::format("attribute '{}' is not a string", printable(name)));
  return a->s();
}

std::vector<int64_t> Builder::attr_ints(const onnx::NodeProto& node, const std::string& name) const {
  const auto* a = attribute(node, name);
  if (!a) return {};
  if (a->type() != onnx::AttributeProto::INTS) fail(node, fmt::format("attribute '{}' is not a list of integers", printable(name)));
  return {a->ints().begin(), a->ints().end()};
}

void Builder::only_attributes(const onnx::NodeProto& node, std::initializer_list<std::string_view> known) const {
  for (const auto& a : node.attribute())
    if (std::find(known.begin(), known.end(), a.name()) == known.end())
      fail(node, fmt::format("has attribute '{}', which integrad does not read", printable(a.name())));
}

}  // namespace integrad::nn::onnx_in
