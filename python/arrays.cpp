#include "arrays.h"

#include <fmt/format.h>

#include <cstring>

namespace integrad::py_bind {

std::string dtype_name(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

std::string shape_text(const py::array& a) {
  std::string s = "[";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + "]";
}

py::array as_array(py::handle obj, const std::string& what) {
  if (obj.is_none()) throw py::value_error(what + " is None; expected a NumPy array");
  py::array a = py::array::ensure(obj);
  if (!a) {
    PyErr_Clear();
    throw py::value_error(what + ": cannot be converted to a NumPy array");
  }
  return a;
}

template <ad::Scalar T>
ad::Tensor<T> tensor_from(py::handle obj, const std::string& what, bool allow_int) {
  py::array a = as_array(obj, what);
  const char kind = a.dtype().kind();
  const bool ok = (kind == 'f' && (a.itemsize() == 4 || a.itemsize() == 8)) || (allow_int && (kind == 'i' || kind == 'u'));
  if (!ok)
    throw py::value_error(fmt::format("{} has dtype {}; integrad takes float32 or float64 arrays{}", what, dtype_name(a),
                                      allow_int ? " (or integer token ids)" : ""));
  if (a.ndim() > ad::Shape::kMaxRank) throw py::value_error(fmt::format("{} has {} dimensions; at most {}", what, a.ndim(), ad::Shape::kMaxRank));
  // Contiguous, native byte order, in T: a no-op for such an array, one NumPy copy otherwise.
  auto c = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(a);
  if (!c) throw py::error_already_set();
  std::vector<int64_t> dims(c.shape(), c.shape() + c.ndim());
  ad::Tensor<T> t{ad::Shape(dims)};
  if (t.numel()) std::memcpy(t.data(), c.data(), sizeof(T) * static_cast<size_t>(t.numel()));
  return t;
}

template <ad::Scalar T>
ad::Tensor<T> inputs_from(py::handle obj, const nn::Model<T>& model, const std::string& what) {
  if (model.input_count() > 1) throw py::value_error(fmt::format("{}: the model reads several inputs; pass a dict of arrays by input name", what));
  py::array a = as_array(obj, what);
  const ad::Shape& per = model.input_shape;
  bool fits = a.ndim() == per.rank() + 1;
  for (int i = 0; fits && i < per.rank(); ++i) fits = a.shape(i + 1) == per[i];
  const std::string per_text = per.str();
  if (!fits)
    throw py::value_error(fmt::format("{} has shape {}, the model expects [N, {}] (per example {})", what, shape_text(a),
                                      per_text.substr(1, per_text.size() - 2), per_text));
  if (a.shape(0) == 0) throw py::value_error(what + " holds no examples (shape " + shape_text(a) + ")");
  return tensor_from<T>(a, what, model.input_dtype == nn::InputDtype::int64);
}

std::vector<int64_t> labels_from(py::handle obj, int64_t n, const std::string& what) {
  py::array a = as_array(obj, what);
  const char kind = a.dtype().kind();
  if (kind != 'i' && kind != 'u') throw py::value_error(fmt::format("{} has dtype {}; class indices must be integers", what, dtype_name(a)));
  if (a.ndim() != 1 || a.shape(0) != n) throw py::value_error(fmt::format("{} has shape {}; expected [{}], one class per example", what, shape_text(a), n));
  auto c = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(a);
  if (!c) throw py::error_already_set();
  return {c.data(), c.data() + n};
}

template <ad::Scalar T>
py::array to_numpy(ad::Tensor<T>&& t) {
  auto* owned = new ad::Tensor<T>(std::move(t));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<ad::Tensor<T>*>(p); });
  std::vector<py::ssize_t> shape(owned->shape().dims().begin(), owned->shape().dims().end());
  return py::array_t<T>(shape, owned->data(), free_when_done);
}

py::array to_numpy(const std::vector<int64_t>& v) { return py::array_t<int64_t>(static_cast<py::ssize_t>(v.size()), v.data()); }
py::array to_numpy(const std::vector<double>& v) { return py::array_t<double>(static_cast<py::ssize_t>(v.size()), v.data()); }

template ad::Tensor<float> tensor_from<float>(py::handle, const std::string&, bool);
template ad::Tensor<double> tensor_from<double>(py::handle, const std::string&, bool);
template <ad::Scalar T>
attr::NamedTensors<T> named_inputs_from(py::handle x, const nn::Model<T>& net, const std::string& what) {
  attr::NamedTensors<T> out;
  for (auto item : py::reinterpret_borrow<py::dict>(x)) {
    std::string name = py::str(item.first);
    bool ids = false;
    for (size_t k = 0; k < net.input_count(); ++k)
      if (net.named_inputs.empty() ? name == "input" : net.named_inputs[k].name == name)
        ids = (net.named_inputs.empty() ? net.input_dtype : net.named_inputs[k].dtype) == nn::InputDtype::int64;
    out.emplace_back(name, tensor_from<T>(item.second, fmt::format("{}['{}']", what, name), ids));
  }
  if (net.input_count() == 1 && out.size() == 1) out[0].first = net.named_inputs.empty() ? "input" : net.named_inputs[0].name;
  attr::inputs_in_order(net, out, what);
  return out;
}

template attr::NamedTensors<float> named_inputs_from<float>(py::handle, const nn::Model<float>&, const std::string&);
template attr::NamedTensors<double> named_inputs_from<double>(py::handle, const nn::Model<double>&, const std::string&);
template ad::Tensor<float> inputs_from<float>(py::handle, const nn::Model<float>&, const std::string&);
template ad::Tensor<double> inputs_from<double>(py::handle, const nn::Model<double>&, const std::string&);
template py::array to_numpy<float>(ad::Tensor<float>&&);
template py::array to_numpy<double>(ad::Tensor<double>&&);

}  // namespace integrad::py_bind
