#include "nn/synthetic_loan.h"

#include <algorithm>

#include "autodiff/rng.h"

namespace integrad::nn {
namespace {

constexpr int64_t kFeatures = 6;

struct Applicant {
  double x[kFeatures];
  int64_t group, label;
};

// One draw, in a fixed order, so the data set and its protected attributes come from one stream.
Applicant draw(ad::Rng& rng) {
  Applicant a{};
  a.group = int64_t(rng.below(2));
  const double income = std::max(10.0, 55 + 15 * rng.normal()), debt = std::max(0.0, 20 + 8 * rng.normal());
  const double age = double(21 + rng.below(50));
  const bool proxy_agrees = rng.uniform() < 0.9;
  const int64_t half = (a.group == 1) == proxy_agrees ? 0 : 5;  // g = 1: regions 0..4 when the proxy agrees
  const double zip = double(half + int64_t(rng.below(5)));
  const double employed = double(rng.below(21)), accounts = double(rng.below(10));
  const double noise = 0.5 * rng.normal();
  a.label = 0.08 * (income - 55) - 0.15 * (debt - 20) + noise - 1.2 * double(a.group) > 0 ? 1 : 0;
  const double row[kFeatures] = {income, debt, age, zip, employed, accounts};
  std::copy(row, row + kFeatures, a.x);
  return a;
}

uint64_t loan_seed(uint64_t seed) { return seed * 0xA24BAED4963EE407ull + 41; }

}  // namespace

std::vector<std::string> synthetic_loan_names() { return {"income", "debt", "age", "zip_code", "years_employed", "open_accounts"}; }

template <ad::Scalar T>
Dataset<T> synthetic_loan(int64_t n, uint64_t seed) {
  ad::Rng rng(loan_seed(seed));
  Dataset<T> ds;
  ds.inputs = ad::Tensor<T>(ad::Shape{n, kFeatures});
  ds.num_classes = 2;
  ds.class_names = {"denied", "approved"};
  ds.feature_names = synthetic_loan_names();
  for (int64_t i = 0; i < n; ++i) {
    const Applicant a = draw(rng);
    for (int64_t j = 0; j < kFeatures; ++j) ds.inputs[i * kFeatures + j] = T(a.x[j]);
    ds.labels.push_back(a.label);
  }
  return ds;
}

std::vector<int64_t> synthetic_loan_protected(int64_t n, uint64_t seed) {
  ad::Rng rng(loan_seed(seed));
  std::vector<int64_t> groups;
  for (int64_t i = 0; i < n; ++i) groups.push_back(draw(rng).group);
  return groups;
}

template Dataset<float> synthetic_loan<float>(int64_t, uint64_t);
template Dataset<double> synthetic_loan<double>(int64_t, uint64_t);

}  // namespace integrad::nn
