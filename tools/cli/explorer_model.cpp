// The explorer's adapter onto models (nn::Model) and the method registry (attr::registry).
#include "explorer_model.h"
#include "several_inputs.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "attribution/drawing/axiom_table.h"
#include "attribution/evaluation/axiom_matrix.h"
#include "attribution/evaluation/deletion.h"
#include "attribution/method.h"
#include "attribution/methods/quadrature.h"
#include "nn/model_file.h"

namespace integrad::cli::explorer {

using json = nlohmann::json;

LoadedModel load_model(const std::string& path) {
  LoadedModel m{std::filesystem::path(path).filename().string(), nn::load_model<float>(path)};
  refuse_several_inputs(m.model, path, "serve");
  const ad::Shape& s = m.model.input_shape;
  if (m.model.input_dtype == nn::InputDtype::int64) m.kind = InputKind::tokens;
  else if (s.rank() == 3 && (s[0] == 1 || s[0] == 3)) m.kind = InputKind::image;
  else if (s.rank() == 1) m.kind = InputKind::tabular;
  // The number of classes: one forward pass of a zero example.
  m.num_classes = m.model.predict(ad::Tensor<float>(nn::with_batch(1, s))).size(1);
  return m;
}

namespace {

// One entry per node, and after the last node of each module that holds several (a scope such as
// `layer1` or `layer1.0`), an entry for that module: Model::node_index resolves it to that node.
json layers_json(const LoadedModel& m) {
  const nn::Model<float>& model = m.model;
  const std::vector<ad::Shape> shapes = model.output_shapes();
  const auto modules = model.modules();
  json out = json::array();
  const auto entry = [&](const std::string& name, size_t i, bool module) {
    out.push_back({{"name", name}, {"layer", module ? std::string("module") : model.layers[i]->architecture()}, {"node", i},
                   {"output_shape", shapes[i].vec()}, {"image", shapes[i].rank() == 3}, {"module", module}});
  };
  auto next_module = modules.begin();
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const bool batch_first = !model.batch_elsewhere.count(model.node_name(i));  // what --layer takes
    if (batch_first) entry(model.node_name(i), i, false);
    for (; next_module != modules.end() && next_module->second == i; ++next_module)
      if (batch_first) entry(next_module->first, i, true);
  }
  return out;
}

}  // namespace

json describe(const LoadedModel& m) {
  static const char* kinds[] = {"image", "tabular", "tokens", "other"};
  return {{"label", m.label},
          {"kind", kinds[static_cast<int>(m.kind)]},
          {"input_shape", m.model.input_shape.vec()},
          {"num_classes", m.num_classes},
          {"feature_names", m.model.feature_names},
          {"layers", layers_json(m)}};
}

std::vector<std::string> layer_names(const LoadedModel& m) {
  std::vector<std::string> out;
  for (const json& l : layers_json(m)) out.push_back(l.at("name").get<std::string>());
  return out;
}

json methods_json() {
  static const char* kinds[] = {"integer", "real", "choice", "flag", "text"};
  json all = json::array();
  for (const auto& m : attr::registry<float>()) {
    json options = json::array();
    std::vector<attr::OptionSpec> specs = m.options;
    specs.push_back(attr::batch_size_option());
    for (const auto& o : specs) {
      json spec = {{"name", o.name}, {"kind", kinds[static_cast<int>(o.kind)]}, {"default", o.default_value}, {"help", o.help}, {"choices", o.choices}};
      if (std::isfinite(o.min)) spec["min"] = o.min;
      if (std::isfinite(o.max)) spec["max"] = o.max;
      options.push_back(std::move(spec));
    }
    all.push_back({{"name", m.name},
                   {"display_name", m.display_name},
                   {"summary", m.summary},
                   {"signed", m.is_signed},
                   {"uses_baseline", m.uses_baseline},
                   {"has_delta", m.has_delta},
                   {"takes_token_ids", m.takes_token_ids},
                   {"guarantees", m.guarantees},
                   {"options", std::move(options)}});
  }
  return all;
}

std::vector<double> probabilities(const LoadedModel& m, const ad::Tensor<float>& x) {
  const ad::Tensor<float> logits = m.model.predict(x);
  std::vector<double> p(static_cast<size_t>(logits.size(1)));
  double top = -INFINITY, sum = 0;
  for (size_t k = 0; k < p.size(); ++k) top = std::max(top, double(logits[int64_t(k)]));
  for (size_t k = 0; k < p.size(); ++k) sum += p[k] = std::exp(double(logits[int64_t(k)]) - top);
  for (double& v : p) v /= sum;
  return p;
}

attr::Attribution<float> explain(const LoadedModel& m, const ad::Tensor<float>& x, const ExplainRequest& r, const std::function<void(double)>& progress) {
  const attr::Method<float>& method = attr::find_method<float>(r.method);
  const attr::Options options = attr::parse_options(method.name, method.options, r.options);
  return attr::explain(method, m.model, x, r.baseline, r.target, options, 0, 0, progress);
}

json curves(const LoadedModel& m, const ad::Tensor<float>& x, const ad::Tensor<float>& map, const attr::Baseline<float>& baseline, int64_t cls) {
  json out;
  for (auto [name, kind] : {std::pair{"deletion", attr::CurveKind::deletion}, std::pair{"insertion", attr::CurveKind::insertion}}) {
    const auto p = attr::perturbation_curves(m.model, x, map, baseline, {cls}, 20, kind);
    out[name] = {{"p", p[0]}, {"area", attr::curve_area(p[0])}};
  }
  return out;
}

json ig_convergence(const LoadedModel& m, const ad::Tensor<float>& x, const ExplainRequest& r, int max_steps, const std::function<void(double)>& progress) {
  static const char* rules[] = {"gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid"};
  std::vector<int> steps;
  for (int n = 2; n <= max_steps; n *= 2) steps.push_back(n);
  double total = 0, done = 0;
  for (int n : steps) total += 5.0 * n;
  json out = json::array();
  for (const char* rule : rules) {
    json points = json::array();
    for (int n : steps) {
      ExplainRequest q = r;
      q.method = "ig";
      q.options["steps"] = std::to_string(n);
      q.options["quadrature"] = rule;
      const auto a = explain(m, x, q, [&](double f) { if (progress) progress((done + f * n) / total); });
      done += n;
      points.push_back({{"steps", n}, {"delta", std::abs(a.deltas.at(0))}, {"f_input", a.f_input.at(0)}, {"f_baseline", a.f_baseline.at(0)}});
    }
    out.push_back({{"rule", rule}, {"points", std::move(points)}});
  }
  return out;
}

json axioms(const LoadedModel& m, const ad::Tensor<float>& x, const std::vector<ExplainRequest>& methods) {
  if (m.kind == InputKind::tokens)
    throw std::invalid_argument(m.label + " reads token ids: the axiom checks perturb and differentiate the inputs, which token ids have not");
  json out = json::array();
  for (const ExplainRequest& r : methods) {
    std::map<std::string, std::string> overrides = r.options;
    std::string row = r.method;
    if (r.method == "ig") {
      row = "ig_" + (overrides.count("quadrature") ? overrides["quadrature"] : std::string("gausslegendre"));
      overrides.erase("quadrature");
    }
    auto all = attr::matrix_methods(m.model, overrides);
    std::vector<attr::NamedMethod<float>> chosen;
    for (auto& nm : all)
      if (nm.name == row) chosen.push_back(nm);
    if (chosen.empty()) throw std::invalid_argument(fmt::format("{} has no row in the axiom table for {}", r.method, m.label));
    const ad::Tensor<float> b = r.baseline.expand(x);
    const json rows = json::parse(attr::matrix_json(attr::axiom_matrix(m.model, chosen, x, b, {})));
    for (const auto& rj : rows) out.push_back(rj);
  }
  return out;
}

}  // namespace integrad::cli::explorer
