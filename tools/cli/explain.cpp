// integrad explain: attributions for a model's inputs by one method, as .npy, with deltas,
// heatmaps (--png) and coloured tokens (terminal, --html).
#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "attribution/methods/exact_ig.h"
#include "attribution/methods/gradients.h"
#include "attribution/methods/integrated_gradients.h"
#include "attribution/methods/layer_ig.h"
#include "attribution/methods/smoothgrad.h"
#include "command.h"
#include "common.h"
#include "explain_output.h"
#include "nn/npy.h"

namespace integrad::cli {
namespace {

struct ExplainArgs {
  std::string model, inputs, output, dtype, method = "ig", target = "predicted", quadrature = "gausslegendre", baseline = "zero";
  std::string deltas, png_dir, html, noise_type = "smoothgrad";
  int steps = 50, samples = 50, layer = -1;
  int64_t batch_size = 512;
  double stdev = 0.15, adaptive = 0;
  uint64_t seed = 0;
  bool relative_noise = false, token_norm = false;
};

template <ad::Scalar T>
attr::Target<T> parse_target(const std::string& text, int64_t n) {
  if (text == "predicted") return attr::Target<T>::predicted();
  if (text.ends_with(".npy")) {
    std::vector<int64_t> t = nn::npy_read_labels(text);
    if (static_cast<int64_t>(t.size()) != n) throw std::invalid_argument(fmt::format("{} holds {} targets for {} inputs", text, t.size(), n));
    return attr::Target<T>::each(std::move(t));
  }
  size_t used = 0;
  int64_t k = -1;
  try {
    k = std::stoll(text, &used);
  } catch (const std::exception&) {
  }
  if (used != text.size() || k < 0) throw std::invalid_argument("--target must be predicted, a class index or a .npy file; got '" + text + "'");
  return attr::Target<T>::of(k);
}

template <ad::Scalar T>
attr::Baseline<T> parse_baseline(const std::string& text) {
  if (text == "zero") return attr::Baseline<T>::zero();
  if (text.ends_with(".npy")) return attr::Baseline<T>::of(nn::npy_read_tensor<T>(text));
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
  }
  if (used != text.size() || !std::isfinite(v)) throw std::invalid_argument("--baseline must be zero, a number or a .npy file; got '" + text + "'");
  return attr::Baseline<T>::constant(static_cast<T>(v));
}

template <ad::Scalar T>
void warn_nonfinite(const ad::Tensor<T>& x, const std::string& what) {
  const int64_t row = x.shape().stride(0);
  for (int64_t i = 0; i < x.size(0); ++i)
    for (int64_t j = 0; j < row; ++j)
      if (!std::isfinite(x[i * row + j])) {
        fmt::print(stderr, "integrad explain: warning: example {} has non-finite {}\n", i, what);
        break;
      }
}

template <ad::Scalar T>
void run(const ExplainArgs& a) {
  const nn::Sequential<T> model = nn::load_model<T>(a.model);
  const ad::Tensor<T> x = load_inputs(a.inputs, model);
  warn_nonfinite(x, "inputs");
  const bool tokens = model.input_dtype == nn::InputDtype::int64;
  if (tokens && (a.method != "ig" || a.layer < 0))
    throw std::invalid_argument("token-id inputs have no gradient: use --method ig --layer 0 (the embedding) with a token id as --baseline, e.g. 0");
  const attr::Forward<T> f = attr::forward_of(model);
  const attr::Target<T> target = parse_target<T>(a.target, x.size(0));

  ExplainResult<T> r;
  r.method = a.method;
  r.is_signed = true;
  if (a.method == "ig") {
    attr::IgOptions<T> o;
    o.steps = a.steps;
    o.rule = a.quadrature == "exact" ? attr::Rule::gauss_legendre : attr::parse_rule(a.quadrature);
    o.baselines = {parse_baseline<T>(a.baseline)};
    o.batch_size = a.batch_size;
    if (a.quadrature == "exact" && a.layer >= 0) throw std::invalid_argument("--quadrature exact attributes to the input; it does not combine with --layer");
    attr::Attribution<T> ig = a.quadrature == "exact" ? attr::exact_integrated_gradients(model, x, target, o.baselines[0])
                              : a.layer >= 0 ? attr::layer_integrated_gradients(model, static_cast<size_t>(a.layer), x, target, o)
                              : a.adaptive > 0 ? attr::adaptive_integrated_gradients(f, x, target, o, a.adaptive)
                                               : attr::integrated_gradients(f, x, target, o);
    r.values = ig.values;
    r.targets = ig.targets;
    r.f_input = ig.f_input;
    r.f_baseline = ig.f_baseline;
    r.deltas = ig.deltas;
    r.steps = ig.steps;
    if (tokens && r.values.rank() == 3) r.token_values = a.token_norm ? attr::norm_last_dim(r.values) : attr::sum_last_dim(r.values);
  } else {
    r.targets = attr::resolve_targets(f, x, target);
    r.f_input = attr::target_values(f, x, target, r.targets);
    const attr::Target<T> fixed = r.targets.empty() ? target : attr::Target<T>::each(r.targets);
    if (a.method == "gradient") {
      r.values = attr::gradient(f, x, fixed);
    } else if (a.method == "saliency") {
      r.values = attr::saliency(f, x, fixed);
      r.is_signed = false;
    } else if (a.method == "gradxinput") {
      r.values = attr::gradient_x_input(f, x, fixed);
    } else if (a.method == "smoothgrad") {
      attr::SmoothGradOptions so;
      so.samples = a.samples;
      so.stdev = a.stdev;
      so.relative = a.relative_noise;
      so.seed = a.seed;
      so.kind = attr::parse_noise_kind(a.noise_type);
      r.is_signed = so.kind == attr::NoiseKind::smoothgrad;
      r.values = attr::smoothgrad<T>([&](const ad::Tensor<T>& in) { return attr::gradient(f, in, fixed); }, x, so);
    } else {
      throw std::invalid_argument("unknown method '" + a.method + "'");
    }
  }
  warn_nonfinite(r.values, "attributions");
  nn::npy_write(a.output, r.values);
  if (!a.deltas.empty()) {
    if (r.deltas.empty()) throw std::invalid_argument("--deltas is defined for --method ig only");
    ad::Tensor<T> d(ad::Shape{static_cast<int64_t>(r.deltas.size())});
    for (size_t i = 0; i < r.deltas.size(); ++i) d[static_cast<int64_t>(i)] = static_cast<T>(r.deltas[i]);
    nn::npy_write(a.deltas, d);
  }
  print_summary(r);
  if (!a.png_dir.empty()) write_pngs(a.png_dir, x, r);
  if (tokens) {
    if (::isatty(STDOUT_FILENO)) print_tokens(x, r);
    if (!a.html.empty()) write_token_html(a.html, x, r);
  }
  fmt::print("wrote {} {}\n", a.output, r.values.shape().str());
}

void setup(CLI::App& cmd) {
  auto a = std::make_shared<ExplainArgs>();
  cmd.add_option("MODEL", a->model, "Model file (.safetensors)")->required();
  cmd.add_option("INPUT", a->inputs, "Inputs .npy [N, ...], or one PNG image")->required();
  cmd.add_option("-o,--output", a->output, "Attributions .npy (the inputs' shape, or the layer output's)")->required();
  cmd.add_option("--method", a->method, "ig | gradient | saliency | gradxinput | smoothgrad")
      ->default_val("ig")
      ->check(CLI::IsMember({"ig", "gradient", "saliency", "gradxinput", "smoothgrad"}));
  cmd.add_option("--target", a->target, "predicted | class index K | TARGETS.npy")->default_val("predicted");
  cmd.add_option("--steps", a->steps, "IG: points on the path")->default_val(50)->check(CLI::Range(1, 1000000));
  cmd.add_option("--quadrature", a->quadrature, "IG: gausslegendre | riemann_left | riemann_right | riemann_middle | riemann_trapezoid | exact (piecewise-linear nets)")
      ->default_val("gausslegendre");
  cmd.add_option("--baseline", a->baseline, "IG: zero | NUMBER | BASELINE.npy (one example's shape, or [N, ...])")->default_val("zero");
  cmd.add_option("--batch-size", a->batch_size, "IG: path points evaluated together")->default_val(512)->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  cmd.add_option("--deltas", a->deltas, "IG: write the convergence delta per example (.npy)");
  cmd.add_option("--adaptive", a->adaptive, "IG: double the steps until |delta| <= TOL·|F(x) − F(x′)| (e.g. 0.05)");
  cmd.add_option("--layer", a->layer, "IG: attribute to the output of layer I (0-based)");
  cmd.add_flag("--token-norm", a->token_norm, "Layer IG on tokens: L2 norm per token instead of the (complete) sum");
  cmd.add_option("--samples", a->samples, "SmoothGrad: noisy samples")->default_val(50)->check(CLI::Range(1, 100000));
  cmd.add_option("--stdev", a->stdev, "SmoothGrad: noise standard deviation")->default_val(0.15);
  cmd.add_flag("--relative-noise", a->relative_noise, "SmoothGrad: --stdev is a fraction of each input's value range");
  cmd.add_option("--noise-type", a->noise_type, "SmoothGrad: smoothgrad | smoothgrad_sq | vargrad")->default_val("smoothgrad");
  cmd.add_option("--seed", a->seed, "SmoothGrad: noise seed")->default_val(0);
  cmd.add_option("--png", a->png_dir, "Write a heatmap and an overlay per image into DIR");
  cmd.add_option("--html", a->html, "Token inputs: write the tokens coloured by attribution as HTML");
  add_dtype_option(cmd, a->dtype);
  cmd.callback([a] { with_dtype(a->dtype, [&](auto t) { run<decltype(t)>(*a); }); });
}

const bool registered = register_command({"explain", "Attribute a model's outputs to its inputs (IG, gradient, saliency, gradient x input, SmoothGrad)", setup});

}  // namespace
}  // namespace integrad::cli
