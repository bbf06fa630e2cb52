// --arch lstm and --arch gru on synthetic-order (ctest label `slow`): one epoch of Adam (lr 0.003,
// seed 0) learns which marker comes first (the bag of embeddings cannot: test_train_transformer),
// and layer IG at the embedding (padding token 0 as the baseline) is complete to the precision of
// 50 steps and puts most of its mass on the two markers.
#include <doctest/doctest.h>

#include <cmath>

#include "attribution/methods/layer_ig.h"
#include "nn/architecture.h"
#include "nn/named_datasets.h"
#include "nn/synthetic_order.h"
#include "nn/train.h"

using namespace integrad;

TEST_CASE("synthetic-order: --arch lstm and --arch gru learn the order; layer IG at their embedding finds the markers") {
  const nn::NamedDataset& set = nn::named_dataset("synthetic-order");
  const auto train = nn::load_named<float>(set, {.train = true});
  const auto test = nn::load_named<float>(set, {.train = false});
  for (const char* arch : {"lstm", "gru"}) {
    CAPTURE(arch);
    auto model = nn::parse_architecture<float>(nn::named_architecture_entry(arch).layers(set.input_shape, 0), set.input_shape, nn::InputDtype::int64, 0);
    nn::TrainOptions o;
    o.epochs = 1;
    o.optimizer.lr = 0.003;
    o.progress = false;
    nn::train<float>(model, train, nullptr, o);
    CHECK(nn::accuracy(model, test) >= 0.98);

    const ad::Tensor<float> x = test.inputs.rows(0, 100);
    attr::IgOptions<float> ig;
    ig.baselines = {attr::Baseline<float>::zero()};  // token 0, padding: never in the data
    const auto a = attr::layer_integrated_gradients(model, 0, x, attr::Target<float>::predicted(), ig);
    REQUIRE(a.values.shape() == ad::Shape{100, 16, 32});
    const ad::Tensor<float> per_token = attr::sum_last_dim(a.values);
    const ad::Tensor<float> markers = nn::synthetic_order_masks(x);
    double on_markers = 0, total = 0, worst_delta = 0;
    for (int64_t k = 0; k < per_token.numel(); ++k) {
      on_markers += std::abs(per_token[k]) * markers[k];
      total += std::abs(per_token[k]);
    }
    for (size_t i = 0; i < a.deltas.size(); ++i) worst_delta = std::max(worst_delta, std::abs(a.deltas[i]) / std::max(1.0, std::abs(a.f_input[i] - a.f_baseline[i])));
    CAPTURE(on_markers / total);
    CAPTURE(worst_delta);
    CHECK(on_markers / total >= 0.5);  // 2 of 16 tokens
    CHECK(worst_delta <= 0.1);
  }
}
