#include "attribution/drawing/summary_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "attribution/drawing/html.h"

namespace integrad::attr {

namespace {

constexpr int kLabelWidth = 300, kPlotWidth = 380, kRowHeight = 26, kTop = 34, kBottom = 40;

std::string label(const SummaryFeature& f, int y) {
  std::string out = fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"12\">{}", kLabelWidth - 8, y + 4, html_escape(f.name));
  if (!f.role.empty()) out += fmt::format(" <tspan fill=\"#8a5a00\" font-style=\"italic\">({})</tspan>", html_escape(f.role));
  return out + "</text>";
}

// The bar's colour says the feature's role (the first word of it).
std::string role_colour(const std::string& role) {
  if (role.starts_with("dummy")) return "#9e9e9e";
  if (role.starts_with("interaction")) return "#ff7f0e";
  if (role.starts_with("duplicate")) return "#9467bd";
  return "#d62728";
}

std::string header(int width, int height, const std::string& title) {
  return fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\">"
                     "<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/><text x=\"{2}\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">{3}</text>",
                     width, height, width / 2, html_escape(title));
}

// Blue (0) through light grey to red (1), as a CSS colour.
std::string value_colour(double t) {
  t = std::clamp(t, 0.0, 1.0);
  const double r = t < 0.5 ? 40 + 2 * t * 170 : 210 + (t - 0.5) * 2 * 20, g = t < 0.5 ? 90 + 2 * t * 120 : 210 - (t - 0.5) * 2 * 170,
               b = t < 0.5 ? 230 - 2 * t * 20 : 210 - (t - 0.5) * 2 * 170;
  return fmt::format("rgb({},{},{})", int(r), int(g), int(b));
}

}  // namespace

std::string mean_abs_bar_svg(const std::vector<SummaryFeature>& features, const std::vector<double>& mean_abs, const std::string& title) {
  const int rows = int(features.size()), width = kLabelWidth + kPlotWidth + 70, height = kTop + rows * kRowHeight + kBottom;
  double largest = 0;
  for (double v : mean_abs)
    if (std::isfinite(v)) largest = std::max(largest, v);
  if (largest <= 0) largest = 1;
  std::string svg = header(width, height, title);
  for (int j = 0; j < rows; ++j) {
    const int y = kTop + j * kRowHeight + kRowHeight / 2;
    const double v = std::isfinite(mean_abs[size_t(j)]) ? mean_abs[size_t(j)] : 0;
    const double w = kPlotWidth * v / largest;
    svg += label(features[size_t(j)], y);
    svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{:.2f}\" height=\"{}\" fill=\"{}\"><title>{}: {:.4g}</title></rect>", kLabelWidth, y - 8, w, 16,
                       role_colour(features[size_t(j)].role), html_escape(features[size_t(j)].name), v);
    svg += fmt::format("<text x=\"{:.2f}\" y=\"{}\" font-size=\"11\">{:.3g}</text>", kLabelWidth + w + 4, y + 4, v);
  }
  const int axis_y = kTop + rows * kRowHeight;
  svg += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#333\"/>", kLabelWidth, kTop, axis_y);
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\">mean |attribution|</text>", kLabelWidth + kPlotWidth / 2, axis_y + 24);
  return svg + "</svg>";
}

std::string beeswarm_svg(const std::vector<SummaryFeature>& features, const std::vector<double>& attributions, const std::vector<double>& values, int64_t n,
                         const std::string& title) {
  const int rows = int(features.size()), f = rows, width = kLabelWidth + kPlotWidth + 90, height = kTop + rows * kRowHeight + kBottom;
  double lo = 0, hi = 0;
  for (double a : attributions)
    if (std::isfinite(a)) lo = std::min(lo, a), hi = std::max(hi, a);
  if (hi - lo <= 0) hi = lo + 1;
  const double pad = 0.04 * (hi - lo);
  lo -= pad;
  hi += pad;
  auto px = [&](double a) { return kLabelWidth + kPlotWidth * (a - lo) / (hi - lo); };
  std::string svg = header(width, height, title);
  const int axis_y = kTop + rows * kRowHeight;
  svg += fmt::format("<line x1=\"{0:.2f}\" y1=\"{1}\" x2=\"{0:.2f}\" y2=\"{2}\" stroke=\"#999\" stroke-dasharray=\"3,3\"/>", px(0), kTop, axis_y);
  for (int j = 0; j < rows; ++j) {
    const int y = kTop + j * kRowHeight + kRowHeight / 2;
    svg += label(features[size_t(j)], y);
    double vlo = INFINITY, vhi = -INFINITY;
    for (int64_t i = 0; i < n; ++i) {
      const double v = values[size_t(i * f + j)];
      if (std::isfinite(v)) vlo = std::min(vlo, v), vhi = std::max(vhi, v);
    }
    // Dots piled up where they crowd: each dot takes the first free lane (0, +1, −1, +2, ...)
    // among those its horizontal neighbours within 2.5 px have not taken.
    std::vector<int64_t> order(size_t(n), 0);
    for (int64_t i = 0; i < n; ++i) order[size_t(i)] = i;
    std::stable_sort(order.begin(), order.end(), [&](int64_t p, int64_t q) { return attributions[size_t(p * f + j)] < attributions[size_t(q * f + j)]; });
    std::vector<std::pair<double, int>> placed;  // (x, lane) of the recent dots
    for (int64_t i : order) {
      const double a = attributions[size_t(i * f + j)];
      if (!std::isfinite(a)) continue;
      const double x = px(a);
      while (!placed.empty() && x - placed.front().first > 2.5) placed.erase(placed.begin());
      int lane = 0;
      for (int k = 0; k < 40; ++k) {
        const int candidate = (k + 1) / 2 * (k % 2 ? 1 : -1);
        if (std::none_of(placed.begin(), placed.end(), [&](const auto& p) { return p.second == candidate; })) {
          lane = candidate;
          break;
        }
      }
      placed.emplace_back(x, lane);
      const double yy = y + std::clamp(lane * 2.0, -double(kRowHeight) / 2 + 2, double(kRowHeight) / 2 - 2);
      const double v = values[size_t(i * f + j)];
      const double t = vhi > vlo && std::isfinite(v) ? (v - vlo) / (vhi - vlo) : 0.5;
      svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.2\" fill=\"{}\" fill-opacity=\"0.8\"/>", x, yy, value_colour(t));
    }
  }
  svg += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#333\"/>", kLabelWidth, axis_y, kLabelWidth + kPlotWidth, axis_y);
  for (int k = 0; k <= 4; ++k) {
    const double a = lo + (hi - lo) * k / 4;
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\">{:.2g}</text>", px(a), axis_y + 13, a);
  }
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\">attribution (dot colour: the feature's value, blue low, red high)</text>",
                     kLabelWidth + kPlotWidth / 2, axis_y + 30);
  // Colour bar.
  const int bx = kLabelWidth + kPlotWidth + 30;
  for (int k = 0; k < 20; ++k)
    svg += fmt::format("<rect x=\"{}\" y=\"{:.1f}\" width=\"12\" height=\"{:.1f}\" fill=\"{}\"/>", bx, kTop + (19 - k) * (rows * kRowHeight) / 20.0,
                       rows * kRowHeight / 20.0 + 0.5, value_colour(k / 19.0));
  svg += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"10\">high</text><text x=\"{}\" y=\"{}\" font-size=\"10\">low</text>", bx - 2, kTop - 4, bx, axis_y + 12);
  return svg + "</svg>";
}

}  // namespace integrad::attr
