// integrad.explain: attributions for a model's inputs, Captum-style — target None (the predicted
// class) | int | array of N ints, baseline None (zero) | float | array (one example's shape or
// [N, ...]), the method's options as keyword arguments. Returns a dict that
// integrad/__init__.py turns into an Explanation.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "arrays.h"
#include "attribution/method.h"
#include "explain_args.h"
#include "errors.h"
#include "model.h"
#include "attribution/several_inputs.h"
#include "target_expression.h"

namespace integrad::py_bind {

template <ad::Scalar T>
attr::Target<T> target_from(py::handle target, int64_t n) {
  if (target.is_none()) return attr::Target<T>::predicted();
  if (is_target_expression(target)) return target_expression<T>(target);
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
  if (py::isinstance<py::float_>(baseline) || py::isinstance<py::int_>(baseline)) {
    // As the CLI's --baseline: a finite number in the model's precision (nan gave NaN attributions).
    const double v = baseline.cast<double>();
    if (!std::isfinite(v) || !std::isfinite(static_cast<T>(v)))
      throw py::value_error(fmt::format("baseline must be a finite number in the model's precision ({}); got {}", sizeof(T) == 8 ? "float64" : "float32", v));
    return attr::Baseline<T>::constant(static_cast<T>(v));
  }
  return attr::Baseline<T>::of(tensor_from<T>(baseline, "baseline"));
}

template <ad::Scalar T>
py::dict result_dict(attr::Attribution<T>&& a, const std::string& method) {
  py::dict d;
  d["method"] = method;
  d["attributions"] = to_numpy(std::move(a.values));
  d["delta"] = a.deltas.empty() ? py::object(py::none()) : py::object(to_numpy(a.deltas));
  d["token_values"] = a.token_values.numel() ? py::object(to_numpy(std::move(a.token_values))) : py::object(py::none());
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

// A keyword argument as the registry's option text: steps=100 -> {"steps", "100"},
// batch_size=64 -> {"batch-size", "64"}, token_norm=True -> {"token-norm", "true"}. Floats as
// Python's repr, which reads back to the same double.
std::map<std::string, std::string> option_texts(const py::kwargs& options) {
  std::map<std::string, std::string> given;
  for (auto item : options) {
    std::string name = py::str(item.first);
    std::replace(name.begin(), name.end(), '_', '-');
    const py::handle v = item.second;
    if (v.is_none()) continue;  // unset, as if not given
    if (py::isinstance<py::bool_>(v)) given[name] = v.cast<bool>() ? "true" : "false";
    else if (py::isinstance<py::str>(v)) given[name] = v.cast<std::string>();
    else given[name] = py::repr(v).cast<std::string>();
  }
  return given;
}

namespace {

// A model of several inputs (or x a dict): attributions as a dict by input name.
template <ad::Scalar T>
py::dict explain_named(const nn::Model<T>& net, const attr::Method<T>& method, const attr::Options& options, py::handle x, py::handle target,
                       py::handle baseline, py::handle attribute_to) {
  if (!py::isinstance<py::dict>(x)) {
    std::vector<std::string> names;
    for (const nn::ModelInput& in : net.named_inputs) names.push_back(in.name);
    throw py::value_error(fmt::format("the model reads several inputs ({}): x must be a dict of arrays by those names", fmt::join(names, ", ")));
  }
  const attr::NamedTensors<T> inputs = named_inputs_from(x, net);
  std::vector<std::string> to;
  if (py::isinstance<py::str>(attribute_to)) to.push_back(attribute_to.cast<std::string>());
  else if (!attribute_to.is_none())
    for (py::handle name : attribute_to) to.push_back(py::str(name));
  const std::vector<size_t> explained = attr::explained_inputs(net, to);
  std::map<std::string, attr::Baseline<T>> baselines;
  const auto name_of = [&](size_t k) { return net.named_inputs.empty() ? std::string("input") : net.named_inputs[k].name; };
  if (py::isinstance<py::dict>(baseline)) {
    for (auto item : py::reinterpret_borrow<py::dict>(baseline)) baselines[py::str(item.first)] = baseline_from<T>(item.second);
  } else if (!baseline.is_none()) {
    const attr::Baseline<T> b = baseline_from<T>(baseline);
    if (b.kind == attr::Baseline<T>::Kind::tensor && explained.size() != 1)
      throw py::value_error(fmt::format("baseline: one array for {} explained inputs; give a dict of arrays by input name", explained.size()));
    for (size_t k : explained) baselines[name_of(k)] = b;
  }
  const attr::Target<T> t = target_from<T>(target, inputs[0].second.size(0));
  attr::InputsAttribution<T> r;
  {
    ReleaseAllowingStop release;
    r = attr::explain_inputs(method, net, inputs, to, baselines, t, options);
  }
  if (!method.has_delta) r.packed.deltas.clear();
  for (const auto& w : r.packed.warnings)
    if (PyErr_WarnEx(PyExc_UserWarning, w.c_str(), 1) != 0) throw py::error_already_set();
  py::dict values;
  for (auto& [name, v] : r.values) values[py::str(name)] = to_numpy(std::move(v));
  py::dict d = result_dict(std::move(r.packed), method.name);
  d["attributions"] = values;
  return d;
}

// Any registered method, its options checked by the registry's own parser — as integrad explain.
template <ad::Scalar T>
py::dict explain_typed(const nn::Model<T>& net, py::handle x, const std::string& method_name, py::handle target, py::handle baseline,
                       py::handle attribute_to, const py::kwargs& kwargs) {
  const attr::Method<T>& method = attr::find_method<T>(method_name);
  const attr::Options options = attr::parse_options(method.name, method.options, option_texts(kwargs));
  if (!baseline.is_none() && !method.uses_baseline) throw py::value_error(fmt::format("baseline: {} uses no baseline", method.name));
  if (net.input_count() > 1 || py::isinstance<py::dict>(x)) return explain_named(net, method, options, x, target, baseline, attribute_to);
  if (!attribute_to.is_none()) throw py::value_error("attribute_to: the model reads one input");
  const ad::Tensor<T> in = inputs_from<T>(x, net);
  const attr::Target<T> t = target_from<T>(target, in.size(0));
  const attr::Baseline<T> b = baseline_from<T>(baseline);
  attr::Attribution<T> a;
  {
    ReleaseAllowingStop release;  // Ctrl-C stops between passes
    a = attr::explain(method, net, in, b, t, options);
  }
  if (!method.has_delta) a.deltas.clear();
  for (const auto& w : a.warnings)
    if (PyErr_WarnEx(PyExc_UserWarning, w.c_str(), 1) != 0) throw py::error_already_set();
  return result_dict(std::move(a), method.name);
}

py::dict explain(const Model& m, py::handle x, const std::string& method, py::handle target, py::handle baseline, py::handle attribute_to,
                 const py::kwargs& options) {
  return m.visit([&](const auto& net) { return explain_typed(net, x, method, target, baseline, attribute_to, options); });
}

}  // namespace

const char* kind_name(attr::OptionSpec::Kind k) {
  switch (k) {
    case attr::OptionSpec::Kind::integer: return "int";
    case attr::OptionSpec::Kind::real: return "float";
    case attr::OptionSpec::Kind::choice: return "str";
    default: return "bool";
  }
}

py::list option_list(const std::vector<attr::OptionSpec>& options) {
  py::list opts;
  for (const auto& o : options) {
    std::string keyword = o.name;
    std::replace(keyword.begin(), keyword.end(), '-', '_');
    py::dict od;
    od["name"] = keyword;
    od["type"] = kind_name(o.kind);
    od["default"] = o.default_value.empty() ? py::object(py::none()) : py::object(py::str(o.default_value));
    od["help"] = o.help;
    if (o.kind == attr::OptionSpec::Kind::integer || o.kind == attr::OptionSpec::Kind::real) {
      od["min"] = o.min;
      od["max"] = o.max;
    }
    if (!o.choices.empty()) od["choices"] = o.choices;
    opts.append(od);
  }
  return opts;
}

namespace {

// The registry as Python sees it: one dict per method, its options under their keyword names.
py::list methods() {
  py::list out;
  for (const auto& m : attr::registry<double>()) {
    py::dict d;
    d["name"] = m.name;
    d["display_name"] = m.display_name;
    d["summary"] = m.summary;
    d["signed"] = m.is_signed;
    d["uses_baseline"] = m.uses_baseline;
    d["has_delta"] = m.has_delta;
    d["takes_token_ids"] = m.takes_token_ids;
    d["guarantees"] = m.guarantees;
    d["options"] = option_list(m.options);
    out.append(d);
  }
  return out;
}

}  // namespace

void bind_explain(py::module_& m) {
  m.def("_explain", &explain, py::arg("model"), py::arg("x"), py::kw_only(), py::arg("method") = "ig", py::arg("target") = py::none(),
        py::arg("baseline") = py::none(), py::arg("attribute_to") = py::none());
  m.def("methods", &methods,
        "The attribution methods explain knows (the registry): name, display_name, summary, signed, uses_baseline, has_delta,\n"
        "takes_token_ids, guarantees, and options (name as a keyword argument, type, default, help, min/max or choices).");
}

}  // namespace integrad::py_bind
