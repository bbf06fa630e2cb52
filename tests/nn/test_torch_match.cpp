// integrad against PyTorch, on fixtures written by tests/data/make_torch_fixtures.py.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "nn/model_file.h"
#include "nn/npy.h"
#include "nn/train.h"
#include "relative_error.h"

using namespace integrad;

namespace {
const std::string kDir = std::string(INTEGRAD_TEST_DATA) + "/torch/";

using testing::max_relative_error;

template <ad::Scalar T>
void check_forward(const std::string& name, double tolerance) {
  CAPTURE(name);
  const nn::Model<T> model = nn::load_model<T>(kDir + name + ".safetensors");
  const ad::Tensor<T> x = nn::npy_read_tensor<T>(kDir + name + "_input.npy");
  const ad::Tensor<T> expected = nn::npy_read_tensor<T>(kDir + name + "_output.npy");
  CHECK(max_relative_error(model.predict(x), expected, 1e-3) <= tolerance);
}
}  // namespace

TEST_CASE("forward outputs of PyTorch-exported models: 1e-5 relative in float32, 1e-12 in float64") {
  for (const char* m : {"mlp", "cnn", "text"}) {
    check_forward<float>(std::string(m) + "_f32", 1e-5);
    check_forward<double>(std::string(m) + "_f64", 1e-12);
  }
}

TEST_CASE("one epoch without shuffling, float64: weights equal PyTorch's (relative 1e-10)") {
  struct Run {
    const char* name;
    nn::OptimizerOptions opt;
  };
  auto make = [](std::string name, double lr, double momentum = 0, double wd = 0, bool nesterov = false) {
    nn::OptimizerOptions o;
    o.name = name;
    o.lr = lr;
    o.momentum = momentum;
    o.weight_decay = wd;
    o.nesterov = nesterov;
    return o;
  };
  const Run runs[] = {{"sgd", make("sgd", 0.1)},           {"sgd_momentum", make("sgd", 0.1, 0.9, 0.01)}, {"sgd_nesterov", make("sgd", 0.05, 0.8, 0, true)},
                      {"adam", make("adam", 0.01)},        {"adam_wd", make("adam", 0.01, 0, 0.1)},       {"adamw", make("adamw", 0.01, 0, 0.1)}};
  nn::Dataset<double> data;
  data.inputs = nn::npy_read_tensor<double>(kDir + "train_x.npy");
  data.labels = nn::npy_read_labels(kDir + "train_y.npy");
  data.num_classes = 3;
  for (const Run& run : runs) {
    CAPTURE(run.name);
    nn::Model<double> model = nn::load_model<double>(kDir + "train_start.safetensors");
    nn::TrainOptions o;
    o.batch_size = 4;
    o.shuffle = false;
    o.progress = false;
    o.optimizer = run.opt;
    nn::train<double>(model, data, nullptr, o);
    nn::Model<double> expected = nn::load_model<double>(kDir + std::string("train_") + run.name + ".safetensors");
    auto ours = model.named_parameters();
    auto theirs = expected.named_parameters();
    for (size_t k = 0; k < ours.size(); ++k) {
      CAPTURE(ours[k].first);
      CHECK(max_relative_error(ours[k].second->value, theirs[k].second->value, 1e-6) <= 1e-10);
    }
  }
}

// tests/data/make_transformer_fixtures.py: Embedding; PositionalEmbedding; two
// TransformerEncoderLayers (post-norm ReLU, pre-norm GELU); Select(1, 0) or Mean(1); Linear.
TEST_CASE("transformer exported from PyTorch: logits 1e-5 (float32) and 1e-12 (float64); attention weights as need_weights gives them") {
  for (const char* m : {"transformer_select", "transformer_mean"}) {
    for (const char* dt : {"f32", "f64"}) {
      const std::string name = std::string(m) + "_" + dt;
      CAPTURE(name);
      const ad::Tensor<double> ids = nn::npy_read_tensor<double>(kDir + "transformer_input.npy");
      const ad::Tensor<double> expected = nn::npy_read_tensor<double>(kDir + name + "_output.npy");
      // Relative to the logits' scale (their largest magnitude, ~1): a logit near 0 carries the
      // float32 rounding of the whole forward, 2e-8 absolute on 0.0017 here.
      double scale = 0;
      for (double v : expected.span()) scale = std::max(scale, std::abs(v));
      if (dt[1] == '3') {
        const auto model = nn::load_model<float>(kDir + name + ".safetensors");
        CHECK(max_relative_error(model.predict(ids.to<float>()).to<double>(), expected, scale) <= 1e-5);
      } else {
        const auto model = nn::load_model<double>(kDir + name + ".safetensors");
        CHECK(max_relative_error(model.predict(ids), expected, scale) <= 1e-12);
      }
    }
  }
}

TEST_CASE("transformer: one epoch of Adam in float64 with dropout 0 ends on PyTorch's weights (relative 1e-10)") {
  nn::Dataset<double> data;
  data.inputs = nn::npy_read_tensor<double>(kDir + "transformer_train_x.npy");
  data.labels = nn::npy_read_labels(kDir + "transformer_train_y.npy");
  data.num_classes = 3;
  nn::Model<double> model = nn::load_model<double>(kDir + "transformer_train_start.safetensors");
  nn::TrainOptions o;
  o.batch_size = 4;
  o.shuffle = false;
  o.progress = false;
  o.optimizer.name = "adam";
  o.optimizer.lr = 0.01;
  const nn::Model<double> start = nn::load_model<double>(kDir + "transformer_train_start.safetensors");
  nn::train<double>(model, data, nullptr, o);
  nn::Model<double> expected = nn::load_model<double>(kDir + "transformer_train_adam.safetensors");
  auto ours = model.named_parameters();
  auto theirs = expected.named_parameters();
  auto before = start.named_parameters();
  REQUIRE(ours.size() == theirs.size());
  for (size_t k = 0; k < ours.size(); ++k) {
    CAPTURE(ours[k].first);
    CHECK(ours[k].first == theirs[k].first);
    const ad::Tensor<double>&a = ours[k].second->value, &b = theirs[k].second->value, &s = before[k].second->value;
    if (ours[k].first.find("in_proj_bias") == std::string::npos) {
      CHECK(max_relative_error(a, b, 1e-6) <= 1e-10);
      continue;
    }
    // The key bias adds q·b_k to a whole row of scores, which softmax ignores: its gradient is 0
    // up to rounding, and Adam scales that rounding (~1e-17) by 1/eps into steps of ~1e-11, in
    // PyTorch as here. Queries and values are compared; the key bias must merely stay put.
    const int64_t d = a.numel() / 3;
    for (int64_t i = 0; i < a.numel(); ++i) {
      if (i >= d && i < 2 * d) {
        CHECK(std::abs(a[i] - s[i]) <= 1e-9);
        CHECK(std::abs(b[i] - s[i]) <= 1e-9);
      } else {
        CHECK(std::abs(a[i] - b[i]) <= 1e-10 * std::max(1e-6, std::abs(b[i])));
      }
    }
  }
}

// tests/data/make_loss_fixtures.py: a one-output model trained one epoch (Adam, lr 0.01, batches
// of 4 in order) with BCEWithLogitsLoss on 0/1 labels and with MSELoss on real targets.
TEST_CASE("--loss bce and --loss mse: one epoch ends on PyTorch's weights (relative 1e-10)") {
  for (const nn::Loss loss : {nn::Loss::bce, nn::Loss::mse}) {
    const std::string name = nn::loss_name(loss);
    CAPTURE(name);
    nn::Dataset<double> data;
    data.inputs = nn::npy_read_tensor<double>(kDir + "loss_x.npy");
    if (loss == nn::Loss::bce) {
      data.labels = nn::npy_read_labels(kDir + "loss_y_binary.npy");
      data.num_classes = 2;
    } else {
      const ad::Tensor<double> y = nn::npy_read_tensor<double>(kDir + "loss_y_values.npy");
      data.targets.assign(y.span().begin(), y.span().end());
    }
    nn::Model<double> model = nn::load_model<double>(kDir + "loss_start.safetensors");
    nn::TrainOptions o;
    o.batch_size = 4;
    o.shuffle = false;
    o.progress = false;
    o.loss = loss;
    o.optimizer.name = "adam";
    o.optimizer.lr = 0.01;
    nn::train<double>(model, data, nullptr, o);
    const nn::Model<double> expected = nn::load_model<double>(kDir + "loss_" + name + ".safetensors");
    auto ours = model.named_parameters();
    auto theirs = expected.named_parameters();
    for (size_t k = 0; k < ours.size(); ++k) {
      CAPTURE(ours[k].first);
      CHECK(max_relative_error(ours[k].second->value, theirs[k].second->value, 1e-6) <= 1e-10);
    }
  }
}

TEST_CASE("cross-entropy refuses a one-output model (a softmax over one output: loss 0 whatever the labels)") {
  nn::Dataset<double> data;
  data.inputs = nn::npy_read_tensor<double>(kDir + "loss_x.npy");
  data.labels.assign(10, 0);  // all-zero labels: training "succeeded" with loss 0 before
  nn::Model<double> model = nn::load_model<double>(kDir + "loss_start.safetensors");
  nn::TrainOptions o;
  o.progress = false;
  CHECK_THROWS_WITH_AS(nn::train<double>(model, data, nullptr, o), doctest::Contains("needs at least two outputs"), std::invalid_argument);
  o.loss = nn::Loss::bce;
  data.labels[3] = 2;
  CHECK_THROWS_WITH_AS(nn::train<double>(model, data, nullptr, o), doctest::Contains("example 3 has label 2"), std::invalid_argument);
}
