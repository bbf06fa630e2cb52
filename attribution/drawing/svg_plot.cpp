#include "attribution/drawing/svg_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace integrad::attr {

namespace {
std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}
const char* kColours[] = {"#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"};
}  // namespace

std::string line_plot(const std::vector<Series>& series, const std::string& title, const std::string& x_label, const std::string& y_label, bool log_x,
                      bool log_y, int width, int height) {
  auto tx = [&](double v) { return log_x ? std::log10(std::max(v, 1e-300)) : v; };
  auto ty = [&](double v) { return log_y ? std::log10(std::max(v, 1e-300)) : v; };
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const auto& s : series)
    for (auto [x, y] : s.points) {
      if (!std::isfinite(tx(x)) || !std::isfinite(ty(y))) continue;
      x0 = std::min(x0, tx(x)), x1 = std::max(x1, tx(x)), y0 = std::min(y0, ty(y)), y1 = std::max(y1, ty(y));
    }
  if (!(x0 < x1)) x0 -= 1, x1 += 1;
  if (!(y0 < y1)) y0 -= 1, y1 += 1;
  if (log_y) y0 = std::floor(y0), y1 = std::ceil(y1);
  const double left = 70, right = width - 150, top = 30, bottom = height - 45;
  auto px = [&](double v) { return left + (tx(v) - x0) / (x1 - x0) * (right - left); };
  auto py = [&](double v) { return bottom - (ty(v) - y0) / (y1 - y0) * (bottom - top); };
  std::string svg = fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" font-family=\"sans-serif\" font-size=\"11\">",
                                width, height, width, height);
  svg += fmt::format("<rect width=\"100%\" height=\"100%\" fill=\"white\"/><text x=\"{}\" y=\"18\" font-size=\"13\" font-weight=\"bold\">{}</text>", left, escape(title));
  svg += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"black\"/><line x1=\"{0}\" y1=\"{3}\" x2=\"{0}\" y2=\"{1}\" stroke=\"black\"/>", left,
                     bottom, right, top);
  // Ticks: 5 along each axis (decades on log axes).
  for (int i = 0; i <= 4; ++i) {
    const double vx = x0 + (x1 - x0) * i / 4, vy = y0 + (y1 - y0) * i / 4;
    const double sx = left + (right - left) * i / 4, sy = bottom - (bottom - top) * i / 4;
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{:.3g}</text>", sx, bottom + 15, log_x ? std::pow(10, vx) : vx);
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{:.3g}</text>", left - 5, sy + 4, log_y ? std::pow(10, vy) : vy);
    svg += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#ddd\"/>", left, sy, right, sy);
  }
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>", (left + right) / 2, height - 8, escape(x_label));
  svg += fmt::format("<text x=\"14\" y=\"{}\" transform=\"rotate(-90 14 {})\" text-anchor=\"middle\">{}</text>", (top + bottom) / 2, (top + bottom) / 2,
                     escape(y_label));
  for (size_t k = 0; k < series.size(); ++k) {
    const char* colour = kColours[k % 8];
    std::string path;
    for (auto [x, y] : series[k].points)
      if (std::isfinite(tx(x)) && std::isfinite(ty(y))) path += fmt::format("{}{:.1f},{:.1f} ", path.empty() ? "M" : "L", px(x), py(y));
    svg += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>", path, colour);
    for (auto [x, y] : series[k].points)  // markers, so that a single point still shows
      if (std::isfinite(tx(x)) && std::isfinite(ty(y))) svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>", px(x), py(y), colour);
    svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"3\" fill=\"{}\"/><text x=\"{}\" y=\"{}\">{}</text>", right + 12, top + 14 * k + 4, colour,
                       right + 28, top + 14 * k + 9, escape(series[k].name));
  }
  return svg + "</svg>";
}

}  // namespace integrad::attr
