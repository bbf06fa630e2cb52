// Attribution on a model that was actually trained: completeness within the authors' 5% for IG,
// and the synthetic patch set's ground truth — the class is decided by where a bright patch is —
// recovered by IG: most of the attribution mass lies on the patch.
#include <doctest/doctest.h>

#include <cmath>

#include "attribution/methods/integrated_gradients.h"
#include "nn/architecture.h"
#include "nn/named_datasets.h"
#include "nn/synthetic.h"
#include "nn/train.h"

using namespace integrad;

TEST_CASE("IG on a trained CNN: complete within 5%, and concentrated on the ground-truth patch") {
  auto model = nn::parse_architecture<float>(nn::named_architecture("cnn"), ad::Shape{1, 28, 28}, nn::InputDtype::float32, 0);
  const auto train = nn::synthetic_patches<float>(1000, 1);
  nn::TrainOptions o;
  o.progress = false;
  nn::train<float>(model, train, nullptr, o);
  const auto test = nn::synthetic_patches<float>(10, 2);
  REQUIRE(nn::accuracy(model, test) == 1.0);
  attr::IgOptions<float> ig;
  const auto a = attr::integrated_gradients(attr::forward_of(model), test.inputs, attr::Target<float>::each(test.labels), ig);
  for (int64_t i = 0; i < 10; ++i) {
    const double change = a.f_input[size_t(i)] - a.f_baseline[size_t(i)];
    CHECK(std::abs(a.deltas[size_t(i)]) <= 0.05 * std::abs(change));
    const auto mask = nn::synthetic_patches_mask(test.labels[size_t(i)]);
    double on_patch = 0, total = 0;
    for (int64_t p = 0; p < 784; ++p) {
      const double v = std::abs(double(a.values[i * 784 + p]));
      total += v;
      on_patch += mask[p] * v;
    }
    CAPTURE(i);
    CHECK(on_patch / total > 0.3);  // 16 of 784 pixels (2%) hold at least 30% of the mass
  }
}
