// integrad evaluate: scores attribution maps by the metrics of the metric registry
// (attribution/metric.h), one row per example and the mean; or, with --methods, runs each method
// with its default options and prints a methods × metrics table (mean ± standard error, the best of
// each column marked). Metric options are CLI flags read from the registry, as explain's are.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include <cstdio>
#include <filesystem>

#include "attribution/drawing/curve_plot.h"
#include "attribution/evaluation/method_table.h"
#include "attribution/metric.h"
#include "command.h"
#include "common.h"
#include "nn/atomic_file.h"
#include "nn/npy.h"
#include "nn/output_guard.h"
#include "progress.h"
#include "shard.h"
#include "target_baseline.h"
#include "nn/printable.h"

namespace integrad::cli {
namespace {

struct EvaluateArgs {
  std::string model, inputs, attributions, metric, metrics, methods, target = "predicted", baseline = "zero";
  std::string json, csv, output, dtype, svg;
  std::map<std::string, std::string> metric_options;  // every option any metric declares, as given
  Shard shard;
  ExampleRange range;  // the examples this run scores (all, or --shard's)
};

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::string json_number(double v) { return std::isfinite(v) ? fmt::format("{}", v) : "null"; }

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string json_list(const std::vector<double>& v) {
  std::vector<std::string> parts;
  for (double x : v) parts.push_back(json_number(x));
  return fmt::format("[{}]", fmt::join(parts, ", "));
}

template <ad::Scalar T>
void write_scores(const std::string& path, const std::vector<double>& values, ad::Shape shape) {
  ad::Tensor<T> t(shape);
  for (size_t i = 0; i < values.size(); ++i) t[int64_t(i)] = static_cast<T>(values[i]);
  nn::npy_write(path, t);
}

// One metric on given attributions: a row per example, then the mean.
template <ad::Scalar T>
void evaluate_maps(const EvaluateArgs& a, const attr::Metric<T>& metric, const attr::Options& options, const nn::Model<T>& model,
                   const ad::Tensor<T>& x, const attr::Target<T>& target, const attr::Baseline<T>& baseline) {
  ad::Tensor<T> maps = nn::npy_read_tensor<T>(a.attributions);
  if (a.shard.given && maps.rank() >= 1 && maps.size(0) == a.range.total) maps = maps.rows(a.range.first, a.range.end);
  if (maps.rank() < 1 || maps.size(0) != x.size(0))
    throw std::invalid_argument(fmt::format("--attributions {} has shape {}; expected one map per example of {} ({})", a.attributions, maps.shape().str(), a.inputs,
                                            x.shape().str()));
  warn_nonfinite(maps, "evaluate", "attributions");
  const std::vector<double> scores = metric.score(attr::MetricCall<T>{model, x, maps, baseline, target, options, a.range.first, a.range.total});
  const attr::ScoreSummary s = attr::summarise(scores);
  const char* better = metric.higher_is_better ? "higher" : "lower";
  fmt::print("{} ({} is better)\n{:>8}  {:>14}\n", metric.name, better, "example", "score");
  for (size_t i = 0; i < scores.size(); ++i) fmt::print("{:>8}  {:>14.6g}\n", a.range.first + int64_t(i), scores[i]);
  fmt::print("{:>8}  {:>14.6g} ± {:.3g}\n", "mean", s.mean, s.standard_error);
  if (!a.json.empty())
    nn::write_file_atomically(a.json, fmt::format("{{\"metric\": {}, \"higher_is_better\": {}, \"scores\": {}, \"mean\": {}, \"standard_error\": {}}}\n",
                                                  json_string(metric.name), metric.higher_is_better, json_list(scores), json_number(s.mean), json_number(s.standard_error)));
  if (!a.csv.empty()) {
    std::string csv = "example,score\n";
    for (size_t i = 0; i < scores.size(); ++i) csv += fmt::format("{},{}\n", a.range.first + int64_t(i), scores[i]);
    csv += fmt::format("mean,{}\n", s.mean);
    nn::write_file_atomically(a.csv, csv);
  }
  if (!a.output.empty()) {
    write_scores<T>(a.output, scores, ad::Shape{int64_t(scores.size())});
    write_range_sidecar(a.output, a.shard, a.range);
    fmt::print(status_stream(a.output), "wrote {} [{}]\n", nn::printable(a.output), scores.size());
  }
}

// Every method with its default options, scored by every metric: a methods × metrics table.
template <ad::Scalar T>
void evaluate_methods(const EvaluateArgs& a, const std::vector<std::string>& metric_names, const nn::Model<T>& model, const ad::Tensor<T>& x,
                      const attr::Target<T>& target, const attr::Baseline<T>& baseline) {
  const std::vector<std::string> methods = split_list(a.methods);
  // Methods like kernelshap take a while: a bar on a terminal, a line every 10% in a log.
  std::optional<Progress> bar;
  const auto progress = [&](int64_t done, int64_t total) {
    if (!bar) bar.emplace("evaluate", total);
    bar->set(double(done));
  };
  const attr::MethodTable<T> table = attr::method_table(model, x, baseline, target, methods, metric_names, a.metric_options, progress);
  for (const std::string& note : table.skipped) fmt::print(stderr, "integrad evaluate: note: skipping {}\n", note);
  if (table.rows.empty()) throw std::invalid_argument("--methods: no method could be evaluated");
  const auto& metrics = table.metrics;
  const auto& rows = table.rows;

  fmt::print("{:<16}", "method");
  for (const auto* m : metrics) fmt::print("  {:>24}", fmt::format("{} ({})", m->name, m->higher_is_better ? "↑" : "↓"));
  fmt::print("\n");
  for (size_t i = 0; i < rows.size(); ++i) {
    fmt::print("{:<16}", rows[i].method);
    for (size_t j = 0; j < metrics.size(); ++j) {
      const attr::ScoreSummary s = attr::summarise(rows[i].scores[j]);
      fmt::print("  {:>24}", fmt::format("{:.4g} ± {:.2g}{}", s.mean, s.standard_error, table.is_best(i, j) ? " *" : "  "));
    }
    fmt::print("\n");
  }
  fmt::print("mean ± standard error over {} examples; * the best of each column (↑ higher, ↓ lower is better)\n", x.size(0));

  if (!a.json.empty()) {
    std::vector<std::string> ms, rs;
    for (const auto* m : metrics) ms.push_back(fmt::format("{{\"name\": {}, \"higher_is_better\": {}}}", json_string(m->name), m->higher_is_better));
    for (size_t i = 0; i < rows.size(); ++i) {
      std::vector<std::string> cells;
      for (size_t j = 0; j < metrics.size(); ++j) {
        const attr::ScoreSummary s = attr::summarise(rows[i].scores[j]);
        cells.push_back(fmt::format("{}: {{\"mean\": {}, \"standard_error\": {}, \"best\": {}, \"scores\": {}}}", json_string(metrics[j]->name), json_number(s.mean),
                                    json_number(s.standard_error), table.is_best(i, j), json_list(rows[i].scores[j])));
      }
      std::string curves;
      if (!rows[i].deletion_curve.empty()) curves += fmt::format(", \"deletion_curve\": {}", json_list(rows[i].deletion_curve));
      if (!rows[i].insertion_curve.empty()) curves += fmt::format(", \"insertion_curve\": {}", json_list(rows[i].insertion_curve));
      rs.push_back(fmt::format("{{\"method\": {}, \"metrics\": {{{}}}{}}}", json_string(rows[i].method), fmt::join(cells, ", "), curves));
    }
    nn::write_file_atomically(a.json, fmt::format("{{\"metrics\": [{}], \"methods\": [{}]}}\n", fmt::join(ms, ", "), fmt::join(rs, ", ")));
  }
  if (!a.csv.empty()) {
    std::string csv = "method,metric,mean,standard_error,best\n";
    for (size_t i = 0; i < rows.size(); ++i)
      for (size_t j = 0; j < metrics.size(); ++j) {
        const attr::ScoreSummary s = attr::summarise(rows[i].scores[j]);
        csv += fmt::format("{},{},{},{},{}\n", rows[i].method, metrics[j]->name, s.mean, s.standard_error, table.is_best(i, j) ? 1 : 0);
      }
    nn::write_file_atomically(a.csv, csv);
  }
  if (!a.output.empty()) {  // [methods, metrics, N]: a row per requested method, in --methods' order
    std::vector<double> all;
    std::vector<std::string> missing;
    for (const std::string& name : methods) {
      const auto row = std::find_if(rows.begin(), rows.end(), [&](const auto& r) { return r.method == name; });
      if (row == rows.end()) {  // skipped (said above): its rows are NaN, so that row i is still --methods' i-th
        all.insert(all.end(), size_t(metrics.size()) * size_t(x.size(0)), std::numeric_limits<double>::quiet_NaN());
        missing.push_back(name);
        continue;
      }
      for (const auto& v : row->scores) all.insert(all.end(), v.begin(), v.end());
    }
    write_scores<T>(a.output, all, ad::Shape{int64_t(methods.size()), int64_t(metrics.size()), x.size(0)});
    fmt::print(status_stream(a.output), "wrote {} [{}, {}, {}]{}\n", nn::printable(a.output), methods.size(), metrics.size(), x.size(0),
               missing.empty() ? "" : fmt::format(" (the rows of {} are NaN: skipped)", fmt::join(missing, ", ")));
  }
  if (!a.svg.empty()) {  // the mean deletion and insertion curves, one SVG per metric
    nn::create_output_directory(a.svg);
    for (const auto kind : {attr::CurveKind::deletion, attr::CurveKind::insertion}) {
      const std::string svg = attr::perturbation_curve_svg(rows, kind);
      if (svg.empty()) continue;
      const std::string path = (std::filesystem::path(a.svg) / (kind == attr::CurveKind::deletion ? "deletion.svg" : "insertion.svg")).string();
      nn::write_file_atomically(path, svg);
      fmt::print(status_stream(a.output), "wrote {}\n", nn::printable(path));
    }
  }
}

template <ad::Scalar T>
void run(EvaluateArgs& a) {
  if (a.attributions.empty() == a.methods.empty()) throw std::invalid_argument("give either --attributions A.npy or --methods m1,m2,...");
  if (!a.metric.empty() && !a.metrics.empty()) throw std::invalid_argument("give either --metric M or --metrics a,b,...");
  const std::vector<std::string> metric_names = a.metric.empty() ? split_list(a.metrics) : std::vector<std::string>{a.metric};
  if (metric_names.empty()) throw std::invalid_argument("give the metric: --metric M (or --metrics a,b,... with --methods)");
  if (!a.attributions.empty() && metric_names.size() != 1) throw std::invalid_argument("--attributions is scored by one --metric; --metrics goes with --methods");
  if (a.shard.given && !a.methods.empty()) throw std::invalid_argument("--shard goes with --attributions (per-example scores -o [N], which merge joins), not --methods");
  std::vector<const attr::Metric<T>*> metrics;
  for (const std::string& name : metric_names) metrics.push_back(&attr::find_metric<T>(name));
  for (const std::string& name : split_list(a.methods)) attr::find_method<T>(name);  // unknown names before any work
  const std::vector<attr::Options> options = attr::split_metric_options(metrics, a.metric_options);
  if (!a.svg.empty() && a.methods.empty()) throw std::invalid_argument("--svg writes the curves of the --methods table; give --methods");
  const std::string mask = a.metric_options.count("mask") ? a.metric_options.at("mask") : "";
  const auto svg_file = [&](const char* name) { return a.svg.empty() ? std::string() : (std::filesystem::path(a.svg) / name).string(); };
  nn::check_outputs({{"-o", a.output}, {"--json", a.json}, {"--csv", a.csv}, {"--svg", svg_file("deletion.svg")}, {"--svg", svg_file("insertion.svg")}},
                    {{"MODEL", a.model}, {"INPUT", a.inputs}, {"--attributions", a.attributions}, {"--mask", mask},
                     {"--target", a.target.ends_with(".npy") ? a.target : ""}, {"--baseline", a.baseline.ends_with(".npy") ? a.baseline : ""}});
  const nn::Model<T> model = nn::load_model<T>(a.model);
  const ad::Tensor<T> x = load_shard_inputs(a.inputs, model, a.shard, a.range);
  warn_nonfinite(x, "evaluate", "inputs");
  if (note_if_no_examples("evaluate", a.inputs, x.size(0), a.range.total)) {
    // Empty outputs, as every subcommand's: no scores, a mean of none left out.
    if (!a.output.empty()) nn::npy_write(a.output, ad::Tensor<T>(ad::Shape{0}));
    if (!a.output.empty()) write_range_sidecar(a.output, a.shard, a.range);
    if (!a.json.empty()) nn::write_file_atomically(a.json, "{\"scores\": []}\n");
    if (!a.csv.empty()) nn::write_file_atomically(a.csv, a.attributions.empty() ? "method,metric,mean,standard_error,best\n" : "example,score\n");
    return;
  }
  // Per-example targets and baselines cover the whole input; a shard scores its rows of them.
  attr::Target<T> target = parse_target<T>(a.target, a.range.total);
  attr::Baseline<T> baseline = parse_baseline<T>(a.baseline);
  if (a.shard.given) {
    if (target.kind == attr::Target<T>::Kind::per_example)
      target.indices = std::vector<int64_t>(target.indices.begin() + a.range.first, target.indices.begin() + a.range.end);
    if (baseline.kind == attr::Baseline<T>::Kind::tensor && baseline.tensor.shape() == x.shape().with(0, a.range.total))
      baseline = attr::Baseline<T>::of(baseline.tensor.rows(a.range.first, a.range.end));
  }
  if (!a.attributions.empty()) evaluate_maps(a, *metrics[0], options[0], model, x, target, baseline);
  else evaluate_methods(a, metric_names, model, x, target, baseline);
}

struct SharedOption {
  attr::OptionSpec spec;
  std::vector<std::string> metrics, defaults;  // the metrics declaring it, and each one's default
};

std::vector<SharedOption> shared_metric_options() {
  std::vector<SharedOption> all;
  for (const auto& m : attr::metric_registry<float>())
    for (const auto& spec : m.options) {
      auto it = std::find_if(all.begin(), all.end(), [&](const auto& s) { return s.spec.name == spec.name; });
      if (it == all.end()) all.push_back({spec, {m.name}, {spec.default_value}});
      else it->metrics.push_back(m.name), it->defaults.push_back(spec.default_value);
    }
  return all;
}

std::string option_help(const SharedOption& o) {
  const attr::OptionSpec& s = o.spec;
  std::string help = fmt::format("{}: {}", fmt::join(o.metrics, ", "), s.help);
  if (!s.choices.empty()) help += fmt::format(" ({})", fmt::join(s.choices, " | "));
  else if (s.kind != attr::OptionSpec::Kind::flag && s.kind != attr::OptionSpec::Kind::text && std::isfinite(s.min) && std::isfinite(s.max))
    help += fmt::format(" [{}, {}]", s.min, s.max);
  const bool same = std::all_of(o.defaults.begin(), o.defaults.end(), [&](const std::string& d) { return d == s.default_value; });
  if (!s.default_value.empty() && s.kind != attr::OptionSpec::Kind::flag && same) help += fmt::format(" (default {})", s.default_value);
  if (!same) {  // e.g. --samples: 10 perturbations for infidelity, 100 subsets for faithfulness-correlation
    std::vector<std::string> parts;
    for (size_t i = 0; i < o.metrics.size(); ++i) parts.push_back(fmt::format("{} {}", o.metrics[i], o.defaults[i]));
    help += fmt::format(" (default: {})", fmt::join(parts, ", "));
  }
  return help;
}

std::string metrics_help() {
  std::string help = "One of:";
  for (const auto& m : attr::metric_registry<float>())
    help += fmt::format("\n  {:<16} {} ({} is better)", m.name, m.summary, m.higher_is_better ? "higher" : "lower");
  return help;
}

void setup(CLI::App& cmd) {
  auto a = std::make_shared<EvaluateArgs>();
  cmd.add_option("MODEL", a->model, "Model file (.safetensors)")->required();
  cmd.add_option("INPUT", a->inputs, "Inputs .npy [N, ...]")->required();
  cmd.add_option("--attributions", a->attributions, "Attributions .npy, the inputs' shape (as explain -o writes them)");
  cmd.add_option("--metric", a->metric, metrics_help())->check(CLI::IsMember(attr::metric_names()));
  cmd.add_option("--methods", a->methods, "Instead of --attributions: run these methods (comma-separated) with default options and tabulate");
  cmd.add_option("--metrics", a->metrics, "With --methods: the metrics (comma-separated) of the table's columns");
  cmd.add_option("--target", a->target, "predicted | class index K | TARGETS.npy")->default_val("predicted");
  cmd.add_option("--baseline", a->baseline, "What deletion/insertion (and the methods) put in: zero | NUMBER | BASELINE.npy")->default_val("zero");
  for (const SharedOption& o : shared_metric_options()) {
    const std::string name = o.spec.name;
    if (o.spec.kind == attr::OptionSpec::Kind::flag) {
      cmd.add_flag_callback("--" + name, [a, name] { a->metric_options[name] = "true"; }, option_help(o));
    } else {
      const auto k = o.spec.kind;
      cmd.add_option_function<std::string>("--" + name, [a, name](const std::string& v) { a->metric_options[name] = v; }, option_help(o))
          ->type_name(k == attr::OptionSpec::Kind::choice ? "CHOICE" : k == attr::OptionSpec::Kind::text ? "TEXT" : k == attr::OptionSpec::Kind::integer ? "INT" : "NUMBER");
    }
  }
  // Every metric (and, with --methods, every method) takes it: parse_options adds it to each.
  cmd.add_option_function<std::string>("--batch-size", [a](const std::string& v) { a->metric_options["batch-size"] = v; },
                                       "Rows through the model at once: the metrics' perturbed copies (and the methods' passes) run in passes of at most this "
                                       "many, so peak memory follows it, not --samples or --steps; results do not change (default 512)")
      ->type_name("INT");
  cmd.add_option("--json", a->json, "Write the scores as JSON");
  cmd.add_option("--csv", a->csv, "Write the scores as CSV");
  cmd.add_option("--svg", a->svg, "With --methods: write DIR/deletion.svg and DIR/insertion.svg, each method's mean curve (for the metrics in the table)");
  cmd.add_option("-o,--output", a->output, "Write the per-example scores .npy: [N]; with --methods [methods, metrics, N]");
  add_shard_option(cmd, a->shard);
  add_dtype_option(cmd, a->dtype);
  cmd.callback([a] { with_dtype(a->dtype, [&](auto t) { run<decltype(t)>(*a); }); });
}

const bool registered = register_command({"evaluate", "Score attribution maps by the registered metrics (deletion, insertion, infidelity, ...)", setup});

}  // namespace
}  // namespace integrad::cli
