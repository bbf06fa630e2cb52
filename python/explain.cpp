// integrad.explain: attributions for a model's inputs, Captum-style — target None (the predicted
// class) | int | array of N ints, baseline None (zero) | float | array (one example's shape or
// [N, ...]), the method's options as keyword arguments. Returns a dict that
// integrad/__init__.py turns into an Explanation.
#include <fmt/format.h>
#include <pybind11/stl.h>

#include "arrays.h"
#include "attribution/methods/integrated_gradients.h"
#include "attribution/methods/quadrature.h"
#include "explain_args.h"
#include "model.h"

namespace integrad::py_bind {

template <ad::Scalar T>
attr::Target<T> target_from(py::handle target, int64_t n) {
  if (target.is_none()) return attr::Target<T>::predicted();
  const py::array a = as_array(target, "target");
  if (a.ndim() == 0) {  // a Python or NumPy integer
    const char kind = a.dtype().kind();
    if (kind != 'i' && kind != 'u') throw py::value_error(fmt::format("target is a {}; a class index must be an integer", dtype_name(a)));
    const auto k = py::int_(py::reinterpret_borrow<py::object>(target)).cast<int64_t>();
    if (k < 0) throw py::value_error(fmt::format("target {} is negative; a class index is 0 or more", k));
    return attr::Target<T>::of(k);
  }
  return attr::Target<T>::each(labels_from(target, n, "target"));
}

template <ad::Scalar T>
attr::Baseline<T> baseline_from(py::handle baseline) {
  if (baseline.is_none()) return attr::Baseline<T>::zero();
  if (py::isinstance<py::float_>(baseline) || py::isinstance<py::int_>(baseline)) return attr::Baseline<T>::constant(baseline.cast<T>());
  return attr::Baseline<T>::of(tensor_from<T>(baseline, "baseline"));
}

template <ad::Scalar T>
py::dict result_dict(attr::Attribution<T>&& a, const std::string& method) {
  py::dict d;
  d["method"] = method;
  d["attributions"] = to_numpy(std::move(a.values));
  d["delta"] = a.deltas.empty() ? py::object(py::none()) : py::object(to_numpy(a.deltas));
  d["targets"] = to_numpy(a.targets);
  d["f_input"] = to_numpy(a.f_input);
  d["f_baseline"] = a.f_baseline.empty() ? py::object(py::none()) : py::object(to_numpy(a.f_baseline));
  d["steps"] = a.steps.empty() ? py::object(py::none()) : py::object(py::cast(a.steps));
  return d;
}

template py::dict result_dict<float>(attr::Attribution<float>&&, const std::string&);
template py::dict result_dict<double>(attr::Attribution<double>&&, const std::string&);
template attr::Target<float> target_from<float>(py::handle, int64_t);
template attr::Target<double> target_from<double>(py::handle, int64_t);
template attr::Baseline<float> baseline_from<float>(py::handle);
template attr::Baseline<double> baseline_from<double>(py::handle);

namespace {

// Until the method registry (attribution/method.h) lands: IG only, with Captum's option names.
template <ad::Scalar T>
py::dict explain_typed(const nn::Sequential<T>& net, py::handle x, const std::string& method, py::handle target, py::handle baseline,
                       const py::kwargs& options) {
  if (method != "ig") throw py::value_error("unknown method '" + method + "' (ig)");
  if (net.input_dtype == nn::InputDtype::int64)
    throw py::value_error("token-id inputs have no gradient: attribute to the embedding's output (layer IG) instead");
  const ad::Tensor<T> in = inputs_from<T>(x, net);
  attr::IgOptions<T> o;
  o.baselines = {baseline_from<T>(baseline)};
  for (auto item : options) {
    const py::handle v = item.second;
    const std::string key = py::str(item.first);
    if (key == "steps") o.steps = v.cast<int>();
    else if (key == "quadrature") o.rule = attr::parse_rule(v.cast<std::string>());
    else if (key == "batch_size") o.batch_size = v.cast<int64_t>();
    else throw py::value_error("method 'ig' has no option '" + key + "' (steps, quadrature, batch_size)");
  }
  if (o.steps < 1) throw py::value_error("steps must be at least 1");
  const attr::Target<T> t = target_from<T>(target, in.size(0));
  attr::Attribution<T> a;
  {
    py::gil_scoped_release release;
    a = attr::integrated_gradients(attr::forward_of(net), in, t, o);
  }
  return result_dict(std::move(a), method);
}

py::dict explain(const Model& m, py::handle x, const std::string& method, py::handle target, py::handle baseline, const py::kwargs& options) {
  return m.visit([&](const auto& net) { return explain_typed(net, x, method, target, baseline, options); });
}

}  // namespace

void bind_explain(py::module_& m) {
  m.def("_explain", &explain, py::arg("model"), py::arg("x"), py::kw_only(), py::arg("method") = "ig", py::arg("target") = py::none(),
        py::arg("baseline") = py::none());
}

}  // namespace integrad::py_bind
