#include "nn/model_file.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>
#include <sstream>
#include <stdexcept>

#include "nn/atomic_file.h"
#include "nn/onnx/export.h"
#include "nn/onnx/read.h"
#include "nn/onnx/write_back.h"

#include "nn/architecture.h"
#include "nn/printable.h"
#include "nn/safetensors.h"

namespace integrad::nn {

std::string input_dtype_name(InputDtype d) {
  switch (d) {
    case InputDtype::float32: return "float32";
    case InputDtype::float64: return "float64";
    default: return "int64";
  }
}

InputDtype parse_input_dtype(const std::string& name) {
  if (name == "float32" || name.empty()) return InputDtype::float32;
  if (name == "float64") return InputDtype::float64;
  if (name == "int64") return InputDtype::int64;
  throw std::invalid_argument("input_dtype '" + name + "' (expected float32, float64 or int64)");
}

namespace {
ad::Shape parse_shape(const std::string& text, const std::string& path) {
  std::vector<int64_t> dims;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(start, end - start);
    size_t used = 0;
    int64_t d = -1;
    try {
      d = std::stoll(item, &used);
    } catch (const std::exception&) {
    }
    while (used < item.size() && item[used] == ' ') ++used;
    if (d < 1 || d > (int64_t(1) << 24) || used != item.size()) throw std::runtime_error(printable(path) + ": metadata input_shape '" + printable(text) + "' is not a list of positive integers");
    dims.push_back(d);
    start = end + 1;
  }
  if (dims.empty() || dims.size() > 5) throw std::runtime_error(printable(path) + ": metadata input_shape '" + printable(text) + "' must have 1 to 5 dimensions");
  return ad::Shape(dims);
}
// Several named inputs (docs/engine.md): input_names "num,cat", input_shape one shape per input
// separated by ';' ("5;3"), input_dtype one for all or one per input ("float32;int64").
std::vector<ModelInput> parse_named_inputs(const std::string& names_text, const std::string& shapes_text, const std::string& dtypes_text, const std::string& path) {
  const auto split = [](const std::string& text, char sep) {
    std::vector<std::string> parts;
    std::stringstream in(text);
    for (std::string part; std::getline(in, part, sep);) parts.push_back(part);
    if (!text.empty() && text.back() == sep) parts.push_back("");
    return parts;
  };
  const std::vector<std::string> names = split(names_text, ','), shapes = split(shapes_text, ';'), dtypes = split(dtypes_text, ';');
  if (names.empty() || names.size() > 64) throw std::runtime_error(printable(path) + ": metadata input_names must name 1 to 64 inputs");
  if (shapes.size() != names.size())
    throw std::runtime_error(fmt::format("{}: metadata input_names names {} inputs, input_shape gives {} shapes (separate them by ';')", printable(path), names.size(), shapes.size()));
  if (dtypes.size() != 1 && dtypes.size() != names.size())
    throw std::runtime_error(fmt::format("{}: metadata input_dtype gives {} dtypes for {} inputs (one for all, or one per input separated by ';')", printable(path), dtypes.size(),
                                         names.size()));
  std::vector<ModelInput> inputs;
  for (size_t k = 0; k < names.size(); ++k) {
    if (names[k].empty()) throw std::runtime_error(printable(path) + ": metadata input_names has an empty name");
    try {
      inputs.push_back({names[k], parse_shape(shapes[k], path), parse_input_dtype(dtypes[dtypes.size() == 1 ? 0 : k])});
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(fmt::format("{}: metadata {}", printable(path), printable(e.what())));
    }
  }
  return inputs;
}

}  // namespace

std::map<std::string, std::string> model_metadata(const std::string& path) {
  if (is_onnx_path(path)) return {};  // an ONNX file carries no integrad metadata
  return safetensors_read(path).metadata;
}

template <ad::Scalar T>
Model<T> model_from(const SafetensorsFile& file, const std::string& path, const std::string& prefix) {
  auto meta = [&](const std::string& key) -> std::string {
    auto it = file.metadata.find(key);
    if (it == file.metadata.end()) throw std::runtime_error(printable(path) + ": __metadata__ has no '" + key + "' (see interfaces: architecture, input_shape, input_dtype)");
    return it->second;
  };
  const std::string dtype_text = file.metadata.count("input_dtype") ? file.metadata.at("input_dtype") : "float32";
  Model<T> model;
  try {
    if (const auto names = file.metadata.find("input_names"); names != file.metadata.end())
      model = parse_architecture<T>(meta("architecture"), parse_named_inputs(names->second, meta("input_shape"), dtype_text, path), 0);
    else
      model = parse_architecture<T>(meta("architecture"), parse_shape(meta("input_shape"), path), parse_input_dtype(dtype_text), 0);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(printable(path) + ": " + printable(e.what()));  // the architecture text comes from the file
  }
  if (const auto it = file.metadata.find("feature_names"); it != file.metadata.end()) {
    // Comma-separated, one per input feature of a flat input (a tabular model); a mismatch is refused.
    std::stringstream in(it->second);
    for (std::string name; std::getline(in, name, ',');) model.feature_names.push_back(name);
    if (model.input_shape.rank() != 1 || int64_t(model.feature_names.size()) != model.input_shape.numel())
      throw std::runtime_error(fmt::format("{}: metadata feature_names holds {} names for inputs of shape {} (expected one per feature of a flat input)", printable(path),
                                           model.feature_names.size(), model.input_shape.str()));
  }
  if (const auto it = file.metadata.find("output"); it != file.metadata.end()) {
    if (it->second != "logits" && it->second != "binary-logit" && it->second != "regression")
      throw std::runtime_error(fmt::format("{}: metadata output is '{}'; expected logits, binary-logit or regression", printable(path), printable(it->second)));
    model.output_kind = it->second;
  }
  std::set<std::string> expected;
  for (auto& [short_name, p] : model.named_parameters()) {
    const std::string name = prefix + short_name;
    expected.insert(name);
    if (!file.tensors.count(name)) throw std::runtime_error(fmt::format("{}: tensor '{}' missing; the architecture needs it with shape {}", printable(path), printable(name), p->value.shape().str()));
    ad::Tensor<T> value = safetensors_tensor<T>(file, name, path);
    if (value.shape() != p->value.shape())
      throw std::runtime_error(fmt::format("{}: tensor '{}' has shape {}, the architecture needs {}", printable(path), printable(name), value.shape().str(), p->value.shape().str()));
    p->value = std::move(value);
  }
  for (const auto& [name, t] : file.tensors)
    if (name.starts_with(prefix) && !expected.count(name)) throw std::runtime_error(fmt::format("{}: tensor '{}' (shape {}) belongs to no layer of the architecture", printable(path), printable(name), t.shape.str()));
  return model;
}

template <ad::Scalar T>
Model<T> load_model(const std::string& path) {
  if (is_onnx_path(path)) return load_onnx<T>(path);
  return model_from<T>(safetensors_read(path), path, "");
}

template <ad::Scalar T>
std::vector<std::pair<std::string, const ad::Tensor<T>*>> model_tensors(const Model<T>& model, std::map<std::string, std::string>& metadata,
                                                                       const std::string& prefix) {
  metadata["architecture"] = model.architecture();
  metadata["input_shape"] = fmt::format("{}", fmt::join(model.input_shape.dims(), ","));
  metadata["input_dtype"] = input_dtype_name(model.input_dtype);
  if (!model.named_inputs.empty()) {
    std::vector<std::string> names, shapes, dtypes;
    for (const ModelInput& in : model.named_inputs) {
      names.push_back(in.name);
      shapes.push_back(fmt::format("{}", fmt::join(in.shape.dims(), ",")));
      dtypes.push_back(input_dtype_name(in.dtype));
    }
    metadata["input_names"] = fmt::format("{}", fmt::join(names, ","));
    metadata["input_shape"] = fmt::format("{}", fmt::join(shapes, ";"));
    metadata["input_dtype"] = fmt::format("{}", fmt::join(dtypes, ";"));
  }
  metadata["format"] = "pt";
  if (!model.feature_names.empty()) metadata["feature_names"] = fmt::format("{}", fmt::join(model.feature_names, ","));
  if (!model.output_kind.empty()) metadata["output"] = model.output_kind;
  std::vector<std::pair<std::string, const ad::Tensor<T>*>> tensors;
  for (auto& [name, p] : model.named_parameters()) tensors.emplace_back(prefix + name, &p->value);
  return tensors;
}

template <ad::Scalar T>
void save_model(const std::string& path, const Model<T>& model, const std::string& dtype, std::map<std::string, std::string> metadata) {
  if (is_onnx_path(path)) {
    // A model read from ONNX goes back into its own graph; any other is exported (opset 17), in the
    // model's own precision. The extra metadata (a training curve) has no place in either.
    write_file_atomically(path, read_from_onnx(model) ? onnx_written_back(model) : onnx_model_bytes(model));
    return;
  }
  safetensors_write(path, model_tensors(model, metadata, ""), metadata, dtype);
}

template Model<float> model_from<float>(const SafetensorsFile&, const std::string&, const std::string&);
template Model<double> model_from<double>(const SafetensorsFile&, const std::string&, const std::string&);
template std::vector<std::pair<std::string, const ad::Tensor<float>*>> model_tensors<float>(const Model<float>&, std::map<std::string, std::string>&,
                                                                                            const std::string&);
template std::vector<std::pair<std::string, const ad::Tensor<double>*>> model_tensors<double>(const Model<double>&, std::map<std::string, std::string>&,
                                                                                              const std::string&);
template Model<float> load_model<float>(const std::string&);
template Model<double> load_model<double>(const std::string&);
template void save_model<float>(const std::string&, const Model<float>&, const std::string&, std::map<std::string, std::string>);
template void save_model<double>(const std::string&, const Model<double>&, const std::string&, std::map<std::string, std::string>);

}  // namespace integrad::nn
