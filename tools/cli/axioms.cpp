// integrad axioms: the axiom matrix of a model (methods × axioms), or `--example paper` for the
// paper's own examples and claims. Exits non-zero when IG fails an axiom it must satisfy.
#include <fmt/format.h>

#include <cmath>

#include "attribution/drawing/axiom_table.h"
#include "attribution/method.h"
#include "attribution/methods/contrast_methods.h"
#include "attribution/methods/gradients.h"
#include "attribution/methods/integrated_gradients.h"
#include "attribution/evaluation/paper_models.h"
#include "command.h"
#include "common.h"
#include "nn/atomic_file.h"
#include "nn/npy.h"
#include "nn/output_guard.h"
#include "nn/printable.h"

namespace integrad::cli {
namespace {

struct AxiomsArgs {
  std::string model, inputs, example, json, markdown, dtype, baseline = "zero";
  std::vector<std::string> twins, methods;
  int steps = 50;
  int64_t limit = 4;
};

struct Claim {
  std::string text;
  bool reproduced;
};

// Writes the reports, prints the table, and returns the IG axioms that failed.
std::vector<std::string> report(const std::vector<attr::MatrixRow>& rows, const std::string& title) {
  fmt::print("{}\n{}\n", title, attr::matrix_table(rows));
  std::vector<std::string> broken;
  for (const auto& r : rows)
    for (const auto& c : r.checks)
      if (c.applicable && !c.passed && attr::must_satisfy(r, c.name)) broken.push_back(r.method + " / " + c.name + ": " + c.detail);
  return broken;
}

template <ad::Scalar T>
std::vector<attr::NamedMethod<T>> selected_methods(const nn::Model<T>& model, const AxiomsArgs& a) {
  auto all = attr::matrix_methods(model, {{"steps", std::to_string(a.steps)}});
  if (a.methods.empty()) return all;
  std::vector<attr::NamedMethod<T>> chosen;
  for (const auto& name : a.methods) {
    auto it = std::find_if(all.begin(), all.end(), [&](const auto& m) { return m.name == name; });
    if (it == all.end()) {
      std::vector<std::string> names;
      for (const auto& m : all) names.push_back(m.name);
      throw std::invalid_argument(fmt::format("unknown method '{}' for this model (its rows: {})", name, fmt::join(names, ", ")));
    }
    chosen.push_back(*it);
  }
  return chosen;
}

template <ad::Scalar T>
void run_model(const AxiomsArgs& a) {
  std::vector<nn::NamedPath> inputs = {{"MODEL", a.model}, {"INPUT", a.inputs}};
  for (const auto& t : a.twins) inputs.push_back({"--twin", t});
  nn::check_outputs({{"--json", a.json}, {"--markdown", a.markdown}}, inputs);
  const nn::Model<T> model = nn::load_model<T>(a.model);
  // The checks perturb and differentiate the inputs; token ids have neither a gradient nor a path.
  if (model.input_dtype == nn::InputDtype::int64)
    throw std::invalid_argument(a.model + " reads token ids (its first layer is an Embedding): the axiom checks need continuous inputs; attribute "
                                "to the embeddings with explain --method ig --layer 0 --baseline 0, whose --deltas show completeness");
  ad::Tensor<T> x = load_inputs(a.inputs, model);
  if (x.size(0) == 0) throw std::invalid_argument(a.inputs + " holds no examples: there is nothing to check");
  if (a.limit > 0 && x.size(0) > a.limit) x = x.rows(0, a.limit);
  ad::Tensor<T> baseline(x.shape());
  if (a.baseline != "zero") {
    size_t used = 0;
    double v = NAN;
    try {
      v = std::stod(a.baseline, &used);
    } catch (const std::exception&) {
    }
    if (used != a.baseline.size() || !std::isfinite(v)) throw std::invalid_argument("--baseline must be zero or a finite number; got '" + a.baseline + "'");
    baseline = ad::Tensor<T>(x.shape(), static_cast<T>(v));
  }
  attr::Twins<T> twins;
  for (const auto& path : a.twins) {
    nn::Model<T> twin = nn::load_model<T>(path);
    // A twin computes the same function: it takes the same inputs and gives the same outputs.
    if (twin.input_shape != model.input_shape || twin.input_dtype != model.input_dtype || twin.output_shape() != model.output_shape())
      throw std::invalid_argument(fmt::format("--twin {} maps {} to {}, MODEL {} maps {} to {}: a twin must take and give the same shapes", nn::printable(path),
                                              twin.input_shape.str(), twin.output_shape().str(), nn::printable(a.model), model.input_shape.str(),
                                              model.output_shape().str()));
    twins.emplace_back(path, std::move(twin));
  }
  const auto rows = attr::axiom_matrix(model, selected_methods(model, a), x, baseline, twins);
  if (!a.json.empty()) nn::write_file_atomically(a.json, attr::matrix_json(rows));
  if (!a.markdown.empty()) nn::write_file_atomically(a.markdown, attr::matrix_markdown(rows));
  const auto broken = report(rows, fmt::format("axiom matrix of {} on {} inputs (baseline {}, {} IG steps)", a.model, x.size(0), a.baseline, a.steps));
  if (!broken.empty()) {
    // The tables are whole and show the failure: they are kept, although the command fails.
    if (nn::OutputSet* outputs = nn::OutputSet::current()) outputs->commit();
    throw std::runtime_error("IG fails an axiom it must satisfy:\n  " + fmt::format("{}", fmt::join(broken, "\n  ")));
  }
}

void run_paper(const AxiomsArgs& a) {
  using attr::Target;
  using T = double;
  const auto f = attr::paper_appendix_b_f(), g = attr::paper_appendix_b_g(), step = attr::paper_one_minus_relu();
  const ad::Tensor<T> x(ad::Shape{1, 2}, std::vector<T>{3, 1}), zero2(ad::Shape{1, 2});
  const ad::Tensor<T> two(ad::Shape{1, 1}, 2.0), zero1(ad::Shape{1, 1});

  attr::Twins<T> twin_g;
  twin_g.emplace_back("g (Appendix B)", g.clone());
  const auto rows_fg = attr::axiom_matrix(f, attr::matrix_methods(f, {{"steps", std::to_string(a.steps)}}), x, zero2, twin_g);
  const auto rows_step = attr::axiom_matrix(step, attr::matrix_methods(step, {{"steps", std::to_string(a.steps)}}), two, zero1, {});
  auto broken = report(rows_fg, "f(x) = ReLU(ReLU(x1) - 1 - ReLU(x2)) at x = (3, 1), baseline 0, twin g(x) = ReLU(ReLU(x1 - 1) - ReLU(x2))");
  auto more = report(rows_step, "F(x) = 1 - ReLU(1 - x) at x = 2, baseline 0");
  broken.insert(broken.end(), more.begin(), more.end());

  // The paper's claims, measured.
  attr::IgOptions<T> o;
  o.steps = a.steps;
  const auto ig_f = attr::integrated_gradients(attr::forward_of(f), x, Target<T>::of(0), o).values;
  const auto ig_g = attr::integrated_gradients(attr::forward_of(g), x, Target<T>::of(0), o).values;
  const auto dl_f = attr::deeplift_rescale(f, x, zero2, Target<T>::of(0)), dl_g = attr::deeplift_rescale(g, x, zero2, Target<T>::of(0));
  const auto gbp = attr::guided_backprop(f, x, Target<T>::of(0));
  const double grad_step = attr::gradient(attr::forward_of(step), two, Target<T>::of(0))[0];
  const auto near = [](double p, double q) { return std::abs(p - q) < 1e-2; };
  const std::vector<Claim> claims = {
      {fmt::format("gradients break sensitivity(a) on 1 - ReLU(1 - x): gradient at x = 2 is {} while F changes by 1", grad_step), grad_step == 0},
      {fmt::format("IG gives (1.5, -0.5) on f: ({:.4f}, {:.4f}) and on g: ({:.4f}, {:.4f})", ig_f[0], ig_f[1], ig_g[0], ig_g[1]),
       near(ig_f[0], 1.5) && near(ig_f[1], -0.5) && near(ig_g[0], 1.5) && near(ig_g[1], -0.5)},
      {fmt::format("DeepLift tells the equal f and g apart: f ({:.4f}, {:.4f}), g ({:.4f}, {:.4f})", dl_f[0], dl_f[1], dl_g[0], dl_g[1]),
       !near(dl_f[0], dl_g[0]) || !near(dl_f[1], dl_g[1])},
      {fmt::format("Guided Backprop gives x2 {} although f falls as x2 rises", gbp[1]), gbp[1] == 0},
  };
  fmt::print("The paper's claims:\n");
  bool all = true;
  for (const auto& c : claims) {
    fmt::print("  [{}] {}\n", c.reproduced ? "reproduced" : "NOT REPRODUCED", c.text);
    all = all && c.reproduced;
  }
  if (!a.json.empty()) nn::write_file_atomically(a.json, "{\"appendix_b\": " + attr::matrix_json(rows_fg) + ", \"one_minus_relu\": " + attr::matrix_json(rows_step) + "}");
  if (!a.markdown.empty()) nn::write_file_atomically(a.markdown, attr::matrix_markdown(rows_fg) + "\n" + attr::matrix_markdown(rows_step));
  if (!all) throw std::runtime_error("a claim of the paper was not reproduced");
  if (!broken.empty()) {
    // The tables are whole and show the failure: they are kept, although the command fails.
    if (nn::OutputSet* outputs = nn::OutputSet::current()) outputs->commit();
    throw std::runtime_error("IG fails an axiom it must satisfy:\n  " + fmt::format("{}", fmt::join(broken, "\n  ")));
  }
}

void setup(CLI::App& cmd) {
  auto a = std::make_shared<AxiomsArgs>();
  cmd.add_option("MODEL", a->model, "Model file (.safetensors)");
  cmd.add_option("INPUT", a->inputs, "Inputs .npy [N, ...], or one PNG image");
  cmd.add_option("--example", a->example, "Run a built-in example instead: paper")->check(CLI::IsMember({"paper"}));
  cmd.add_option("--twin", a->twins, "A functionally equivalent model file (repeatable)");
  cmd.add_option("--methods", a->methods, "Only these rows of the matrix (every registered method; IG as ig_<rule>)");
  cmd.add_option("--baseline", a->baseline, "zero or a NUMBER")->default_val("zero");
  cmd.add_option("--steps", a->steps, "IG steps")->default_val(50)->check(CLI::Range(2, 100000));
  cmd.add_option("--limit", a->limit, "Check the first N inputs")->default_val(4)->check(CLI::Range(int64_t(1), int64_t(1) << 40));
  cmd.add_option("--json", a->json, "Write every figure as JSON");
  cmd.add_option("--markdown", a->markdown, "Write the matrix as a Markdown table");
  add_dtype_option(cmd, a->dtype);
  cmd.callback([a] {
    if (!a->example.empty()) return run_paper(*a);
    if (a->model.empty() || a->inputs.empty()) throw std::invalid_argument("give MODEL and INPUT.npy, or --example paper");
    with_dtype(a->dtype, [&](auto t) { run_model<decltype(t)>(*a); });
  });
}

const bool registered = register_command({"axioms", "Check the attribution axioms (the axiom matrix), or reproduce the paper's claims", setup});

}  // namespace
}  // namespace integrad::cli
