// Checkpoints: a run split in two by save/load_checkpoint ends at exactly the weights of the run
// that was never split, for every optimizer; damaged or mismatched state is refused by name.
#include <doctest/doctest.h>

#include "nn/architecture.h"
#include "nn/checkpoint.h"
#include "nn/model_file.h"
#include "nn/synthetic.h"
#include "temp_path.h"

using namespace integrad;

namespace {

nn::Model<double> small_model() {
  return nn::parse_architecture<double>("Flatten(); Linear(784, 16); ReLU(); Linear(16, 10)", ad::Shape{1, 28, 28}, nn::InputDtype::float64, 3);
}

nn::TrainOptions options(const std::string& optimizer, int64_t epochs) {
  nn::TrainOptions o;
  o.epochs = epochs;
  o.batch_size = 32;
  o.progress = false;
  o.optimizer.name = optimizer;
  o.optimizer.lr = optimizer == "sgd" ? 0.05 : 1e-3;
  o.optimizer.momentum = optimizer == "sgd" ? 0.9 : 0.0;
  o.optimizer.weight_decay = 0.01;
  return o;
}

}  // namespace

TEST_CASE("a run resumed from its checkpoint ends at the uninterrupted run's weights, bit for bit") {
  const auto data = nn::synthetic_patches<double>(200, 4);
  for (const std::string optimizer : {"sgd", "adam", "adamw"}) {
    CAPTURE(optimizer);
    nn::Model<double> straight = small_model();
    nn::train<double>(straight, data, nullptr, options(optimizer, 3));

    nn::Model<double> first = small_model();
    const std::string path = temp_path("resume_" + optimizer + ".checkpoint.safetensors");
    std::vector<nn::EpochStats> history;
    nn::train<double>(first, data, nullptr, options(optimizer, 1), [&](const nn::EpochStats& e, const nn::Optimizer<double>& opt) {
      history.push_back(e);
      nn::save_checkpoint(path, first, opt.state(), history, R"({"run":"test"})", "F64");
    });
    nn::Checkpoint<double> c = nn::load_checkpoint<double>(path);
    CHECK(c.resume.epochs_done == 1);
    CHECK(c.resume.optimizer.steps == 7);  // ceil(200 / 32)
    CHECK(c.history.size() == 1);
    CHECK(c.settings == R"({"run":"test"})");
    nn::train<double>(c.model, data, nullptr, options(optimizer, 3), {}, &c.resume);

    auto a = straight.named_parameters(), b = c.model.named_parameters();
    REQUIRE(a.size() == b.size());
    for (size_t k = 0; k < a.size(); ++k) {
      CAPTURE(a[k].first);
      CHECK(a[k].second->value.span()[0] != small_model().named_parameters()[k].second->value.span()[0]);  // it did train
      CHECK(std::equal(a[k].second->value.span().begin(), a[k].second->value.span().end(), b[k].second->value.span().begin()));
    }
  }
}

TEST_CASE("resuming with a fresh optimizer would not end at the same weights") {
  // The check above can fail: the same epochs with Adam's moments and step count reset differ.
  const auto data = nn::synthetic_patches<double>(200, 4);
  nn::Model<double> straight = small_model(), split = small_model();
  nn::train<double>(straight, data, nullptr, options("adam", 2));
  nn::train<double>(split, data, nullptr, options("adam", 1));
  std::vector<nn::Parameter<double>*> params;
  for (auto& [name, p] : split.named_parameters()) params.push_back(p);
  const nn::ResumePoint<double> fresh{1, nn::make_optimizer<double>(options("adam", 2).optimizer, params)->state()};
  nn::train<double>(split, data, nullptr, options("adam", 2), {}, &fresh);
  CHECK(straight.named_parameters()[0].second->value.span()[0] != split.named_parameters()[0].second->value.span()[0]);

  const nn::ResumePoint<double> no_state{1, {}};
  CHECK_THROWS_WITH_AS(nn::train<double>(split, data, nullptr, options("adam", 2), {}, &no_state), doctest::Contains("exp_avg"), std::invalid_argument);
}

TEST_CASE("optimizer state that does not fit is refused by name") {
  nn::Model<double> model = small_model();
  std::vector<nn::Parameter<double>*> params;
  for (auto& [name, p] : model.named_parameters()) params.push_back(p);
  auto adam = nn::make_optimizer<double>(nn::OptimizerOptions{}, params);
  nn::OptimizerState<double> state = adam->state();
  CHECK(state.tensors.size() == 2 * params.size());

  auto wrong_shape = state;
  wrong_shape.tensors.at("1.exp_avg") = ad::Tensor<double>(ad::Shape{3});
  CHECK_THROWS_WITH_AS(adam->load_state(wrong_shape), doctest::Contains("'1.exp_avg' has shape [3]"), std::invalid_argument);

  auto extra = state;
  extra.tensors.emplace("9.exp_avg", ad::Tensor<double>(ad::Shape{3}));
  CHECK_THROWS_WITH_AS(adam->load_state(extra), doctest::Contains("'9.exp_avg'"), std::invalid_argument);

  nn::OptimizerOptions sgd_options;
  sgd_options.name = "sgd";
  sgd_options.momentum = 0.9;
  auto sgd = nn::make_optimizer<double>(sgd_options, params);
  CHECK_THROWS_WITH_AS(sgd->load_state(state), doctest::Contains("not used by this optimizer"), std::invalid_argument);
}

TEST_CASE("a model file is not a checkpoint, and a checkpoint's parts must agree") {
  const nn::Model<double> model = small_model();
  const std::string model_path = temp_path("not_a_checkpoint.safetensors");
  nn::save_model(model_path, model, "F64");
  CHECK_THROWS_WITH_AS(nn::load_checkpoint<double>(model_path), doctest::Contains("not a training checkpoint"), std::runtime_error);

  const std::string path = temp_path("inconsistent.checkpoint.safetensors");
  nn::save_checkpoint<double>(path, model, {}, {}, "{}", "F64");
  auto file = nn::safetensors_read(path);
  CHECK(file.metadata.at("epochs_done") == "0");
  CHECK(file.tensors.count("model.1.weight") == 1);
  nn::save_checkpoint<double>(path, model, {}, {nn::EpochStats{1, 0.5, 0.9, -1, 1.0, 0}}, "{}", "F64");
  CHECK(nn::load_checkpoint<double>(path).history.at(0).loss == 0.5);

  // The same file claiming two epochs done with a curve of one.
  file = nn::safetensors_read(path);
  file.metadata["epochs_done"] = std::to_string(2);
  std::vector<ad::Tensor<double>> values;
  for (const auto& [name, raw] : file.tensors) values.push_back(nn::safetensors_tensor<double>(file, name, path));
  std::vector<std::pair<std::string, const ad::Tensor<double>*>> tensors;
  size_t k = 0;
  for (const auto& [name, raw] : file.tensors) tensors.emplace_back(name, &values[k++]);
  nn::safetensors_write(path, tensors, file.metadata, "F64");
  CHECK_THROWS_WITH_AS(nn::load_checkpoint<double>(path), doctest::Contains("epochs_done is 2 but the training curve has 1"), std::runtime_error);
}

TEST_CASE("checkpoint paths and changed settings") {
  CHECK(nn::checkpoint_path("out/cnn.safetensors") == "out/cnn.checkpoint.safetensors");
  CHECK(nn::checkpoint_path("model") == "model.checkpoint.safetensors");
  CHECK(nn::changed_settings(R"({"lr":0.001,"seed":0})", R"({"lr":0.001,"seed":0})").empty());
  const auto changes = nn::changed_settings(R"({"lr":0.001,"seed":0})", R"({"lr":0.01,"seed":0,"shuffle":true})");
  REQUIRE(changes.size() == 2);
  CHECK(changes[0] == "lr: 0.001 → 0.01");
  CHECK(changes[1] == "shuffle: (none) → true");
}
