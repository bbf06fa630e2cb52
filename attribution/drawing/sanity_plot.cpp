#include "attribution/drawing/sanity_plot.h"

#include <algorithm>
#include <cmath>

#include "attribution/drawing/svg_plot.h"

namespace integrad::attr {

std::string sanity_svg(const std::vector<SanityPoint>& points, const std::string& mode) {
  std::vector<Series> series;
  for (const auto& p : points) {
    if (p.mode != mode) continue;
    auto it = std::find_if(series.begin(), series.end(), [&](const Series& s) { return s.name == p.method; });
    if (it == series.end()) {
      series.push_back({p.method, {}});
      it = series.end() - 1;
    }
    it->points.emplace_back(double(it->points.size() + 1), p.spearman_abs);
  }
  // A method with no image left to rank (every trained map constant) has only NaN: not drawn.
  std::erase_if(series, [](const Series& s) { return std::none_of(s.points.begin(), s.points.end(), [](const auto& q) { return std::isfinite(q.second); }); });
  return line_plot(series, mode + " randomization: rank correlation of |A| with the trained model's",
                   mode == "cascading" ? "layers randomized (from the top)" : "layer randomized (from the top)", "Spearman", false, false);
}

}  // namespace integrad::attr
