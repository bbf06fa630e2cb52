// Faithfulness correlation (Bhatt et al. 2020), as Quantus' FaithfulnessCorrelation with its
// defaults (100 runs, subsets of 224 features, the baseline as the replacement value, the logit as
// the output): for each run a random subset S of the features is set to the baseline, and the
// score is the Pearson correlation over the runs between Σ_{j∈S} a_j and F(x) − F(x with S at the
// baseline). Higher: the map predicts how much each group of features matters. Example i draws its
// subsets from seed + i. It ranks maps by a linear relation: a map with the right order but a
// nonlinear scale, or a model with strong feature interactions, scores below 1.
#include <cmath>
#include <numeric>

#include "attribution/evaluation/given_perturbations.h"
#include "attribution/evaluation/metric_support.h"
#include "nn/for_each_example.h"

namespace integrad::attr {

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = double(a.size());
  const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n, mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) sab += (a[i] - ma) * (b[i] - mb), saa += (a[i] - ma) * (a[i] - ma), sbb += (b[i] - mb) * (b[i] - mb);
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : NAN;
}

namespace {
// Appends each subset's Σ_S a to `sums` and F(x) − F(x with S at the baseline) to `drops`.
template <ad::Scalar T>
void subset_effects(const nn::Model<T>& model, const ad::Tensor<T>& x, const ad::Tensor<T>& a, const ad::Tensor<T>& base, int64_t cls,
                    const std::vector<std::vector<int64_t>>& subsets, std::vector<double>& sums, std::vector<double>& drops,
                    int64_t batch_size = 512) {
  const int64_t d = x.numel(), runs = int64_t(subsets.size());
  // Row 0: x itself; row r: x with subset r − 1 at the baseline. One forward-only batch.
  ad::Tensor<T> batch(x.shape().with(0, runs + 1));
  std::copy(x.data(), x.data() + d, batch.data());
  for (int64_t r = 1; r <= runs; ++r) {
    T* row = batch.data() + r * d;
    std::copy(x.data(), x.data() + d, row);
    double sum = 0;
    for (int64_t j : subsets[size_t(r - 1)]) {
      if (j < 0 || j >= d) throw std::invalid_argument(fmt::format("faithfulness-correlation: feature {} is out of range for {} features", j, d));
      row[j] = base[j];
      sum += double(a[j]);
    }
    sums.push_back(sum);
  }
  const ad::Tensor<T> out = model.predict(batch, batch_size);
  const int64_t k = out.size(1);
  if (cls < 0 || cls >= k) throw std::invalid_argument(fmt::format("target class {} is out of range for {} outputs", cls, k));
  for (int64_t r = 1; r <= runs; ++r) drops.push_back(double(out[cls]) - double(out[r * k + cls]));
}
}  // namespace

template <ad::Scalar T>
double faithfulness_correlation_given(const nn::Model<T>& model, const ad::Tensor<T>& x, const ad::Tensor<T>& a, const ad::Tensor<T>& base, int64_t cls,
                                      const std::vector<std::vector<int64_t>>& subsets) {
  std::vector<double> sums, drops;
  subset_effects(model, x, a, base, cls, subsets, sums, drops);
  return pearson(sums, drops);
}

template <ad::Scalar T>
Metric<T> faithfulness_correlation_metric() {
  using K = OptionSpec::Kind;
  Metric<T> m{.name = "faithfulness-correlation",
              .summary = "Pearson correlation over random subsets S between Σ_S a and F(x) − F(x with S at the baseline) (Bhatt et al.; Quantus' FaithfulnessCorrelation)",
              .higher_is_better = true,
              .options = {{.name = "samples", .kind = K::integer, .default_value = "100", .help = "random subsets (runs) per example", .min = 2, .max = 1e6},
                          {.name = "subset-size", .kind = K::integer, .default_value = "224", .help = "features per subset (at most D − 1)", .min = 1, .max = 1e12},
                          {.name = "subset-fraction", .kind = K::real, .default_value = "0", .help = "instead of --subset-size: this fraction of the D features (0: off)", .min = 0, .max = 1},
                          {.name = "seed", .kind = K::integer, .default_value = "0", .help = "seed of the random draws (perturbations, subsets; randomisation: the new weights)", .min = 0, .max = 1e15}}};
  m.score = [](const MetricCall<T>& c) {
    metric_support::require_input_shape(c, "faithfulness-correlation");
    const std::vector<int64_t> classes = metric_support::classes(c, "faithfulness-correlation");
    const int64_t n = c.inputs.size(0), d = c.inputs.shape().stride(0), runs = c.options.integer("samples");
    if (d < 2) throw std::invalid_argument("faithfulness-correlation needs at least 2 features per example");
    const double fraction = c.options.real("subset-fraction");
    if (fraction == 0 && c.options.given("subset-size") && c.options.integer("subset-size") >= d)
      throw std::invalid_argument(fmt::format("--subset-size {} must be below the {} features of an example (a subset of all of them varies nothing)",
                                              c.options.integer("subset-size"), d));
    const int64_t size = std::min(d - 1, fraction > 0 ? std::max<int64_t>(1, std::llround(fraction * double(d))) : c.options.integer("subset-size"));
    const ad::Tensor<T> base = c.baseline.expand(c.inputs);
    std::vector<double> scores(static_cast<size_t>(n));
    nn::for_each_example(n, [&](int64_t i) {
      // Subsets without replacement: the first `size` of a partial Fisher–Yates shuffle.
      ad::Rng rng(uint64_t(c.options.integer("seed")) + uint64_t(c.first + i));
      // The runs in passes of at most --batch-size, drawn in the same order (the same subsets as one
      // pass): memory follows --batch-size, not --samples, and only two numbers per run are kept.
      const int64_t pass = metric_support::batch_size(c.options);
      std::vector<std::vector<int64_t>> subsets;
      std::vector<double> sums, drops;
      std::vector<int64_t> perm(static_cast<size_t>(d));
      const ad::Tensor<T> xi = c.inputs.rows(i, i + 1), ai = c.attributions.rows(i, i + 1), bi = base.rows(i, i + 1);
      for (int64_t r = 0; r < runs; ++r) {
        std::iota(perm.begin(), perm.end(), int64_t(0));
        for (int64_t j = 0; j < size; ++j) std::swap(perm[size_t(j)], perm[size_t(j + int64_t(rng.below(uint64_t(d - j))))]);
        subsets.emplace_back(perm.begin(), perm.begin() + size);
        if (int64_t(subsets.size()) == pass || r + 1 == runs) {
          subset_effects(c.model, xi, ai, bi, classes[size_t(i)], subsets, sums, drops, pass);
          subsets.clear();
        }
      }
      scores[size_t(i)] = pearson(sums, drops);
    });
    return scores;
  };
  return m;
}

template double faithfulness_correlation_given<float>(const nn::Model<float>&, const ad::Tensor<float>&, const ad::Tensor<float>&, const ad::Tensor<float>&,
                                                      int64_t, const std::vector<std::vector<int64_t>>&);
template double faithfulness_correlation_given<double>(const nn::Model<double>&, const ad::Tensor<double>&, const ad::Tensor<double>&, const ad::Tensor<double>&,
                                                       int64_t, const std::vector<std::vector<int64_t>>&);
template Metric<float> faithfulness_correlation_metric<float>();
template Metric<double> faithfulness_correlation_metric<double>();

}  // namespace integrad::attr
