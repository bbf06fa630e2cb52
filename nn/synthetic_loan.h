// synthetic-loan: a biased loan history. Each applicant has a protected attribute g (0 or 1, half
// each) that is NOT among the features, and six features, in this order:
//   income (k$, 55 + 15·N(0, 1), at least 10), debt (k$, 20 + 8·N(0, 1), at least 0),
//   age (years, uniform 21..70), zip_code (a region 0..9: g = 1 lives in regions 0..4 with
//   probability 0.9, g = 0 in regions 5..9 with probability 0.9), years_employed (uniform 0..20),
//   open_accounts (uniform 0..9).
// The historical decision: approved (label 1) when
//   0.08·(income − 55) − 0.15·(debt − 20) + N(0, 0.5) − 1.2·g > 0,
// so the history depends on income and debt, and, through a bias against g = 1, on the protected
// attribute. A model trained on it cannot see g, but zip_code is a proxy for it (they agree 90% of
// the time): the model learns to use the zip code. age, years_employed and open_accounts play no
// part. The masks mark the legitimate features (income, debt); the shortcut masks mark zip_code.
#pragma once

#include <string>
#include <vector>

#include "nn/dataset.h"

namespace integrad::nn {

template <ad::Scalar T>
Dataset<T> synthetic_loan(int64_t n, uint64_t seed);
std::vector<std::string> synthetic_loan_names();
// Each example's protected attribute, regenerated from the same seed (for measuring the bias).
std::vector<int64_t> synthetic_loan_protected(int64_t n, uint64_t seed);

}  // namespace integrad::nn
