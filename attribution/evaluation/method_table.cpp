#include "attribution/evaluation/method_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "attribution/evaluation/deletion.h"

namespace integrad::attr {

ScoreSummary summarise(const std::vector<double>& v) {
  ScoreSummary s;
  if (v.empty()) return s;
  for (double x : v) s.mean += x;
  s.mean /= double(v.size());
  if (v.size() > 1) {
    double ss = 0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.standard_error = std::sqrt(ss / double(v.size() - 1) / double(v.size()));
  }
  return s;
}

namespace {
bool declares(const std::vector<OptionSpec>& specs, const std::string& name) {
  return std::any_of(specs.begin(), specs.end(), [&](const OptionSpec& s) { return s.name == name; });
}

std::vector<double> mean_curve(const std::vector<std::vector<double>>& curves) {
  std::vector<double> mean(curves.empty() ? 0 : curves[0].size(), 0.0);
  for (const auto& c : curves)
    for (size_t k = 0; k < mean.size(); ++k) mean[k] += c[k] / double(curves.size());
  return mean;
}
}  // namespace

template <ad::Scalar T>
std::vector<Options> split_metric_options(const std::vector<const Metric<T>*>& metrics, const std::map<std::string, std::string>& given) {
  std::vector<Options> out;
  std::set<std::string> used;
  for (const auto* m : metrics) {
    std::map<std::string, std::string> mine;
    for (const auto& [name, value] : given)
      if (name == "batch-size" || declares(m->options, name)) mine[name] = value, used.insert(name);  // every metric takes --batch-size
    out.push_back(parse_options(m->name, m->options, metrics.size() == 1 ? given : mine));
  }
  for (const auto& [name, value] : given)
    if (!used.count(name)) {
      std::vector<std::string> names;
      for (const auto* m : metrics) names.push_back(m->name);
      throw std::invalid_argument(fmt::format("--{} is not an option of {}", name, fmt::join(names, ", ")));
    }
  return out;
}

template <ad::Scalar T>
MethodTable<T> method_table(const nn::Model<T>& model, const ad::Tensor<T>& x, const Baseline<T>& baseline, const Target<T>& target,
                            const std::vector<std::string>& methods, const std::vector<std::string>& metric_names, const std::map<std::string, std::string>& given,
                            const std::function<void(int64_t, int64_t)>& progress) {
  MethodTable<T> table;
  for (const std::string& name : metric_names) table.metrics.push_back(&find_metric<T>(name));
  for (const std::string& name : methods) find_method<T>(name);  // unknown names before any work
  const std::vector<Options> options = split_metric_options(table.metrics, given);
  // --batch-size bounds the methods' passes as it bounds the metrics'.
  std::map<std::string, std::string> rows_per_pass;
  if (given.count("batch-size")) rows_per_pass["batch-size"] = given.at("batch-size");
  const int64_t per_method = 1 + int64_t(table.metrics.size()), total = per_method * int64_t(methods.size());
  int64_t done = 0;
  const auto step = [&](int64_t n) {
    done += n;
    if (progress) progress(done, total);
  };
  for (const std::string& name : methods) {
    const Method<T>& method = find_method<T>(name);
    Attribution<T> r;
    try {
      r = explain(method, model, x, baseline, target, parse_options(method.name, method.options, {}, rows_per_pass));
    } catch (const std::invalid_argument& e) {  // e.g. an option without a default it needs (occlusion's --window)
      table.skipped.push_back(fmt::format("{} with default options: {}", name, e.what()));
      step(per_method);
      continue;
    }
    if (r.values.shape() != x.shape()) {
      table.skipped.push_back(fmt::format("{}: its maps have shape {}, not the inputs' {}", name, r.values.shape().str(), x.shape().str()));
      step(per_method);
      continue;
    }
    step(1);
    MethodTableRow row{name, {}, {}, {}};
    for (size_t j = 0; j < table.metrics.size(); ++j) {
      const Metric<T>& metric = *table.metrics[j];
      Options o = options[j];
      if (declares(metric.options, "method") && !o.given("method")) {
        std::map<std::string, std::string> mine;
        for (const auto& [key, value] : given)
          if (declares(metric.options, key)) mine[key] = value;
        o = parse_options(metric.name, metric.options, mine, {{"method", name}});
      }
      const MetricCall<T> call{model, x, r.values, baseline, target, o};
      if (metric.name == "deletion" || metric.name == "insertion") {  // the curves for plots, and their areas: one computation
        const auto curves = perturbation_curves(call, metric.name == "deletion" ? CurveKind::deletion : CurveKind::insertion);
        std::vector<double> areas;
        for (const auto& p : curves) areas.push_back(curve_area(p));
        row.scores.push_back(std::move(areas));
        (metric.name == "deletion" ? row.deletion_curve : row.insertion_curve) = mean_curve(curves);
      } else {
        row.scores.push_back(metric.score(call));
      }
      step(1);
    }
    table.rows.push_back(std::move(row));
  }
  for (size_t j = 0; j < table.metrics.size(); ++j) {
    const bool higher = table.metrics[j]->higher_is_better;
    double best = higher ? -INFINITY : INFINITY;
    for (const MethodTableRow& r : table.rows) {
      const double m = summarise(r.scores[j]).mean;
      if (std::isfinite(m) && (higher ? m > best : m < best)) best = m;
    }
    table.best.push_back(best);
  }
  return table;
}

#define INTEGRAD_TABLE(T)                                                                                                                                    \
  template std::vector<Options> split_metric_options<T>(const std::vector<const Metric<T>*>&, const std::map<std::string, std::string>&);                  \
  template MethodTable<T> method_table<T>(const nn::Model<T>&, const ad::Tensor<T>&, const Baseline<T>&, const Target<T>&, const std::vector<std::string>&, \
                                          const std::vector<std::string>&, const std::map<std::string, std::string>&, const std::function<void(int64_t, int64_t)>&);
INTEGRAD_TABLE(float)
INTEGRAD_TABLE(double)
#undef INTEGRAD_TABLE

}  // namespace integrad::attr
