// integrad.evaluate: scores of attribution maps by any metric of the metric registry
// (attribution/metric.h), options as keyword arguments checked by the registry's option parser;
// integrad.metrics() lists them. No binding code per metric.
#include <fmt/format.h>
#include <pybind11/stl.h>

#include <algorithm>

#include "arrays.h"
#include "attribution/evaluation/deletion.h"
#include "attribution/metric.h"
#include "explain_args.h"
#include "errors.h"
#include "model.h"

namespace integrad::py_bind {
namespace {

template <ad::Scalar T>
py::dict evaluate_typed(const nn::Model<T>& net, py::handle x, py::handle attributions, const std::string& metric_name, py::handle target,
                        py::handle baseline, const py::kwargs& kwargs) {
  const attr::Metric<T>& metric = attr::find_metric<T>(metric_name);
  const attr::Options options = attr::parse_options(metric.name, metric.options, option_texts(kwargs));
  const ad::Tensor<T> in = inputs_from<T>(x, net);
  const ad::Tensor<T> a = tensor_from<T>(attributions, "attributions");
  if (a.rank() < 1 || a.size(0) != in.size(0))
    throw py::value_error(fmt::format("attributions have shape {}; expected one map per example of x ({})", a.shape().str(), in.size(0)));
  const attr::Target<T> requested = target_from<T>(target, in.size(0));
  const attr::Baseline<T> b = baseline_from<T>(baseline);
  std::vector<double> scores;
  std::vector<std::vector<double>> curves;
  {
    ReleaseAllowingStop release;  // Ctrl-C stops between passes
    const attr::Forward<T> f = attr::forward_of(net);
    const std::vector<int64_t> classes = attr::resolve_targets(f, in, requested);  // a metric scores the resolved target
    const attr::Target<T> resolved = classes.empty() ? requested : attr::Target<T>::each(classes);
    const attr::MetricCall<T> call{net, in, a, b, resolved, options};
    scores = metric.score(call);
    // The curves behind deletion's and insertion's areas, for plotting them (one forward pass more).
    if (metric.name == "deletion" || metric.name == "insertion")
      curves = attr::perturbation_curves(call, metric.name == "deletion" ? attr::CurveKind::deletion : attr::CurveKind::insertion);
  }
  py::dict d;
  d["metric"] = metric.name;
  d["higher_is_better"] = metric.higher_is_better;
  d["scores"] = to_numpy(scores);
  double sum = 0;
  for (double s : scores) sum += s;
  d["mean"] = scores.empty() ? 0.0 : sum / double(scores.size());
  if (!curves.empty()) {
    const int64_t points = int64_t(curves.front().size());
    ad::Tensor<double> c(ad::Shape{int64_t(curves.size()), points});
    for (size_t i = 0; i < curves.size(); ++i) std::copy(curves[i].begin(), curves[i].end(), c.data() + int64_t(i) * points);
    d["curves"] = to_numpy(std::move(c));
  }
  return d;
}

py::list metrics() {
  py::list out;
  for (const auto& m : attr::metric_registry<double>()) {
    py::dict d;
    d["name"] = m.name;
    d["summary"] = m.summary;
    d["higher_is_better"] = m.higher_is_better;
    d["options"] = option_list(m.options);
    out.append(d);
  }
  return out;
}

}  // namespace

void bind_evaluate(py::module_& m) {
  m.def(
      "_evaluate",
      [](const Model& model, py::handle x, py::handle attributions, const std::string& metric, py::handle target, py::handle baseline,
         const py::kwargs& options) {
        return model.visit([&](const auto& net) { return evaluate_typed(net, x, attributions, metric, target, baseline, options); });
      },
      py::arg("model"), py::arg("x"), py::arg("attributions"), py::kw_only(), py::arg("metric"), py::arg("target") = py::none(),
      py::arg("baseline") = py::none());
  m.def("metrics", &metrics, "The metrics evaluate knows (the metric registry): name, summary, higher_is_better, options.");
}

}  // namespace integrad::py_bind
