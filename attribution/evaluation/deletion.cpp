// Deletion (see deletion.h): remove the most relevant features first, the probability should fall
// fast; lower area = more faithful. Also the curve code insertion.cpp shares.
#include "attribution/evaluation/deletion.h"

#include <cmath>
#include <numeric>

#include "attribution/evaluation/metric_support.h"
#include "nn/for_each_example.h"

namespace integrad::attr {

namespace {

// How p_k is read from one row of outputs (docs/evaluation.md): the target's softmax probability
// over C ≥ 2 class logits; for a regression the raw output (there is no probability to take); for a
// single binary logit its sigmoid. A softmax over one output is 1 whatever the input, so a
// one-output model that does not say what its output is gets a refusal, not a curve of ones.
enum class CurveScore { softmax, sigmoid, raw };

template <ad::Scalar T>
CurveScore curve_score(const nn::Model<T>& model, int64_t outputs, const std::string& metric) {
  if (model.output_kind == "regression") return CurveScore::raw;
  if (outputs >= 2) return CurveScore::softmax;
  if (model.output_kind == "binary-logit") return CurveScore::sigmoid;
  throw std::invalid_argument(fmt::format("{}: the model has one output and does not say what it is (a softmax over one output is always 1): "
                                          "give the model file the metadata output=regression or output=binary-logit (integrad train --loss mse|bce "
                                          "writes it)",
                                          metric));
}

template <ad::Scalar T>
double curve_point(const T* row, int64_t outputs, int64_t cls, CurveScore score) {
  switch (score) {
    case CurveScore::raw: return double(row[cls]);
    case CurveScore::sigmoid: return 1.0 / (1.0 + std::exp(-double(row[cls])));
    case CurveScore::softmax: break;
  }
  return metric_support::softmax_probability(row, outputs, cls);
}

}  // namespace

template <ad::Scalar T>
std::vector<std::vector<double>> perturbation_curves(const nn::Model<T>& model, const ad::Tensor<T>& inputs, const ad::Tensor<T>& attributions,
                                                     const Baseline<T>& baseline, const std::vector<int64_t>& classes, int64_t steps, CurveKind kind,
                                                     int64_t batch_size) {
  if (steps < 1) throw std::invalid_argument("--steps must be at least 1");
  if (batch_size < 1) throw std::invalid_argument("--batch-size must be at least 1");
  const int64_t n = inputs.size(0), d = inputs.shape().stride(0);
  const ad::Tensor<T> base = baseline.expand(inputs);
  std::vector<std::vector<double>> curves(static_cast<size_t>(n));
  const CurveScore score = curve_score(model, model.output_shape().numel(), kind == CurveKind::deletion ? "deletion" : "insertion");
  nn::for_each_example(n, [&](int64_t i) {
    const T* x = inputs.data() + i * d;
    const T* b = base.data() + i * d;
    const T* a = attributions.data() + i * d;
    std::vector<int64_t> order(static_cast<size_t>(d));
    std::iota(order.begin(), order.end(), int64_t(0));
    // A NaN attribution sorts last (as −∞), keeping the comparison a strict weak order.
    const auto key = [a](int64_t p) { return std::isnan(double(a[p])) ? -INFINITY : double(a[p]); };
    std::stable_sort(order.begin(), order.end(), [&key](int64_t p, int64_t q) { return key(p) > key(q); });
    // Copy k starts from x (deletion) or the baseline (insertion) and takes the other for the top round(k·D/K).
    const T* start = kind == CurveKind::deletion ? x : b;
    const T* swap = kind == CurveKind::deletion ? b : x;
    // The K + 1 copies in passes of at most --batch-size rows: memory follows --batch-size, not
    // --steps (100 000 steps on 28x28 held 300 MB of copies at once).
    const int64_t pass = batch_size;
    std::vector<double> p;
    for (int64_t k0 = 0; k0 <= steps; k0 += pass) {
      const int64_t m = std::min(pass, steps + 1 - k0);
      ad::Tensor<T> batch(inputs.shape().with(0, m));
      for (int64_t k = k0; k < k0 + m; ++k) {
        T* row = batch.data() + (k - k0) * d;
        std::copy(start, start + d, row);
        const int64_t top = std::llround(double(k) * double(d) / double(steps));
        for (int64_t j = 0; j < top; ++j) row[order[size_t(j)]] = swap[order[size_t(j)]];
      }
      const ad::Tensor<T> logits = model.predict(batch, pass);
      const int64_t c = logits.size(1), cls = classes[size_t(i)];
      if (cls < 0 || cls >= c) throw std::invalid_argument(fmt::format("target class {} is out of range for {} outputs", cls, c));
      for (int64_t k = 0; k < m; ++k) p.push_back(curve_point(logits.data() + k * c, c, cls, score));
    }
    curves[size_t(i)] = std::move(p);
  });
  return curves;
}

template <ad::Scalar T>
std::vector<std::vector<double>> perturbation_curves(const MetricCall<T>& c, CurveKind kind) {
  const std::string name = kind == CurveKind::deletion ? "deletion" : "insertion";
  metric_support::require_input_shape(c, name);
  return perturbation_curves(c.model, c.inputs, c.attributions, c.baseline, metric_support::classes(c, name), c.options.integer("steps"), kind,
                             metric_support::batch_size(c.options));
}

double curve_area(const std::vector<double>& p) {
  if (p.size() < 2) return 0.0;
  const double steps = double(p.size() - 1);
  double area = 0;
  for (size_t k = 1; k < p.size(); ++k) area += (p[k - 1] + p[k]) / (2 * steps);
  return area;
}

template <ad::Scalar T>
Metric<T> deletion_metric() {
  Metric<T> m{.name = "deletion",
              .summary = "area under the target's probability as the top-attributed features are set to the baseline (Petsiuk et al.)",
              .higher_is_better = false,
              .options = {{.name = "steps", .kind = OptionSpec::Kind::integer, .default_value = "20", .help = "points K of the deletion/insertion curve", .min = 1, .max = 100000}}};
  m.score = [](const MetricCall<T>& c) {
    std::vector<double> scores;
    for (const auto& p : perturbation_curves(c, CurveKind::deletion)) scores.push_back(curve_area(p));
    return scores;
  };
  return m;
}

#define INTEGRAD_CURVES(T)                                                                                                                               \
  template std::vector<std::vector<double>> perturbation_curves<T>(const nn::Model<T>&, const ad::Tensor<T>&, const ad::Tensor<T>&, const Baseline<T>&, \
                                                                   const std::vector<int64_t>&, int64_t, CurveKind, int64_t);                          \
  template std::vector<std::vector<double>> perturbation_curves<T>(const MetricCall<T>&, CurveKind);                                                   \
  template Metric<T> deletion_metric<T>();
INTEGRAD_CURVES(float)
INTEGRAD_CURVES(double)
#undef INTEGRAD_CURVES

}  // namespace integrad::attr
