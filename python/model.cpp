// Model: load, save, predict, info, from_torch, state_dict — the CLI's load/predict/info/save
// with NumPy arrays. The GIL is released while integrad computes.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <pybind11/stl.h>

#include "arrays.h"
#include "errors.h"
#include "model.h"

#include "attribution/several_inputs.h"
#include "nn/model_file.h"
#include "nn/onnx/export.h"
#include "nn/onnx/read.h"
#include "nn/safetensors.h"

namespace integrad::py_bind {

bool is_float64(const std::string& dtype) {
  if (dtype == "float32") return false;
  if (dtype == "float64") return true;
  throw py::value_error("dtype must be 'float32' or 'float64', not '" + dtype + "'");
}

namespace {

// A Model of the file's precision (dtype None: float64 when every tensor is stored as F64).
template <ad::Scalar T>
Model model_of(const nn::SafetensorsFile& file, const std::string& path) {
  py::gil_scoped_release release;
  return Model{nn::model_from<T>(file, path, ""), {}};
}

bool all_f64(const nn::SafetensorsFile& file) {
  if (file.tensors.empty()) return false;
  for (const auto& [name, t] : file.tensors)
    if (t.dtype != "F64") return false;
  return true;
}

Model load(py::handle path_arg, const std::optional<std::string>& dtype) {
  const std::string path = path_argument(path_arg);
  require_file(path);
  if (nn::is_onnx_path(path)) {  // float64 when the file's input is, unless dtype says otherwise
    nn::Model<double> net;
    try {
      py::gil_scoped_release release;
      net = nn::load_onnx<double>(path);
    } catch (const std::runtime_error& e) {
      throw py::value_error(e.what());
    }
    Model m;
    if (dtype ? is_float64(*dtype) : net.input_dtype == nn::InputDtype::float64) m.net = std::move(net);
    else m.net = net.template to<float>();
    return m;
  }
  nn::SafetensorsFile file;
  {
    py::gil_scoped_release release;
    file = nn::safetensors_read(path);
  }
  const bool f64 = dtype ? is_float64(*dtype) : all_f64(file);
  Model m = f64 ? model_of<double>(file, path) : model_of<float>(file, path);
  if (file.metadata.count("training_curve")) {
    try {
      m.history = nn::parse_training_curve(file.metadata.at("training_curve"));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(path + ": metadata " + e.what());
    }
  }
  return m;
}

void save(const Model& m, py::handle path_arg, const std::optional<std::string>& dtype) {
  const std::string path = path_argument(path_arg);
  const std::string stored = dtype ? (is_float64(*dtype) ? "F64" : "F32") : (m.dtype() == "float64" ? "F64" : "F32");
  std::map<std::string, std::string> extra;
  if (!m.history.empty()) extra["training_curve"] = nn::training_curve_json(m.history);
  py::gil_scoped_release release;
  m.visit([&](const auto& net) { nn::save_model(path, net, stored, extra); });
}

// The model as ONNX (opset 17, the model's dtype), as `integrad export` writes it.
void export_onnx(const Model& m, py::handle path_arg) {
  const std::string path = path_argument(path_arg);
  if (!path.ends_with(".onnx")) throw py::value_error("export: '" + path + "' is not a .onnx path (an ONNX model is written to a .onnx file)");
  py::gil_scoped_release release;
  m.visit([&](const auto& net) { nn::export_onnx(net, path); });
}

py::array predict(const Model& m, py::handle x, int64_t batch_size) {
  if (batch_size < 1) throw py::value_error("batch_size must be at least 1");
  return m.visit([&](const auto& net) -> py::array {
    using T = scalar_of<decltype(net)>;
    ad::Tensor<T> out;
    if (py::isinstance<py::dict>(x)) {  // several inputs, by name
      attr::NamedTensors<T> named;
      for (auto item : py::reinterpret_borrow<py::dict>(x)) named.emplace_back(py::str(item.first), tensor_from<T>(item.second, "x", true));
      if (net.input_count() == 1 && named.size() == 1) named[0].first = net.named_inputs.empty() ? "input" : net.named_inputs[0].name;
      const std::vector<ad::Tensor<T>> xs = attr::inputs_in_order(net, named, "x");
      py::gil_scoped_release release;
      out = net.predict(std::span<const ad::Tensor<T>>(xs), batch_size);
      return to_numpy(std::move(out));
    }
    ad::Tensor<T> in = inputs_from<T>(x, net);
    {
      ReleaseAllowingStop release;  // Ctrl-C stops between layers
      out = net.predict(in, batch_size);
    }
    return to_numpy(std::move(out));
  });
}

py::tuple shape_tuple(const ad::Shape& s) {
  py::tuple t(s.rank());
  for (int i = 0; i < s.rank(); ++i) t[i] = s[i];
  return t;
}

}  // namespace

py::dict epoch_dict(const nn::EpochStats& e) {
  py::dict d;
  d["epoch"] = e.epoch;
  d["loss"] = e.loss;
  d["train_accuracy"] = e.train_accuracy;
  d["val_accuracy"] = e.val_accuracy < 0 ? py::object(py::none()) : py::object(py::float_(e.val_accuracy));
  d["seconds"] = e.seconds;
  d["skipped_batches"] = e.skipped_batches;
  return d;
}

namespace {

py::list history_list(const Model& m) {
  py::list l;
  for (const auto& e : m.history) l.append(epoch_dict(e));
  return l;
}

// What `integrad info` prints, as a dict.
py::dict info(const Model& m) {
  return m.visit([&](const auto& net) {
    py::dict d;
    d["architecture"] = net.architecture();
    d["input_shape"] = shape_tuple(net.input_shape);
    d["input_dtype"] = nn::input_dtype_name(net.input_dtype);
    py::dict inputs;  // by name, in order: (shape, dtype); a one-input model's is named "input"
    for (size_t k = 0; k < net.input_count(); ++k)
      inputs[py::str(net.named_inputs.empty() ? std::string("input") : net.named_inputs[k].name)] =
          py::make_tuple(shape_tuple(net.input_shape_of(k)), nn::input_dtype_name(net.named_inputs.empty() ? net.input_dtype : net.named_inputs[k].dtype));
    d["inputs"] = inputs;
    d["dtype"] = m.dtype();
    d["output_shape"] = shape_tuple(net.output_shape());
    d["parameters"] = net.parameter_count();
    py::list layers;
    const std::vector<ad::Shape> shapes = net.output_shapes();
    for (size_t i = 0; i < net.layers.size(); ++i) {
      const int64_t count = nn::trained_parameter_count(*net.layers[i]);
      py::dict l;
      l["index"] = i;
      l["name"] = net.node_name(i);  // what layer= takes
      py::list reads;
      for (int r : net.node_inputs(i)) reads.append(r < 0 ? std::string("input") : net.node_name(size_t(r)));
      l["reads"] = reads;
      l["layer"] = net.layers[i]->architecture();
      l["output_shape"] = shape_tuple(shapes[i]);
      l["parameters"] = count;
      layers.append(l);
    }
    d["layers"] = layers;
    d["training_curve"] = history_list(m);
    return d;
  });
}

// The table `integrad info` prints.
std::string info_text(const Model& m) {
  return m.visit([&](const auto& net) {
    std::string inputs = fmt::format("input {} ({})", net.input_shape.str(), nn::input_dtype_name(net.input_dtype));
    if (!net.named_inputs.empty()) {
      inputs = "inputs";
      for (const nn::ModelInput& in : net.named_inputs) inputs += fmt::format(" {} {} ({})", in.name, in.shape.str(), nn::input_dtype_name(in.dtype));
    }
    std::string s = fmt::format("integrad.Model ({})\n{}\n\n{:>3}  {:<34} {:<16} {:>10}\n", m.dtype(), inputs, "#", "layer", "output", "parameters");
    const std::vector<ad::Shape> shapes = net.output_shapes();
    for (size_t i = 0; i < net.layers.size(); ++i) {
      const int64_t count = nn::trained_parameter_count(*net.layers[i]);
      s += fmt::format("{:>3}  {:<34} {:<16} {:>10}\n", net.is_chain() ? std::to_string(i) : net.node_name(i), net.layers[i]->architecture(), shapes[i].str(), count);
    }
    return s + fmt::format("\ntotal parameters: {}", net.parameter_count());
  });
}

py::dict state_dict(const Model& m) {
  return m.visit([&](const auto& net) {
    py::dict d;
    for (const auto& [name, p] : net.named_parameters()) d[py::str(name)] = to_numpy(ad::Tensor(p->value));
    return d;
  });
}

// A tensor of a state_dict (NumPy array, or anything with .detach().cpu().numpy() such as a
// torch.Tensor) as safetensors bytes.
nn::RawTensor raw_tensor(const std::string& name, py::handle value) {
  py::object v = py::reinterpret_borrow<py::object>(value);
  if (py::hasattr(v, "detach") && py::hasattr(v, "cpu")) v = v.attr("detach")().attr("cpu")().attr("numpy")();
  const std::string what = "state_dict['" + name + "']";
  py::array a = as_array(v, what);
  if (a.dtype().kind() != 'f' || (a.itemsize() != 4 && a.itemsize() != 8))
    throw py::value_error(fmt::format("{} has dtype {}; expected float32 or float64", what, dtype_name(a)));
  if (a.ndim() > ad::Shape::kMaxRank) throw py::value_error(fmt::format("{} has {} dimensions; at most {}", what, a.ndim(), ad::Shape::kMaxRank));
  nn::RawTensor t;
  std::vector<int64_t> dims(a.shape(), a.shape() + a.ndim());
  t.shape = ad::Shape(dims);
  auto copy = [&](auto tag) {
    using U = decltype(tag);
    auto c = py::array_t<U, py::array::c_style | py::array::forcecast>::ensure(a);
    t.dtype = sizeof(U) == 8 ? "F64" : "F32";
    t.bytes.assign(reinterpret_cast<const char*>(c.data()), sizeof(U) * static_cast<size_t>(c.size()));  // little-endian hosts
  };
  if (a.itemsize() == 8) copy(double{});
  else copy(float{});
  return t;
}

// A PyTorch nn.Sequential's state_dict, checked against the architecture as a model file is
// (every tensor present, of the right shape, none left over); errors are ValueErrors.
// `inputs` (several named inputs, docs/inputs.md): {name: per-example shape}, in the forward's
// order; then input_shape is ignored and input_dtype is one for all or a dict by name.
Model from_torch(const py::dict& sd, const std::string& architecture, const std::vector<int64_t>& input_shape, py::handle input_dtype,
                 const std::optional<std::string>& dtype, py::handle inputs) {
  nn::SafetensorsFile file;
  file.metadata["architecture"] = architecture;
  file.metadata["input_shape"] = fmt::format("{}", fmt::join(input_shape, ","));
  file.metadata["input_dtype"] = py::isinstance<py::str>(input_dtype) ? input_dtype.cast<std::string>() : std::string("float32");
  if (!inputs.is_none()) {
    std::vector<std::string> names, shapes, dtypes;
    for (auto item : py::reinterpret_borrow<py::dict>(inputs)) {
      names.push_back(py::str(item.first));
      shapes.push_back(fmt::format("{}", fmt::join(item.second.cast<std::vector<int64_t>>(), ",")));
      dtypes.push_back(py::isinstance<py::dict>(input_dtype) ? (input_dtype.contains(item.first) ? input_dtype[item.first].cast<std::string>() : "float32")
                                                             : file.metadata["input_dtype"]);
    }
    file.metadata["input_names"] = fmt::format("{}", fmt::join(names, ","));
    file.metadata["input_shape"] = fmt::format("{}", fmt::join(shapes, ";"));
    file.metadata["input_dtype"] = fmt::format("{}", fmt::join(dtypes, ";"));
  }
  for (auto [k, v] : sd) {
    const std::string name = py::str(k);
    file.tensors[name] = raw_tensor(name, v);
  }
  const bool f64 = dtype ? is_float64(*dtype) : all_f64(file);
  try {
    return f64 ? model_of<double>(file, "state_dict") : model_of<float>(file, "state_dict");
  } catch (const std::runtime_error& e) {
    throw py::value_error(e.what());
  }
}

Model to_dtype(const Model& m, const std::string& dtype) {
  const bool f64 = is_float64(dtype);
  Model out;
  out.history = m.history;
  m.visit([&](const auto& net) {
    if (f64) out.net = net.template to<double>();
    else out.net = net.template to<float>();
  });
  return out;
}

}  // namespace

void bind_model(py::module_& m) {
  py::class_<Model>(m, "Model", "A torch.nn.Sequential-style model whose arithmetic runs in float32 or float64 (its dtype).")
      .def_static("from_torch", &from_torch, py::arg("state_dict"), py::arg("architecture"), py::arg("input_shape") = std::vector<int64_t>{}, py::arg("input_dtype") = "float32",
                  py::arg("dtype") = py::none(), py::arg("inputs") = py::none(),
                  "A model from a PyTorch nn.Sequential's state_dict (a dict of NumPy arrays or tensors), its architecture text, e.g.\n"
                  "'Conv2d(1, 16, 3, padding=1); ReLU(); Flatten(); Linear(12544, 10)', and the per-example input shape. dtype None:\n"
                  "float64 when every tensor is float64, else float32. Several inputs: inputs={name: shape, ...} in the forward's order\n"
                  "(the architecture's nodes read them by name) and input_dtype one for all or a dict by name.")
      .def("predict", &predict, py::arg("x"), py::arg("batch_size") = 256, "The model's outputs (logits) for inputs x [N, ...input_shape], in the model's dtype.")
      .def("save", &save, py::arg("path"), py::arg("dtype") = py::none(), "Writes a .safetensors model file (as integrad train does); dtype None: the model's.")
      .def("export", &export_onnx, py::arg("path"),
           "Writes the model as ONNX (opset 17) for onnxruntime and other runtimes, in the model's dtype: one input 'input' (or one\n"
           "per named input) with a dynamic batch, one output 'output', the state_dict as initializers (docs/onnx.md, \"Export\").")
      .def("info", &info, "Layers, output shapes and parameter counts (what integrad info prints), as a dict.")
      .def("state_dict", &state_dict, "The parameters as PyTorch names them ('0.weight', ...): a dict of NumPy arrays (copies).")
      .def("to", &to_dtype, py::arg("dtype"), "A copy of the model computing in dtype 'float32' or 'float64'.")
      .def_property_readonly("input_shape", [](const Model& s) { return s.visit([](const auto& n) { return shape_tuple(n.input_shape); }); })
      .def_property_readonly("output_shape", [](const Model& s) { return s.visit([](const auto& n) { return shape_tuple(n.output_shape()); }); })
      .def_property_readonly("input_dtype", [](const Model& s) { return s.visit([](const auto& n) { return nn::input_dtype_name(n.input_dtype); }); })
      .def_property_readonly("architecture", [](const Model& s) { return s.visit([](const auto& n) { return n.architecture(); }); })
      .def_property_readonly("dtype", &Model::dtype)
      .def_property_readonly("parameter_count", [](const Model& s) { return s.visit([](const auto& n) { return n.parameter_count(); }); })
      .def_property_readonly("history", &history_list, "One dict per epoch trained: epoch, loss, train_accuracy, val_accuracy, seconds, skipped_batches.")
      .def("__repr__", [](const Model& s) { return fmt::format("integrad.Model('{}', input_shape={}, dtype='{}')", s.visit([](const auto& n) { return n.architecture(); }),
                                                                py::repr(s.visit([](const auto& n) { return shape_tuple(n.input_shape); })).cast<std::string>(), s.dtype()); })
      .def("__str__", &info_text);
  m.def("load", &load, py::arg("path"), py::arg("dtype") = py::none(),
        "Loads a .safetensors model file. dtype None keeps the file's precision (float64 when every tensor is stored as F64);\n"
        "'float32' or 'float64' converts the weights, as the CLI's --dtype does.");
}

}  // namespace integrad::py_bind
