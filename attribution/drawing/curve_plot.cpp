#include "attribution/drawing/curve_plot.h"

#include "attribution/drawing/svg_plot.h"

namespace integrad::attr {

std::string perturbation_curve_svg(const std::vector<MethodTableRow>& rows, CurveKind kind) {
  const bool deletion = kind == CurveKind::deletion;
  std::vector<Series> series;
  for (const MethodTableRow& r : rows) {
    const std::vector<double>& curve = deletion ? r.deletion_curve : r.insertion_curve;
    if (curve.size() < 2) continue;
    Series s{r.method, {}};
    for (size_t k = 0; k < curve.size(); ++k) s.points.emplace_back(double(k) / double(curve.size() - 1), curve[k]);
    series.push_back(std::move(s));
  }
  if (series.empty()) return "";
  return line_plot(series, deletion ? "deletion curve (a lower area is better)" : "insertion curve (a higher area is better)",
                   deletion ? "fraction of features set to the baseline, most relevant first" : "fraction of features put back, most relevant first", "mean probability of the target class", false, false);
}

}  // namespace integrad::attr
