#include "attribution/drawing/attention_map.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "attribution/drawing/html.h"

namespace integrad::attr {

std::string attention_heatmaps_svg(const std::vector<double>& w, int64_t layers, int64_t heads, const std::vector<int64_t>& tokens) {
  const int64_t t = static_cast<int64_t>(tokens.size());
  const int cell = t > 24 ? 8 : 14, label = 22, gap = 18, title = 16;
  const int64_t side = label + cell * t;
  const int64_t width = heads * (side + gap), height = layers * (side + gap + title);
  std::string svg = fmt::format("<svg class=attention xmlns='http://www.w3.org/2000/svg' width='{}' height='{}' font-family='monospace' font-size='{}'>",
                                width, height, std::max(7, cell - 4));
  for (int64_t l = 0; l < layers; ++l)
    for (int64_t h = 0; h < heads; ++h) {
      const int64_t x0 = h * (side + gap), y0 = l * (side + gap + title);
      svg += fmt::format("<g class=head data-layer='{}' data-head='{}'><text x='{}' y='{}' font-size='11'>layer {} head {}</text>", l, h, x0 + label,
                         y0 + title - 4, l, h);
      for (int64_t i = 0; i < t; ++i) {
        svg += fmt::format("<text x='{}' y='{}' text-anchor='end'>{}</text>", x0 + label - 2, y0 + title + label + cell * i + cell - 3, tokens[size_t(i)]);
        svg += fmt::format("<text x='{}' y='{}' text-anchor='middle'>{}</text>", x0 + label + cell * i + cell / 2, y0 + title + label - 4, tokens[size_t(i)]);
      }
      for (int64_t i = 0; i < t; ++i)
        for (int64_t j = 0; j < t; ++j) {
          const double v = std::clamp(w[size_t(((l * heads + h) * t + i) * t + j)], 0.0, 1.0);
          // White to dark red: 0 → (255, 255, 255), 1 → (165, 0, 38).
          const int r = int(std::lround(255 - 90 * v)), g = int(std::lround(255 * (1 - v))), b = int(std::lround(255 - 217 * v));
          svg += fmt::format("<rect x='{}' y='{}' width='{}' height='{}' fill='rgb({},{},{})'><title>query {} key {}: {:.3f}</title></rect>",
                             x0 + label + cell * j, y0 + title + label + cell * i, cell, cell, r, g, b, i, j, v);
        }
      svg += "</g>";
    }
  return svg + "</svg>";
}

namespace {
double row_scale(const std::vector<double>& s) {
  double m = 0;
  for (double v : s)
    if (std::isfinite(v)) m = std::max(m, std::abs(v));
  return m > 0 ? m : 1;
}
}  // namespace

std::string token_rows_html(const std::vector<int64_t>& tokens, const std::vector<TokenRow>& rows, const std::vector<bool>& marked) {
  std::string html = "<table class=tokens>";
  for (const TokenRow& row : rows) {
    const double m = row_scale(row.scores);
    html += fmt::format("<tr><th style='text-align:left;padding-right:8px'>{}</th><td>", html_escape(row.method));
    for (size_t k = 0; k < tokens.size(); ++k) {
      std::string span = token_span(tokens[k], k < row.scores.size() ? row.scores[k] : 0.0, m);
      if (k < marked.size() && marked[k]) span = "<u>" + span + "</u>";
      html += span;
    }
    html += "</td></tr>";
  }
  return html + "</table>";
}

std::string token_rows_ansi(const std::vector<int64_t>& tokens, const std::vector<TokenRow>& rows) {
  size_t width = 0;
  for (const TokenRow& row : rows) width = std::max(width, row.method.size());
  std::string out;
  for (const TokenRow& row : rows) {
    const double m = row_scale(row.scores);
    std::string line = fmt::format("  {:<{}} ", row.method, width);
    for (size_t k = 0; k < tokens.size(); ++k) {
      const double a = k < row.scores.size() && std::isfinite(row.scores[k]) ? row.scores[k] / m : 0.0;
      const int level = static_cast<int>(std::lround(std::abs(a) * 4));
      static const int reds[] = {0, 224, 217, 203, 196}, blues[] = {0, 153, 117, 75, 33};
      line += level ? fmt::format("\x1b[48;5;{}m{:>2}\x1b[0m ", a >= 0 ? reds[level] : blues[level], tokens[k]) : fmt::format("{:>2} ", tokens[k]);
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace integrad::attr
