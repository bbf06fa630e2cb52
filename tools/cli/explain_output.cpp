#include "explain_output.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "attribution/drawing/heatmap.h"
#include "attribution/drawing/html.h"
#include "nn/atomic_file.h"
#include "png.h"
#include "nn/printable.h"

namespace integrad::cli {

template <ad::Scalar T>
void print_summary(const ExplainResult<T>& r, int64_t lines, int64_t first) {
  const std::vector<double> totals = ad::row_sums(r.values);
  const size_t n = totals.size(), shown = lines < 0 ? n : std::min(n, size_t(lines));
  for (size_t ui = 0; ui < shown; ++ui) {
    const double total = totals[ui];
    const int64_t i = first + int64_t(ui);
    std::string line = fmt::format("example {}: target {}", i, r.targets.empty() ? std::string("fn") : std::to_string(r.targets[ui]));
    if (!r.f_input.empty()) line += fmt::format(", F(x) {:.6g}", r.f_input[ui]);
    if (!r.f_baseline.empty()) line += fmt::format(", F(x') {:.6g}", r.f_baseline[ui]);
    line += fmt::format(", sum {:.6g}", total);
    if (!r.deltas.empty()) line += fmt::format(", delta {:.3g}", r.deltas[ui]);
    if (!r.steps.empty()) line += fmt::format(", steps {}", r.steps[ui]);
    fmt::print("{}\n", line);
  }
  if (shown < n) fmt::print("... {} more examples (--verbose prints every one)\n", n - shown);
  // The summary: over finite deltas; examples whose attributions hold a NaN or ±Inf are counted apart.
  const int64_t row = n ? r.values.numel() / int64_t(n) : 0;
  size_t nonfinite = 0, with_delta = 0, worst = 0;
  double sum = 0, worst_delta = -1;
  for (size_t i = 0; i < n; ++i) {
    const T* v = r.values.data() + int64_t(i) * row;
    if (!std::all_of(v, v + row, [](T e) { return std::isfinite(e); })) ++nonfinite;
    if (i < r.deltas.size() && std::isfinite(r.deltas[i])) {
      const double d = std::abs(r.deltas[i]);
      sum += d;
      ++with_delta;
      if (d > worst_delta) worst_delta = d, worst = i;
    }
  }
  std::string line = fmt::format("summary: {} examples", n);
  if (with_delta) line += fmt::format(", |delta| mean {:.3g}, worst {:.3g} (example {})", sum / double(with_delta), worst_delta, first + int64_t(worst));
  line += fmt::format(", {} with non-finite attributions", nonfinite);
  fmt::print("{}\n", line);
}

template <ad::Scalar T>
void print_features(const ad::Tensor<T>& inputs, const ExplainResult<T>& r, const std::vector<std::string>& names, int64_t limit) {
  if (inputs.rank() != 2 || r.values.shape() != inputs.shape() || int64_t(names.size()) != inputs.size(1)) return;
  const int64_t n = inputs.size(0), f = inputs.size(1);
  size_t width = 7;
  for (const auto& name : names) width = std::max(width, std::min<size_t>(name.size(), 24));
  for (int64_t i = 0; i < std::min(n, limit); ++i) {
    double largest = 0;
    for (int64_t j = 0; j < f; ++j) largest = std::max(largest, std::abs(double(r.values[i * f + j])));
    fmt::print("example {}{}:\n  {:<{}} {:>11} {:>12}\n", i, r.targets.empty() ? "" : fmt::format(" (target {})", r.targets[size_t(i)]), "feature", width, "value",
               "attribution");
    for (int64_t j = 0; j < f; ++j) {
      const double a = double(r.values[i * f + j]);
      const int bar = largest > 0 && std::isfinite(a) ? int(std::lround(12 * std::abs(a) / largest)) : 0;
      std::string drawn;
      for (int k = 0; k < bar; ++k) drawn += a < 0 ? "-" : "+";
      fmt::print("  {:<{}} {:>11.4g} {:>12.4g}  {}\n", nn::printable(names[size_t(j)]).substr(0, 24), width, double(inputs[i * f + j]), a, drawn);
    }
  }
  if (n > limit) fmt::print("({} more examples in the .npy)\n", n - limit);
}

template <ad::Scalar T>
void write_pngs(const std::string& dir, const ad::Tensor<T>& inputs, const ExplainResult<T>& r, int64_t first) {
  // A map of one channel per pixel (Grad-CAM's [N, 1, H, W]) goes with inputs of any channel count.
  const bool per_pixel = inputs.rank() == 4 && r.values.rank() == 4 && r.values.size(1) == 1 && r.values.size(0) == inputs.size(0) &&
                         r.values.size(2) == inputs.size(2) && r.values.size(3) == inputs.size(3);
  if ((r.values.shape() != inputs.shape() && !per_pixel) || (inputs.rank() != 3 && inputs.rank() != 4))
    throw std::invalid_argument("--png needs image inputs [N, C, H, W] or [N, H, W] and attributions of the same shape (or [N, 1, H, W]), got " +
                                r.values.shape().str());
  nn::create_output_directory(dir);
  const int64_t n = inputs.size(0), c = inputs.rank() == 4 ? inputs.size(1) : 1, h = inputs.size(-2), w = inputs.size(-1), hw = h * w;
  const int64_t ac = per_pixel ? 1 : c;  // the attributions' channels
  const int scale = static_cast<int>(std::max<int64_t>(1, 224 / std::max(h, w)));
  for (int64_t i = 0; i < n; ++i) {
    std::vector<double> heat(static_cast<size_t>(hw)), gray(static_cast<size_t>(hw));
    for (int64_t k = 0; k < c; ++k)
      for (int64_t p = 0; p < hw; ++p) gray[static_cast<size_t>(p)] += double(inputs[(i * c + k) * hw + p]) / double(c);
    for (int64_t k = 0; k < ac; ++k)
      for (int64_t p = 0; p < hw; ++p) heat[static_cast<size_t>(p)] += double(r.values[(i * ac + k) * hw + p]);
    const double vmax = attr::cumulative_sum_threshold(heat);
    const std::string stem = fmt::format("{}/{}_{}", dir, first + i, r.method);
    write_png(stem + "_heatmap.png", attr::with_colour_bar(attr::heatmap(heat, int(h), int(w), r.is_signed, vmax, scale), r.is_signed, vmax));
    write_png(stem + "_overlay.png", attr::with_colour_bar(attr::overlay(gray, heat, int(h), int(w), r.is_signed, vmax, scale), r.is_signed, vmax));
  }
  fmt::print("wrote {} heatmaps and overlays to {}\n", n, nn::printable(dir));
}

namespace {
template <ad::Scalar T>
const ad::Tensor<T>& per_token(const ExplainResult<T>& r) {
  return r.token_values.numel() ? r.token_values : r.values;
}
template <ad::Scalar T>
double token_scale(const ad::Tensor<T>& v, int64_t i, int64_t len) {
  double m = 0;
  for (int64_t t = 0; t < len; ++t) m = std::max(m, std::abs(double(v[i * len + t])));
  return m > 0 ? m : 1;
}
}  // namespace

template <ad::Scalar T>
void print_tokens(const ad::Tensor<T>& inputs, const ExplainResult<T>& r) {
  const ad::Tensor<T>& v = per_token(r);
  const int64_t n = inputs.size(0), len = inputs.shape().stride(0);
  for (int64_t i = 0; i < n; ++i) {
    const double m = token_scale(v, i, len);
    std::string line = fmt::format("example {}: ", i);
    for (int64_t t = 0; t < len; ++t) {
      const double a = double(v[i * len + t]) / m;
      const int level = static_cast<int>(std::lround(std::abs(a) * 4));  // 0..4
      // 256-colour backgrounds: reds for positive, blues for negative, plain for ~0.
      static const int reds[] = {0, 224, 217, 203, 196}, blues[] = {0, 153, 117, 75, 33};
      const int colour = a >= 0 ? reds[level] : blues[level];
      line += level ? fmt::format("\x1b[48;5;{}m{}\x1b[0m ", colour, int64_t(inputs[i * len + t])) : fmt::format("{} ", int64_t(inputs[i * len + t]));
    }
    fmt::print("{}\n", line);
  }
}

template <ad::Scalar T>
void write_token_html(const std::string& path, const ad::Tensor<T>& inputs, const ExplainResult<T>& r) {
  const ad::Tensor<T>& v = per_token(r);
  const int64_t n = inputs.size(0), len = inputs.shape().stride(0);
  std::string html = fmt::format("<!doctype html><meta charset=utf-8><title>integrad token attributions</title><style>body{{font-family:sans-serif}}{}</style>"
                                 "<h1>Token attributions ({})</h1><p>Red: pushes towards the target; blue: against it.</p>",
                                 attr::kTokenStyle, r.method);
  for (int64_t i = 0; i < n; ++i) {
    const double m = token_scale(v, i, len);
    html += fmt::format("<p>example {} (target {}): ", i, r.targets.empty() ? std::string("fn") : std::to_string(r.targets[static_cast<size_t>(i)]));
    for (int64_t t = 0; t < len; ++t) html += attr::token_span(int64_t(inputs[i * len + t]), double(v[i * len + t]), m);
    html += "</p>\n";
  }
  nn::write_file_atomically(path, html);
}

#define INTEGRAD_INSTANTIATE(T)                                                                       \
  template void print_summary(const ExplainResult<T>&, int64_t, int64_t);                             \
  template void write_pngs(const std::string&, const ad::Tensor<T>&, const ExplainResult<T>&, int64_t); \
  template void print_features(const ad::Tensor<T>&, const ExplainResult<T>&, const std::vector<std::string>&, int64_t); \
  template void print_tokens(const ad::Tensor<T>&, const ExplainResult<T>&);                          \
  template void write_token_html(const std::string&, const ad::Tensor<T>&, const ExplainResult<T>&);
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)
#undef INTEGRAD_INSTANTIATE

}  // namespace integrad::cli
