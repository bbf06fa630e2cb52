// The metric registry and its first metric, sparseness (Gini index of |a|): analytic values, and
// a metric registered from this file alone is found by name.
#include <doctest/doctest.h>

#include <algorithm>

#include "attribution/metric.h"
#include "nn/architecture.h"

using namespace integrad;
using namespace integrad::attr;

namespace {
using T = double;

std::vector<double> sparseness_of(const ad::Tensor<T>& a) {
  const auto model = nn::parse_architecture<T>("Linear(4, 2)", ad::Shape{4}, nn::InputDtype::float64, 1);
  const Metric<T>& m = find_metric<T>("sparseness");
  const Options o = parse_options(m.name, m.options, {});
  const Baseline<T> zero = Baseline<T>::zero();
  const Target<T> target = Target<T>::of(0);
  return m.score({model, a, a, zero, target, o});
}
}  // namespace

TEST_CASE("sparseness is the Gini index of |a|: (n−1)/n for one feature, 0 for an even map or an empty one") {
  const ad::Tensor<T> a(ad::Shape{4, 4}, std::vector<T>{0, 0, -3, 0,   // all the mass on one feature
                                                        1, -1, 1, 1,   // even
                                                        0, 0, 0, 0,    // nothing
                                                        1, 2, 3, 4});
  const auto s = sparseness_of(a);
  REQUIRE(s.size() == 4);
  CHECK(s[0] == doctest::Approx(0.75).epsilon(1e-15));
  CHECK(s[1] == 0.0);
  CHECK(s[2] == 0.0);
  // v = 1, 2, 3, 4: Σ (2i − 5)·vᵢ = −3 − 2 + 3 + 12 = 10, over n·Σv = 4·10.
  CHECK(s[3] == doctest::Approx(0.25).epsilon(1e-15));
  CHECK(find_metric<T>("sparseness").higher_is_better);
}

TEST_CASE("a metric registered in a test file is found by name and listed") {
  register_metric<float>({.name = "test_constant", .summary = "always 1", .score = [](const MetricCall<float>& c) {
                            return std::vector<double>(size_t(c.attributions.size(0)), 1.0);
                          }});
  const auto names = metric_names();
  CHECK(std::find(names.begin(), names.end(), "test_constant") != names.end());
  CHECK_THROWS_WITH_AS(find_metric<float>("nope"), "unknown metric 'nope' (known: deletion, insertion, infidelity, faithfulness-correlation, sensitivity-max, relevance-mass, pointing-game, sparseness, randomisation, test_constant)", std::invalid_argument);
}
