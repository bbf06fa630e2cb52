// The methods × metrics table of `integrad evaluate --methods` and the report: each method run
// with its default options on the same inputs, its maps scored by each metric; per cell the
// per-example scores, per row the mean deletion and insertion curves (for plots), per column the
// best mean. A metric that re-runs a method (--method of sensitivity-max and randomisation)
// re-runs the row's method unless the options name one.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "attribution/metric.h"

namespace integrad::attr {

struct ScoreSummary {
  double mean = 0, standard_error = 0;  // sample standard deviation / √n; 0 for one example
};
ScoreSummary summarise(const std::vector<double>& scores);

struct MethodTableRow {
  std::string method;
  std::vector<std::vector<double>> scores;              // per metric, per example
  std::vector<double> deletion_curve, insertion_curve;  // mean p_0..p_K over the examples; empty unless that metric is a column
};

template <ad::Scalar T>
struct MethodTable {
  std::vector<const Metric<T>*> metrics;
  std::vector<MethodTableRow> rows;
  std::vector<std::string> skipped;  // "method: why" for each method that could not run with default options
  std::vector<double> best;          // per metric: the best row mean by the metric's direction (NaN rows ignored)
  bool is_best(size_t row, size_t metric) const { return summarise(rows[row].scores[metric]).mean == best[metric]; }
};

// Each metric's options out of `given` (name → text): those it declares; an option no metric
// declares is refused. With one metric, every given option goes to it (so its errors name it).
template <ad::Scalar T>
std::vector<Options> split_metric_options(const std::vector<const Metric<T>*>& metrics, const std::map<std::string, std::string>& given);

// progress(done, total) after each method's run and each cell: total = methods × (1 + metrics).
template <ad::Scalar T>
MethodTable<T> method_table(const nn::Model<T>& model, const ad::Tensor<T>& inputs, const Baseline<T>& baseline, const Target<T>& target,
                            const std::vector<std::string>& methods, const std::vector<std::string>& metrics, const std::map<std::string, std::string>& metric_options,
                            const std::function<void(int64_t done, int64_t total)>& progress = {});

}  // namespace integrad::attr
