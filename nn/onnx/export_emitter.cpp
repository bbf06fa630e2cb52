#include "nn/onnx/export_emitter.h"

#include <fmt/format.h>

#include <cstring>

namespace integrad::nn::onnx_export {

onnx::AttributeProto attribute(const std::string& name, int64_t value) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INT);
  a.set_i(value);
  return a;
}

onnx::AttributeProto attribute(const std::string& name, float value) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::FLOAT);
  a.set_f(value);
  return a;
}

onnx::AttributeProto attribute(const std::string& name, const std::vector<int64_t>& values) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) a.add_ints(v);
  return a;
}

namespace {

// torch 1.13's _unqualified_variable_name: the qualified name from its last non-numeric atom
// ("layer1.0.conv1" -> "conv1", "layer1.0" -> "layer1.0", "3" -> "3").
std::string unqualified(const std::string& qualified) {
  std::vector<std::string> atoms;
  for (size_t start = 0;;) {
    const size_t dot = qualified.find('.', start);
    atoms.push_back(qualified.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  for (size_t i = atoms.size(); i-- > 0;) {
    const bool numeric = !atoms[i].empty() && atoms[i].find_first_not_of("0123456789") == std::string::npos;
    if (!numeric) {
      std::string out = atoms[i];
      for (size_t k = i + 1; k < atoms.size(); ++k) out += "." + atoms[k];
      return out;
    }
  }
  return qualified;
}

template <ad::Scalar T>
void set_raw(onnx::TensorProto& t, const T* data, int64_t n) {
  std::string bytes(size_t(n) * sizeof(T), '\0');
  if (n) std::memcpy(bytes.data(), data, bytes.size());  // little-endian hosts only (as safetensors)
  t.set_raw_data(std::move(bytes));
}

}  // namespace

template <ad::Scalar T>
void Emitter<T>::begin_layer(const std::string& path, std::vector<ad::Shape> input_shapes, std::string output_name) {
  path_ = path;
  input_shapes_ = std::move(input_shapes);
  output_name_ = std::move(output_name);
  first_node_ = graph_.node_size();
}

template <ad::Scalar T>
std::string Emitter<T>::finish_layer(const std::string& result) {
  if (graph_.node_size() > first_node_) {
    onnx::NodeProto& last = *graph_.mutable_node(graph_.node_size() - 1);
    bool shared = false;  // a cast kept for later readers keeps its name
    for (const auto& [key, cast] : casts_) shared = shared || cast == result;
    if (!shared && last.output_size() >= 1 && last.output(0) == result) {
      last.set_output(0, output_name_);
      if (int64_values_.count(result)) int64_values_.insert(output_name_);
      return output_name_;
    }
  }
  onnx::NodeProto& node = *graph_.add_node();
  node.set_op_type("Identity");
  node.set_name(unique_node_name(scope("") + "/Identity"));
  node.add_input(result);
  node.add_output(output_name_);
  if (int64_values_.count(result)) int64_values_.insert(output_name_);
  return output_name_;
}

template <ad::Scalar T>
std::string Emitter<T>::scope(const std::string& sub) const {
  std::string s;
  for (size_t dot = 0;;) {
    dot = path_.find('.', dot);
    s += '/';  // appended piece by piece: '"/" + string' trips GCC 12's -Wrestrict false positive (bug 105329)
    s += unqualified(path_.substr(0, dot));
    if (dot == std::string::npos) break;
    ++dot;
  }
  if (!sub.empty()) s.append("/").append(sub);
  return s;
}

template <ad::Scalar T>
std::string Emitter<T>::unique_node_name(const std::string& base) {
  std::string name = base;
  for (int k = 1; node_names_.count(name); ++k) name = fmt::format("{}_{}", base, k);
  node_names_.insert(name);
  return name;
}

template <ad::Scalar T>
std::vector<std::string> Emitter<T>::nodes_out(const std::string& op, const std::vector<std::string>& inputs, int outputs,
                                               const std::vector<onnx::AttributeProto>& attributes, const std::string& sub) {
  onnx::NodeProto& node = *graph_.add_node();
  node.set_op_type(op);
  node.set_name(unique_node_name(scope(sub) + "/" + op));
  for (const std::string& in : inputs) node.add_input(in);
  std::vector<std::string> names;
  for (int k = 0; k < outputs; ++k) {
    names.push_back(fmt::format("{}_output_{}", node.name(), k));
    node.add_output(names.back());
  }
  for (const onnx::AttributeProto& a : attributes) *node.add_attribute() = a;
  return names;
}

template <ad::Scalar T>
std::string Emitter<T>::parameter(const Parameter<T>& p) {
  const std::string name = path_ + "." + p.name;
  for (const onnx::TensorProto& t : graph_.initializer())
    if (t.name() == name) return name;
  onnx::TensorProto& t = *graph_.add_initializer();
  t.set_name(name);
  t.set_data_type(onnx_type<T>());
  for (int64_t d : p.value.shape().dims()) t.add_dims(d);
  set_raw(t, p.value.data(), p.value.numel());
  return name;
}

template <ad::Scalar T>
std::string Emitter<T>::int64s(const std::vector<int64_t>& values, const std::string& sub) {
  onnx::TensorProto t;
  t.set_data_type(onnx::TensorProto::INT64);
  t.add_dims(int64_t(values.size()));
  for (int64_t v : values) t.add_int64_data(v);
  onnx::AttributeProto a;
  a.set_name("value");
  a.set_type(onnx::AttributeProto::TENSOR);
  *a.mutable_t() = t;
  return node("Constant", {}, {a}, sub);
}

template <ad::Scalar T>
std::string Emitter<T>::int64_scalar(int64_t value, const std::string& sub) {
  onnx::TensorProto t;
  t.set_data_type(onnx::TensorProto::INT64);
  t.add_int64_data(value);
  onnx::AttributeProto a;
  a.set_name("value");
  a.set_type(onnx::AttributeProto::TENSOR);
  *a.mutable_t() = t;
  return node("Constant", {}, {a}, sub);
}

template <ad::Scalar T>
std::string Emitter<T>::scalar(double value, const std::string& sub) {
  onnx::TensorProto t;
  t.set_data_type(onnx_type<T>());
  const T v = static_cast<T>(value);
  set_raw(t, &v, 1);
  onnx::AttributeProto a;
  a.set_name("value");
  a.set_type(onnx::AttributeProto::TENSOR);
  *a.mutable_t() = t;
  return node("Constant", {}, {a}, sub);
}

template <ad::Scalar T>
std::string Emitter<T>::floating(const std::string& value) {
  if (!int64_values_.count(value)) return value;
  std::string& cast = casts_[value + "\n" + "float"];
  if (cast.empty()) cast = node("Cast", {value}, {attribute("to", int64_t(onnx_type<T>()))});
  return cast;
}

template <ad::Scalar T>
std::string Emitter<T>::int64(const std::string& value) {
  if (int64_values_.count(value)) return value;
  std::string& cast = casts_[value + "\n" + "int64"];
  if (cast.empty()) {
    cast = node("Cast", {value}, {attribute("to", int64_t(onnx::TensorProto::INT64))});
    int64_values_.insert(cast);
  }
  return cast;
}

template class Emitter<float>;
template class Emitter<double>;

}  // namespace integrad::nn::onnx_export
