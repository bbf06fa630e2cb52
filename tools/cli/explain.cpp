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
#include "several_inputs.h"
#include "shard.h"
#include "nn/npz.h"
#include "target_baseline.h"
#include "nn/printable.h"

namespace integrad::cli {
namespace {

struct ExplainArgs {
  std::string model, inputs, output, dtype, method = "ig", target = "predicted", baseline = "zero";
  std::string deltas, png_dir, html, attribute_to;
  // Every option any registered method declares, by name, as given; each method checks its own.
  std::map<std::string, std::string> method_options;
  bool baseline_given = false, verbose = false, quiet = false;
  Shard shard;
};

// A model of several inputs, or inputs from an .npz: through attr::explain_inputs, one attribution
// array per explained input (docs/inputs.md).
template <ad::Scalar T>
void run_named(const ExplainArgs& a, const nn::Model<T>& model, const attr::Method<T>& method, const attr::Options& options) {
  if (a.shard.given) throw std::invalid_argument("--shard: not yet for .npz inputs; split the arrays into several .npz files instead");
  if (!a.png_dir.empty() || !a.html.empty())
    throw std::invalid_argument(fmt::format("--png and --html draw one input; {} reads {} from {}", nn::printable(a.model), input_list(model), nn::printable(a.inputs)));
  const attr::NamedTensors<T> inputs = load_named_inputs(a.inputs, model);
  std::vector<std::string> attribute_to;
  for (size_t start = 0; !a.attribute_to.empty() && start <= a.attribute_to.size();) {
    const size_t comma = std::min(a.attribute_to.find(',', start), a.attribute_to.size());
    attribute_to.push_back(a.attribute_to.substr(start, comma - start));
    start = comma + 1;
  }
  const std::vector<size_t> explained = attr::explained_inputs(model, attribute_to);
  const int64_t n = inputs[0].second.rank() ? inputs[0].second.size(0) : 0;
  const attr::Target<T> target = parse_target<T>(a.target, n);
  Progress progress("explain", n, a.quiet);
  const attr::InputsAttribution<T> r = attr::explain_inputs(method, model, inputs, attribute_to, parse_named_baselines(a.baseline, model, explained), target,
                                                            options, [&](double done) { progress.set(done); });
  progress.finish();
  for (const auto& w : r.packed.warnings) fmt::print(stderr, "integrad explain: warning: {}\n", w);
  if (nn::is_npz_path(a.output)) nn::npz_write(a.output, r.values);
  else if (r.values.size() == 1) nn::npy_write(a.output, r.values[0].second);
  else throw std::invalid_argument(fmt::format("-o {}: {} attribution arrays (one per explained input); write them to an .npz", nn::printable(a.output), r.values.size()));
  if (!a.deltas.empty()) {
    ad::Tensor<T> d(ad::Shape{static_cast<int64_t>(r.packed.deltas.size())});
    for (size_t i = 0; i < r.packed.deltas.size(); ++i) d[static_cast<int64_t>(i)] = static_cast<T>(r.packed.deltas[i]);
    nn::npy_write(a.deltas, d);
  }
  print_summary(ExplainResult<T>{r.packed, method.name}, a.verbose ? -1 : kExamplesShown, 0);
  for (const auto& [name, v] : r.values) fmt::print("wrote {} '{}' {}\n", nn::printable(a.output), name, v.shape().str());
}

template <ad::Scalar T>
void run(const ExplainArgs& a) {
  const attr::Method<T>& method = attr::find_method<T>(a.method);
  const attr::Options options = attr::parse_options(method.name, method.options, a.method_options);
  if (a.baseline_given && !method.uses_baseline) throw std::invalid_argument(fmt::format("--baseline: {} uses no baseline", method.name));
  if (!a.deltas.empty() && !method.has_delta) throw std::invalid_argument(fmt::format("--deltas: {} has no completeness delta", method.name));
  nn::check_outputs({{"-o", a.output}, {"--deltas", a.deltas}, {"--html", a.html}, {"--png", a.png_dir}},
                    {{"MODEL", a.model}, {"INPUT", a.inputs}, {"--target", a.target.ends_with(".npy") ? a.target : ""},
                     {"--baseline", a.baseline.ends_with(".npy") || a.baseline.ends_with(".npz") ? a.baseline : ""}});
  const nn::Model<T> model = nn::load_model<T>(a.model);
  if (uses_named_inputs(model, a.inputs)) return run_named(a, model, method, options);
  if (!a.attribute_to.empty()) throw std::invalid_argument(fmt::format("--attribute-to: {} reads one input", nn::printable(a.model)));
  if (nn::is_npz_path(a.output)) throw std::invalid_argument(fmt::format("-o {}: one input's attributions are written as .npy", nn::printable(a.output)));
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
  cmd.add_option("INPUT", a->inputs,
                 "Inputs .npy [N, ...], one PNG image, a .csv of tabular examples (a header of feature names), or an .npz of arrays named by the model's "
                 "inputs (several inputs)")
      ->required();
  cmd.add_option("-o,--output", a->output, "Attributions .npy (the inputs' shape, or the layer output's); .npz: one array per explained input")->required();
  cmd.add_option("--attribute-to", a->attribute_to,
                 "Several inputs: the inputs to explain, NAME[,NAME] (default: every floating-point input); the others are fed as given and held fixed");
  cmd.add_option("--method", a->method, methods_help())->default_val("ig")->check(CLI::IsMember(attr::method_names()));
  cmd.add_option("--target", a->target, "predicted | class index K | TARGETS.npy")->default_val("predicted");
  cmd.add_option("--baseline", a->baseline, "Methods with a baseline: zero | NUMBER | BASELINE.npy (one example's shape, or [N, ...]; gradientshap: a set [K, ...]) | BASELINES.npz (one array per explained input, the others zero)")
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
