// A minimal line plot as SVG text (axes, optional log scales, a legend): enough for the
// convergence study, the sanity checks and the training curve, with no plotting dependency.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace integrad::attr {

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;
};

std::string line_plot(const std::vector<Series>& series, const std::string& title, const std::string& x_label, const std::string& y_label, bool log_x,
                      bool log_y, int width = 640, int height = 400);

}  // namespace integrad::attr
