// integrad explain: attributions for a model's inputs by one method, as .npy, with deltas,
// heatmaps (--png) and coloured tokens (terminal, --html).
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "attention_views.h"
#include "attribution/method.h"
#include "attribution/methods/attention.h"
#include "command.h"
#include "common.h"
#include "explain_output.h"
#include "nn/npy.h"
#include "nn/output_guard.h"
#include "progress.h"
#include "shard.h"
#include "target_baseline.h"
#include "nn/printable.h"

namespace integrad::cli {
namespace {

struct ExplainArgs {
  std::string model, inputs, output, dtype, method = "ig", target = "predicted", baseline = "zero";
  std::string deltas, png_dir, html;
  // Every option any registered method declares, by name, as given; each method checks its own.
  std::map<std::string, std::string> method_options;
  bool baseline_given = false, verbose = false, quiet = false;
  Shard shard;
};

template <ad::Scalar T>
void run(const ExplainArgs& a) {
  const attr::Method<T>& method = attr::find_method<T>(a.method);
  const attr::Options options = attr::parse_options(method.name, method.options, a.method_options);
  if (a.baseline_given && !method.uses_baseline) throw std::invalid_argument(fmt::format("--baseline: {} uses no baseline", method.name));
  if (!a.deltas.empty() && !method.has_delta) throw std::invalid_argument(fmt::format("--deltas: {} has no completeness delta", method.name));
  nn::check_outputs({{"-o", a.output}, {"--deltas", a.deltas}, {"--html", a.html}, {"--png", a.png_dir}},
                    {{"MODEL", a.model}, {"INPUT", a.inputs}, {"--target", a.target.ends_with(".npy") ? a.target : ""},
                     {"--baseline", a.baseline.ends_with(".npy") ? a.baseline : ""}});
  const nn::Model<T> model = nn::load_model<T>(a.model);
  if (!a.html.empty() && model.input_dtype != nn::InputDtype::int64)
    throw std::invalid_argument(fmt::format("--html colours token inputs; {} takes real-valued inputs of shape {} (--png draws image heatmaps)",
                                            nn::printable(a.model), model.input_shape.str()));
  ExampleRange range;
  std::vector<std::string> feature_names;
  const ad::Tensor<T> x = load_shard_inputs(a.inputs, model, a.shard, range, &feature_names);
  warn_nonfinite(x, "explain", "inputs");
  if (note_if_no_examples("explain", a.inputs, x.size(0), range.total)) {
    nn::npy_write(a.output, x);
    write_range_sidecar(a.output, a.shard, range);
    if (!a.deltas.empty()) {
      nn::npy_write(a.deltas, ad::Tensor<T>(ad::Shape{0}));
      write_range_sidecar(a.deltas, a.shard, range);
    }
    return;
  }
  // Per-example targets and baselines cover the whole input; explain takes this shard's rows of them.
  const attr::Target<T> target = parse_target<T>(a.target, range.total);
  Progress progress("explain", x.size(0), a.quiet);
  const ExplainResult<T> r{attr::explain(method, model, x, parse_baseline<T>(a.baseline), target, options, range.first, range.total,
                                         [&](double done) { progress.set(done); }),
                           method.name};
  progress.finish();
  for (const auto& w : r.warnings) fmt::print(stderr, "integrad explain: warning: {}\n", w);
  const bool tokens = model.input_dtype == nn::InputDtype::int64;
  warn_nonfinite(r.values, "explain", "attributions");
  nn::npy_write(a.output, r.values);
  write_range_sidecar(a.output, a.shard, range);
  if (!a.deltas.empty()) {
    ad::Tensor<T> d(ad::Shape{static_cast<int64_t>(r.deltas.size())});
    for (size_t i = 0; i < r.deltas.size(); ++i) d[static_cast<int64_t>(i)] = static_cast<T>(r.deltas[i]);
    nn::npy_write(a.deltas, d);
    write_range_sidecar(a.deltas, a.shard, range);
  }
  print_summary(r, a.verbose ? -1 : kExamplesShown, range.first);
  print_features(x, r, feature_names);
  if (!a.png_dir.empty()) write_pngs(a.png_dir, x, r, range.first);
  if (tokens && attr::has_attention(model) && !r.targets.empty() && (::isatty(STDOUT_FILENO) || !a.html.empty())) {
    // Every companion method runs on the examples shown: the first 20 (an attention map per example).
    const int64_t shown = std::min<int64_t>(x.size(0), kSideBySideExamples);
    const std::vector<int64_t> targets(r.targets.begin(), r.targets.begin() + shown);
    const auto rows = side_by_side(model, x.rows(0, shown), targets, method.name, (r.token_values.numel() ? r.token_values : r.values).rows(0, shown));
    if (shown < x.size(0)) fmt::print("showing the first {} of {} examples method by method\n", shown, x.size(0));
    if (::isatty(STDOUT_FILENO)) print_side_by_side(x.rows(0, shown), rows);
    if (!a.html.empty()) write_side_by_side_html(a.html, model, x.rows(0, shown), targets, rows);
  } else if (tokens) {
    if (::isatty(STDOUT_FILENO)) print_tokens(x, r);
    if (!a.html.empty()) write_token_html(a.html, x, r);
  }
  fmt::print("wrote {} {}\n", nn::printable(a.output), r.values.shape().str());
}

// Which methods declare each option, and its help: options shared by several methods (--samples,
// --seed) are added once and documented for all of them.
struct SharedOption {
  attr::OptionSpec spec;
  std::vector<std::string> methods, defaults;  // the methods declaring it, and each one's default
};

std::vector<SharedOption> shared_options() {
  std::vector<SharedOption> all{{attr::batch_size_option(), {"every method"}, {attr::batch_size_option().default_value}}};
  for (const auto& m : attr::registry<float>())
    for (const auto& spec : m.options) {
      auto it = std::find_if(all.begin(), all.end(), [&](const auto& s) { return s.spec.name == spec.name; });
      if (it == all.end()) all.push_back({spec, {m.name}, {spec.default_value}});
      else it->methods.push_back(m.name), it->defaults.push_back(spec.default_value);
    }
  return all;
}

std::string option_help(const SharedOption& o) {
  const attr::OptionSpec& s = o.spec;
  std::string help = fmt::format("{}: {}", fmt::join(o.methods, ", "), s.help);
  if (!s.choices.empty()) help += fmt::format(" ({})", fmt::join(s.choices, " | "));
  else if (s.kind != attr::OptionSpec::Kind::flag && std::isfinite(s.min) && std::isfinite(s.max)) help += fmt::format(" [{}, {}]", s.min, s.max);
  const bool same = std::all_of(o.defaults.begin(), o.defaults.end(), [&](const std::string& d) { return d == s.default_value; });
  if (!s.default_value.empty() && s.kind != attr::OptionSpec::Kind::flag && same) help += fmt::format(" (default {})", s.default_value);
  if (!same && s.kind != attr::OptionSpec::Kind::flag) {  // e.g. --steps: 50 for ig, 100 for blur-ig, 200 for guided-ig
    std::vector<std::string> parts;
    for (size_t i = 0; i < o.methods.size(); ++i)
      if (!o.defaults[i].empty()) parts.push_back(fmt::format("{} {}", o.methods[i], o.defaults[i]));
    help += fmt::format(" (default: {})", fmt::join(parts, ", "));
  }
  return help;
}

std::string methods_help() {
  std::string help = "One of:";
  for (const auto& m : attr::registry<float>()) help += fmt::format("\n  {:<16} {}", m.name, m.summary);
  return help;
}

void setup(CLI::App& cmd) {
  auto a = std::make_shared<ExplainArgs>();
  cmd.add_option("MODEL", a->model, "Model file (.safetensors)")->required();
  cmd.add_option("INPUT", a->inputs, "Inputs .npy [N, ...], one PNG image, or a .csv of tabular examples (a header of feature names)")->required();
  cmd.add_option("-o,--output", a->output, "Attributions .npy (the inputs' shape, or the layer output's)")->required();
  cmd.add_option("--method", a->method, methods_help())->default_val("ig")->check(CLI::IsMember(attr::method_names()));
  cmd.add_option("--target", a->target, "predicted | class index K | TARGETS.npy")->default_val("predicted");
  cmd.add_option("--baseline", a->baseline, "Methods with a baseline: zero | NUMBER | BASELINE.npy (one example's shape, or [N, ...]; gradientshap: a set [K, ...])")
      ->default_val("zero")
      ->each([a](const std::string&) { a->baseline_given = true; });
  cmd.add_option("--deltas", a->deltas, "Methods with a completeness delta: write Σ A − (F(x) − F(x′)) per example (.npy)");
  for (const SharedOption& o : shared_options()) {
    const std::string name = o.spec.name;
    if (o.spec.kind == attr::OptionSpec::Kind::flag) {
      cmd.add_flag_callback("--" + name, [a, name] { a->method_options[name] = "true"; }, option_help(o));
    } else {
      const bool number = o.spec.kind != attr::OptionSpec::Kind::choice;
      cmd.add_option_function<std::string>("--" + name, [a, name](const std::string& v) { a->method_options[name] = v; }, option_help(o))
          ->type_name(!number ? "CHOICE" : o.spec.kind == attr::OptionSpec::Kind::integer ? "INT" : "NUMBER");
    }
  }
  add_shard_option(cmd, a->shard);
  cmd.add_flag("-v,--verbose", a->verbose, fmt::format("A line per example (default: the first {} and a summary)", kExamplesShown));
  cmd.add_flag("-q,--quiet", a->quiet, "No progress bar or progress lines on stderr");
  cmd.add_option("--png", a->png_dir, "Write a heatmap and an overlay per image into DIR");
  cmd.add_option("--html", a->html, "Token inputs: write the tokens coloured by attribution as HTML");
  add_dtype_option(cmd, a->dtype);
  cmd.callback([a] { with_dtype(a->dtype, [&](auto t) { run<decltype(t)>(*a); }); });
}

const bool registered = register_command({"explain", "Attribute a model's outputs to its inputs by one of the registered methods (IG, gradients, SmoothGrad, ...)", setup});

}  // namespace
}  // namespace integrad::cli
