// synthetic-tabular: the features' stated roles hold in the data (nn/synthetic_tabular.h).
#include <doctest/doctest.h>

#include <cmath>

#include "nn/named_datasets.h"
#include "nn/synthetic_tabular.h"

using namespace integrad;

TEST_CASE("synthetic-tabular: the label follows the stated score, the copy equals linear_a, the dummy is free, masks and names from the registry") {
  const nn::Dataset<double> d = nn::synthetic_tabular<double>(2000, 1);
  REQUIRE(d.inputs.shape() == ad::Shape{2000, 7});
  CHECK(d.feature_names == std::vector<std::string>{"linear_a", "linear_b", "linear_c", "interact_d", "interact_e", "dummy", "linear_a_copy"});
  int64_t positive = 0;
  double dummy_label = 0, dummy_sq = 0;
  for (int64_t i = 0; i < 2000; ++i) {
    const double* x = d.inputs.data() + i * 7;
    CHECK(x[6] == x[0]);
    const double score = 1.5 * x[0] - x[1] + 0.5 * x[2] + 1.5 * x[3] * x[4];
    CHECK(d.labels[size_t(i)] == (score > 0 ? 1 : 0));
    positive += d.labels[size_t(i)];
    dummy_label += x[5] * (double(d.labels[size_t(i)]) - 0.5);
    dummy_sq += x[5] * x[5];
  }
  CHECK(positive > 900);
  CHECK(positive < 1100);
  CHECK(std::abs(dummy_label / 2000) < 0.03);  // the dummy is independent of the label (±3 standard errors)
  CHECK(dummy_sq / 2000 == doctest::Approx(1).epsilon(0.1));
  const nn::Dataset<double> again = nn::synthetic_tabular<double>(2000, 1), other = nn::synthetic_tabular<double>(2000, 2);
  CHECK(again.labels == d.labels);
  CHECK(other.labels != d.labels);

  const nn::NamedDataset& set = nn::named_dataset("synthetic-tabular");
  CHECK(set.feature_names == d.feature_names);
  const nn::Dataset<float> f = nn::load_named<float>(set, {.train = false, .limit = 3});
  CHECK(f.feature_names == d.feature_names);
  const ad::Tensor<float> m = set.masks(f);
  CHECK(m.shape() == ad::Shape{3, 7});
  for (int64_t k = 0; k < 21; ++k) CHECK(m[k] == (k % 7 == 5 ? 0.0f : 1.0f));
  CHECK(nn::named_architecture("tabular") == "Linear(7, 32); ReLU(); Linear(32, 32); ReLU(); Linear(32, 2)");
  CHECK(nn::named_architecture_entry("tabular").default_data == "synthetic-tabular");
}
