#include "attribution/evaluation/sanity.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "nn/init.h"

namespace integrad::attr {

namespace {
std::vector<double> ranks(std::span<const double> v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < order.size();) {  // ties share their mean rank
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    for (size_t k = i; k <= j; ++k) r[order[k]] = 0.5 * double(i + j);
    i = j + 1;
  }
  return r;
}
}  // namespace

double spearman(std::span<const double> a, std::span<const double> b) {
  const std::vector<double> ra = ranks(a), rb = ranks(b);
  const double n = double(ra.size());
  const double ma = std::accumulate(ra.begin(), ra.end(), 0.0) / n, mb = std::accumulate(rb.begin(), rb.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < ra.size(); ++i) sab += (ra[i] - ma) * (rb[i] - mb), saa += (ra[i] - ma) * (ra[i] - ma), sbb += (rb[i] - mb) * (rb[i] - mb);
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0.0;
}

template <ad::Scalar T>
double mean_spearman(const ad::Tensor<T>& trained, const ad::Tensor<T>& randomized, bool absolute, int64_t* counted) {
  const int64_t n = trained.size(0), row = trained.shape().stride(0);
  double total = 0;
  int64_t rows = 0;
  for (int64_t i = 0; i < n; ++i) {
    std::vector<double> a(static_cast<size_t>(row)), b(static_cast<size_t>(row));
    for (int64_t j = 0; j < row; ++j) {
      a[size_t(j)] = absolute ? std::abs(double(trained[i * row + j])) : double(trained[i * row + j]);
      b[size_t(j)] = absolute ? std::abs(double(randomized[i * row + j])) : double(randomized[i * row + j]);
    }
    if (std::all_of(a.begin(), a.end(), [&](double v) { return v == a.front(); })) continue;  // no ranks to keep
    total += spearman(a, b);
    ++rows;
  }
  if (counted) *counted = rows;
  return rows > 0 ? total / double(rows) : std::numeric_limits<double>::quiet_NaN();
}

template <ad::Scalar T>
nn::Model<T> randomized_model(const nn::Model<T>& model, uint64_t seed) {
  nn::Model<T> out = model.clone();
  ad::Rng rng(seed);
  for (size_t i = out.layers.size(); i-- > 0;)
    if (!out.layers[i]->parameters().empty()) nn::init_layer(*out.layers[i], rng);
  return out;
}

template <ad::Scalar T>
std::vector<SanityPoint> sanity_checks(const nn::Model<T>& model, const std::vector<NamedMethod<T>>& methods, const ad::Tensor<T>& x,
                                       const ad::Tensor<T>& baseline, uint64_t seed) {
  const std::vector<int64_t> targets = resolve_targets(forward_of(model), x, Target<T>::predicted());
  const Target<T> target = Target<T>::each(targets);
  std::vector<size_t> weighted;
  for (size_t i = 0; i < model.layers.size(); ++i)
    if (!model.layers[i]->parameters().empty()) weighted.push_back(i);
  std::vector<SanityPoint> points;
  for (const auto& m : methods) {
    const ad::Tensor<T> original = m.fn(model, x, baseline, target);
    auto compare = [&](const nn::Model<T>& randomized, const std::string& mode, size_t layer) {
      const ad::Tensor<T> a = m.fn(randomized, x, baseline, target);
      int64_t counted = 0;
      const double absolute = mean_spearman(original, a, true, &counted);
      points.push_back({m.name, mode, layer, absolute, mean_spearman(original, a, false), counted});
    };
    nn::Model<T> cascade = model.clone();
    ad::Rng rng(seed);
    for (auto it = weighted.rbegin(); it != weighted.rend(); ++it) {
      nn::init_layer(*cascade.layers[*it], rng);
      compare(cascade, "cascading", *it);
      nn::Model<T> single = model.clone();
      ad::Rng single_rng(seed + *it);
      nn::init_layer(*single.layers[*it], single_rng);
      compare(single, "independent", *it);
    }
  }
  return points;
}

template double mean_spearman<float>(const ad::Tensor<float>&, const ad::Tensor<float>&, bool, int64_t*);
template double mean_spearman<double>(const ad::Tensor<double>&, const ad::Tensor<double>&, bool, int64_t*);
template nn::Model<float> randomized_model<float>(const nn::Model<float>&, uint64_t);
template nn::Model<double> randomized_model<double>(const nn::Model<double>&, uint64_t);
template std::vector<SanityPoint> sanity_checks<float>(const nn::Model<float>&, const std::vector<NamedMethod<float>>&, const ad::Tensor<float>&,
                                                       const ad::Tensor<float>&, uint64_t);
template std::vector<SanityPoint> sanity_checks<double>(const nn::Model<double>&, const std::vector<NamedMethod<double>>&, const ad::Tensor<double>&,
                                                        const ad::Tensor<double>&, uint64_t);

}  // namespace integrad::attr
