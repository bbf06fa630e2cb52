#include "attribution/drawing/convergence_plot.h"

#include <fmt/format.h>

#include "attribution/drawing/svg_plot.h"

namespace integrad::attr {

// The rules come in the study's order (s.order holds one entry per rule studied).
std::string convergence_table(const ConvergenceStudy& s) {
  std::string out = fmt::format("convergence of IG against {} (max relative error; |delta| in brackets)\n{:>6}", s.reference, "steps");
  for (const auto& [r, order] : s.order) out += fmt::format(" {:>22}", rule_name(r));
  out += "\n";
  for (int n = 2;; n *= 2) {
    std::string line = fmt::format("{:>6}", n);
    bool any = false;
    for (const auto& [r, order] : s.order)
      for (const auto& p : s.points)
        if (p.rule == r && p.steps == n) {
          line += fmt::format(" {:>11.2e} [{:>8.1e}]", p.error, p.abs_delta);
          any = true;
        }
    if (!any) break;
    out += line + "\n";
  }
  out += fmt::format("{:>6}", "order");
  for (const auto& [r, o] : s.order) out += fmt::format(" {:>22.2f}", o);
  return out + "\n";
}

std::string convergence_csv(const ConvergenceStudy& s) {
  std::string out = "rule,steps,error,abs_delta\n";
  for (const auto& p : s.points) out += fmt::format("{},{},{:.17g},{:.17g}\n", rule_name(p.rule), p.steps, p.error, p.abs_delta);
  return out;
}

std::string convergence_svg(const ConvergenceStudy& s) {
  std::vector<Series> series;
  for (const auto& [r, order] : s.order) {
    Series line{rule_name(r), {}};
    for (const auto& p : s.points)
      if (p.rule == r && p.error > 0) line.points.emplace_back(p.steps, p.error);
    series.push_back(std::move(line));
  }
  return line_plot(series, "IG error against " + s.reference, "steps", "max relative error", true, true);
}

}  // namespace integrad::attr
