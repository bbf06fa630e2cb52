// integrad convergence: how fast each quadrature rule's IG converges on a model, against exact IG
// (small piecewise-linear nets) or 4096-point Gauss-Legendre: a table, CSV and an SVG plot.
#include <fmt/format.h>

#include "attribution/drawing/convergence_plot.h"
#include "command.h"
#include "common.h"
#include "nn/atomic_file.h"
#include "nn/output_guard.h"

namespace integrad::cli {
namespace {

struct ConvergenceArgs {
  std::string model, inputs, csv, svg, dtype;
  int max_steps = 1024;
  int64_t limit = 1;
};

template <ad::Scalar T>
void run(const ConvergenceArgs& a) {
  nn::check_outputs({{"--csv", a.csv}, {"--svg", a.svg}}, {{"MODEL", a.model}, {"INPUT", a.inputs}});
  const nn::Model<T> model = nn::load_model<T>(a.model);
  ad::Tensor<T> x = load_inputs(a.inputs, model);
  if (x.size(0) == 0) throw std::invalid_argument(a.inputs + " holds no examples: there is nothing to study");
  if (x.size(0) > a.limit) x = x.rows(0, a.limit);
  warn_nonfinite(x, "convergence", "inputs");  // the errors and deltas are then nan, shown as such
  const auto study = attr::convergence_study(model, x, ad::Tensor<T>(x.shape()), a.max_steps);
  fmt::print("{}", attr::convergence_table(study));
  if (!a.csv.empty()) nn::write_file_atomically(a.csv, attr::convergence_csv(study));
  if (!a.svg.empty()) nn::write_file_atomically(a.svg, attr::convergence_svg(study));
}

void setup(CLI::App& cmd) {
  auto a = std::make_shared<ConvergenceArgs>();
  cmd.add_option("MODEL", a->model, "Model file (.safetensors)")->required();
  cmd.add_option("INPUT", a->inputs, "Inputs .npy [N, ...] or one PNG image (baseline 0)")->required();
  cmd.add_option("--max-steps", a->max_steps, "Largest step count (n = 2, 4, ... up to it)")->default_val(1024)->check(CLI::Range(2, 65536));
  cmd.add_option("--limit", a->limit, "Use the first N inputs")->default_val(1)->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  cmd.add_option("--csv", a->csv, "Write rule, steps, error, |delta| as CSV");
  cmd.add_option("--svg", a->svg, "Write a log-log plot as SVG");
  add_dtype_option(cmd, a->dtype);
  cmd.callback([a] { with_dtype(a->dtype, [&](auto t) { run<decltype(t)>(*a); }); });
}

const bool registered = register_command({"convergence", "Convergence of IG's quadrature rules with the step count (table, CSV, SVG)", setup});

}  // namespace
}  // namespace integrad::cli
