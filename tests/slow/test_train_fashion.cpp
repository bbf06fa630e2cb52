// Training to an accuracy (ctest label `slow`): the CNN and the MLP on Fashion-MNIST, one epoch on
// part of the data, must clear a bar well above chance; the full targets are in docs/performance.md.
#include <doctest/doctest.h>

#include <filesystem>

#include "nn/architecture.h"
#include "nn/named_datasets.h"
#include "nn/fashion_mnist.h"
#include "nn/train.h"

using namespace integrad;

namespace {
double train_and_test(const std::string& arch, int64_t n_train) {
  auto model = nn::parse_architecture<float>(nn::named_architecture(arch), ad::Shape{1, 28, 28}, nn::InputDtype::float32, 0);
  const auto train = nn::load_fashion_mnist<float>(nn::kFashionMnistDir, true, n_train);
  const auto test = nn::load_fashion_mnist<float>(nn::kFashionMnistDir, false, 2000);
  nn::TrainOptions o;
  o.epochs = 1;
  o.batch_size = 64;
  o.optimizer.lr = 1e-3;
  o.progress = false;
  nn::train<float>(model, train, nullptr, o);
  return nn::accuracy(model, test);
}
}  // namespace

TEST_CASE("Fashion-MNIST: one epoch of Adam reaches a real accuracy") {
  if (!std::filesystem::exists(std::string(nn::kFashionMnistDir) + "/train-images-idx3-ubyte.gz")) {
    MESSAGE("skipped: dataset-fashion-mnist is not installed");
    return;
  }
  const double cnn = train_and_test("cnn", 20000);
  MESSAGE("cnn test accuracy after one epoch on 20000 images: " << cnn);
  CHECK(cnn >= 0.80);
  const double mlp = train_and_test("mlp", 20000);
  MESSAGE("mlp test accuracy after one epoch on 20000 images: " << mlp);
  CHECK(mlp >= 0.78);
}
