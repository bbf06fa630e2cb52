#include "report_tabular.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "attribution/drawing/html.h"
#include "attribution/drawing/summary_plot.h"
#include "attribution/method.h"
#include "nn/model_file.h"
#include "nn/named_datasets.h"
#include "nn/synthetic_tabular.h"
#include "nn/train.h"

namespace integrad::cli {

namespace {

struct TabularMethod {
  std::string method, label;
  std::map<std::string, std::string> options;
};

const std::vector<TabularMethod>& tabular_methods() {
  static const std::vector<TabularMethod> methods = {
      {"ig", "Integrated Gradients (50 steps)", {{"steps", "50"}}},
      {"shapley", "Shapley values (exact, 128 coalitions)", {}},
      {"kernelshap", "KernelSHAP (64 coalitions)", {{"samples", "64"}, {"seed", "0"}}},
      {"shapley-sampling", "Shapley value sampling (25 permutations)", {{"samples", "25"}, {"seed", "0"}}},
      {"lime", "LIME (256 coalitions)", {{"samples", "256"}, {"seed", "0"}}},
      {"ablation", "Feature ablation", {}},
  };
  return methods;
}

}  // namespace

std::string tabular_section(const std::string& model_path, int64_t examples) {
  using T = double;
  fmt::print("report: tabular model\n");
  std::fflush(stdout);
  const nn::Model<T> model = nn::load_model<T>(model_path);
  const std::vector<std::string> names = nn::synthetic_tabular_names();
  if (model.feature_names != names)
    throw std::invalid_argument(fmt::format("--tabular-model {}: expected a model trained on synthetic-tabular (features {}); its features: {}", model_path,
                                            fmt::join(names, ", "), model.feature_names.empty() ? "none named" : fmt::format("{}", fmt::join(model.feature_names, ", "))));
  const nn::Dataset<T> test = nn::load_named<T>(nn::named_dataset("synthetic-tabular"), {.train = false, .limit = 2000});
  const double accuracy = nn::accuracy(model, test);
  const ad::Tensor<T> x = test.inputs.rows(0, std::min(examples, test.size()));
  const int64_t n = x.size(0), f = x.size(1);
  std::vector<attr::SummaryFeature> features;
  for (const auto& t : nn::synthetic_tabular_features()) features.push_back({t.name, t.role + (t.role == "linear" ? ", " + t.note : t.role == "duplicate" ? ", " + t.note : "")});
  const std::vector<double> values(x.data(), x.data() + x.numel());

  std::string html = fmt::format(
      "<section id=\"tabular\"><h2>A tabular model: SHAP-style summaries</h2><p>Model <code>{}</code>, test accuracy <b>{:.2f}%</b> on {} "
      "synthetic-tabular examples. The label is 1 when 1.5·a − b + 0.5·c + 1.5·d·e &gt; 0 (features N(0, 1)); <i>dummy</i> is ignored by the label and "
      "<i>linear_a_copy</i> equals <i>linear_a</i> in every example. Each method explains the logit of class 1 on {} test examples, baseline 0 "
      "(the features' mean). A faithful method gives the dummy nothing; a symmetric one gives the copy and its original equal shares only if the model "
      "uses them alike, which training does not promise. Bars are coloured by role: linear red, interaction orange, dummy grey, duplicate purple.</p>",
      attr::html_escape(model_path), 100 * accuracy, test.size(), n);
  std::string table = "<table><tr><th>method</th><th>dummy's share of Σ mean |A|</th><th>copy gap: Σ |A(a) − A(a_copy)| / Σ (|A(a)| + |A(a_copy)|)</th><th>mean |Σ A − (F(x) − F(0))|</th></tr>";
  std::string plots;
  for (const TabularMethod& tm : tabular_methods()) {
    const attr::Method<T>& m = attr::find_method<T>(tm.method);
    const attr::Attribution<T> a = attr::explain(m, model, x, attr::Baseline<T>::zero(), attr::Target<T>::of(1), attr::parse_options(m.name, m.options, tm.options));
    const std::vector<double> attributions(a.values.data(), a.values.data() + a.values.numel());
    std::vector<double> mean_abs(size_t(f), 0.0);
    double gap = 0, pair = 0, completeness = 0;
    for (int64_t i = 0; i < n; ++i) {
      double sum = 0;
      for (int64_t j = 0; j < f; ++j) {
        mean_abs[size_t(j)] += std::abs(attributions[size_t(i * f + j)]) / double(n);
        sum += attributions[size_t(i * f + j)];
      }
      gap += std::abs(attributions[size_t(i * f)] - attributions[size_t(i * f + 6)]);
      pair += std::abs(attributions[size_t(i * f)]) + std::abs(attributions[size_t(i * f + 6)]);
      if (!a.f_input.empty()) completeness += std::abs(sum - (a.f_input[size_t(i)] - (a.f_baseline.empty() ? 0.0 : a.f_baseline[size_t(i)]))) / double(n);
    }
    double total = 0;
    for (double v : mean_abs) total += v;
    table += fmt::format("<tr><td>{}</td><td>{:.3g}</td><td>{:.3g}</td><td>{}</td></tr>", attr::html_escape(tm.label), total > 0 ? mean_abs[5] / total : 0.0, pair > 0 ? gap / pair : 0.0,
                         a.f_baseline.empty() ? std::string("—") : fmt::format("{:.2g}", completeness));
    plots += fmt::format("<h3>{}</h3><div style=\"display:flex;flex-wrap:wrap;gap:1em\">{}{}</div>", attr::html_escape(tm.label),
                         attr::mean_abs_bar_svg(features, mean_abs, tm.label + ": mean |attribution|"),
                         attr::beeswarm_svg(features, attributions, values, n, tm.label + ": attribution per example"));
  }
  return html + table + "</table>" + plots + "</section>";
}

}  // namespace integrad::cli
