// integrad.axioms: the axiom matrix of a model on inputs (what `integrad axioms MODEL X` prints
// and writes as --json), as a dict {method: {axiom: {passed, applicable, figure, tolerance,
// detail, must_satisfy}}}. The rows come from the method registry (matrix_methods), not bound one by one.
#include <fmt/format.h>
#include <pybind11/stl.h>

#include <algorithm>

#include "arrays.h"
#include "attribution/evaluation/axiom_matrix.h"
#include "attribution/method.h"
#include "explain_args.h"
#include "errors.h"
#include "model.h"

namespace integrad::py_bind {
namespace {

template <ad::Scalar T>
py::dict axioms_typed(const nn::Model<T>& net, py::handle x, py::handle baseline, const std::optional<std::vector<std::string>>& methods,
                      int steps, py::handle twins) {
  if (steps < 1) throw py::value_error("steps must be at least 1");
  const ad::Tensor<T> in = inputs_from<T>(x, net);
  const ad::Tensor<T> base = baseline_from<T>(baseline).expand(in);
  attr::Twins<T> twin_models;
  if (!twins.is_none()) {
    // Checked here, in the user's words, rather than by pybind ("Unable to cast Python instance ...").
    if (!py::isinstance<py::dict>(twins)) throw py::type_error("twins must be a dict of name -> Model");
    for (auto item : py::reinterpret_borrow<py::dict>(twins)) {
      if (!py::isinstance<Model>(item.second))
        throw py::type_error("twins['" + py::str(item.first).cast<std::string>() + "'] must be a Model (integrad.load(...)), not " +
                             py::str(py::type::of(item.second).attr("__name__")).cast<std::string>());
      const Model& twin = item.second.cast<const Model&>();
      if (twin.visit([](const auto& t) { return t.input_shape; }) != net.input_shape || twin.visit([](const auto& t) { return t.output_shape(); }) != net.output_shape())
        throw py::value_error("twin '" + py::str(item.first).cast<std::string>() + "' takes or gives other shapes than the model: a twin computes the same function");
      if (twin.net.index() != (sizeof(T) == 8 ? 1 : 0)) throw py::value_error("twin '" + py::str(item.first).cast<std::string>() + "' has another dtype than the model");
      twin_models.emplace_back(py::str(item.first), std::get<nn::Model<T>>(twin.net).clone());
    }
  }
  std::vector<attr::MatrixRow> rows;
  {
    ReleaseAllowingStop release;  // Ctrl-C stops between passes
    auto all = attr::matrix_methods(net, {{"steps", std::to_string(steps)}});
    std::vector<attr::NamedMethod<T>> chosen;
    if (!methods) chosen = all;
    for (const auto& name : methods.value_or(std::vector<std::string>{})) {
      auto it = std::find_if(all.begin(), all.end(), [&](const auto& m) { return m.name == name; });
      if (it == all.end()) {
        std::string known;
        for (const auto& m : all) known += (known.empty() ? "" : ", ") + m.name;
        throw std::invalid_argument("unknown method '" + name + "' for this model (" + known + ")");
      }
      chosen.push_back(*it);
    }
    rows = attr::axiom_matrix(net, chosen, in, base, twin_models);
  }
  py::dict out;
  for (const auto& r : rows) {
    py::dict cells;
    for (const auto& c : r.checks) {
      py::dict d;
      d["passed"] = c.passed;
      d["applicable"] = c.applicable;
      d["figure"] = c.figure;
      d["tolerance"] = c.tolerance;
      d["detail"] = c.detail;
      d["must_satisfy"] = attr::must_satisfy(r, c.name);
      cells[py::str(c.name)] = d;
    }
    out[py::str(r.method)] = cells;
  }
  return out;
}

}  // namespace

void bind_axioms(py::module_& m) {
  m.def(
      "axioms",
      [](const Model& model, py::handle x, py::handle baseline, const std::optional<std::vector<std::string>>& methods, int steps, py::handle twins) {
        return model.visit([&](const auto& net) { return axioms_typed(net, x, baseline, methods, steps, twins); });
      },
      py::arg("model"), py::arg("x"), py::kw_only(), py::arg("baseline") = py::none(), py::arg("methods") = py::none(), py::arg("steps") = 50,
      py::arg("twins") = py::none(),
      "The axiom matrix (integrad axioms): {method: {axiom: {passed, applicable, figure, tolerance, detail, must_satisfy}}}.\n"
      "baseline None | number | array; methods: names to check (default all); twins: {name: Model} computing the same function.");
}

}  // namespace integrad::py_bind
