// Training models of several inputs (docs/inputs.md, "Training") against PyTorch
// (tests/data/make_two_input_training_fixtures.py): a numeric input beside int64 token ids, and two
// numeric inputs; one epoch of SGD and of Adam with cross-entropy, BCE and MSE, in order, the last
// batch short. Then shuffling: one permutation for every input, the same bits at any thread count.
#include <doctest/doctest.h>
#include <omp.h>

#include <string>

#include "nn/batches.h"
#include "nn/model_file.h"
#include "nn/npy.h"
#include "nn/npz.h"
#include "nn/train.h"
#include "relative_error.h"

using namespace integrad;

namespace {
const std::string kDir = std::string(INTEGRAD_TEST_DATA) + "/inputs/train/";

using testing::max_relative_error;

// The arrays of an .npz in the model's input order, with labels (or a regression's targets).
nn::Dataset<double> dataset(const nn::Model<double>& model, const std::string& npz, const std::string& labels, bool values) {
  const auto arrays = nn::npz_read(kDir + npz);
  nn::Dataset<double> d;
  for (size_t k = 0; k < model.input_count(); ++k)
    for (const auto& [name, array] : arrays)
      if (name == model.named_inputs[k].name) {
        ad::Tensor<double> x = nn::npy_to_tensor<double>(array, name);
        if (k == 0) d.inputs = std::move(x);
        else d.other_inputs.push_back(std::move(x));
      }
  REQUIRE(d.other_inputs.size() + 1 == model.input_count());
  if (values) {
    const ad::Tensor<double> t = nn::npy_read_tensor<double>(kDir + labels);
    d.targets.assign(t.span().begin(), t.span().end());
  } else {
    d.labels = nn::npy_read_labels(kDir + labels);
  }
  return d;
}

nn::TrainOptions options(const std::string& optimizer, double lr, nn::Loss loss) {
  nn::TrainOptions o;
  o.batch_size = 4;  // 10 examples: batches of 4, 4 and 2
  o.shuffle = false;
  o.progress = false;
  o.loss = loss;
  o.optimizer.name = optimizer;
  o.optimizer.lr = lr;
  return o;
}

// Every parameter of `model` against the file's, by name; returns how far the weights moved from `start`.
double check_weights(nn::Model<double>& model, const std::string& expected_file, nn::Model<double>& start) {
  nn::Model<double> expected = nn::load_model<double>(kDir + expected_file);
  auto ours = model.named_parameters(), theirs = expected.named_parameters(), before = start.named_parameters();
  REQUIRE(ours.size() == theirs.size());
  double moved = 0;
  for (size_t k = 0; k < ours.size(); ++k) {
    CAPTURE(ours[k].first);
    REQUIRE(ours[k].first == theirs[k].first);
    CHECK(max_relative_error(ours[k].second->value, theirs[k].second->value, 1e-6) <= 1e-10);
    moved = std::max(moved, max_relative_error(before[k].second->value, theirs[k].second->value, 1e-6));
  }
  return moved;
}

// Bitwise equality of two models' parameters.
bool same_bits(nn::Model<double>& a, nn::Model<double>& b) {
  auto pa = a.named_parameters(), pb = b.named_parameters();
  for (size_t k = 0; k < pa.size(); ++k)
    if (pa[k].second->value.span().size() != pb[k].second->value.span().size() ||
        !std::equal(pa[k].second->value.span().begin(), pa[k].second->value.span().end(), pb[k].second->value.span().begin()))
      return false;
  return true;
}
}  // namespace

TEST_CASE("several inputs: one epoch of SGD and of Adam ends on PyTorch's weights (relative 1e-10)") {
  struct Run {
    const char *start, *npz, *labels, *optimizer;
    double lr;
    nn::Loss loss;
    const char* expected;
  };
  const Run runs[] = {
      {"tokens_start", "tokens.npz", "labels.npy", "sgd", 0.1, nn::Loss::cross_entropy, "tokens_sgd"},
      {"tokens_start", "tokens.npz", "labels.npy", "adam", 0.01, nn::Loss::cross_entropy, "tokens_adam"},
      {"tokens_one_start", "tokens.npz", "labels01.npy", "adam", 0.01, nn::Loss::bce, "tokens_one_bce_adam"},
      {"numeric_one_start", "numeric.npz", "targets.npy", "sgd", 0.1, nn::Loss::mse, "numeric_one_mse_sgd"},
  };
  for (const Run& run : runs) {
    CAPTURE(run.expected);
    nn::Model<double> model = nn::load_model<double>(kDir + run.start + ".safetensors");
    nn::Model<double> start = nn::load_model<double>(kDir + run.start + ".safetensors");
    REQUIRE(model.input_count() == 2);
    const nn::Dataset<double> data = dataset(model, run.npz, run.labels, run.loss == nn::Loss::mse);
    const auto history = nn::train<double>(model, data, nullptr, options(run.optimizer, run.lr, run.loss));
    REQUIRE(history.size() == 1);
    CHECK(std::isfinite(history[0].loss));
    CHECK(check_weights(model, std::string(run.expected) + ".safetensors", start) > 1e-3);  // the epoch did move them
  }
}

TEST_CASE("several inputs: a shuffled epoch takes the same rows of every input, the same bits at 1 and 2 threads") {
  const nn::Model<double> start = nn::load_model<double>(kDir + "tokens_start.safetensors");
  const nn::Dataset<double> data = dataset(start, "tokens.npz", "labels.npy", false);
  nn::TrainOptions o = options("adam", 0.01, nn::Loss::cross_entropy);
  o.shuffle = true;
  o.seed = 5;
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  nn::Model<double> one_thread = start.clone();
  nn::train<double>(one_thread, data, nullptr, o);
  omp_set_num_threads(2);
  nn::Model<double> two_threads = start.clone();
  nn::train<double>(two_threads, data, nullptr, o);
  omp_set_num_threads(saved);
  CHECK(same_bits(one_thread, two_threads));
  // The rows of every input (and the labels) put in the shuffled order first, then taken in
  // order: the same steps, so the same bits — one permutation for all inputs.
  const std::vector<int64_t> order = nn::make_batches(data.size(), data.size(), true, o.seed)[0];
  nn::Dataset<double> permuted;
  permuted.inputs = nn::gather_rows(data.inputs, order);
  for (const auto& x : data.other_inputs) permuted.other_inputs.push_back(nn::gather_rows(x, order));
  for (int64_t r : order) permuted.labels.push_back(data.labels[size_t(r)]);
  nn::Model<double> in_order = start.clone();
  o.shuffle = false;
  nn::train<double>(in_order, permuted, nullptr, o);
  CHECK(same_bits(one_thread, in_order));
  // A permutation of one input alone is another data set: other weights.
  nn::Dataset<double> only_num = data;
  only_num.inputs = permuted.inputs;
  nn::Model<double> mixed = start.clone();
  nn::train<double>(mixed, only_num, nullptr, o);
  CHECK_FALSE(same_bits(one_thread, mixed));
}

TEST_CASE("several inputs: accuracy over every input; data that do not fit the model are refused") {
  nn::Model<double> model = nn::load_model<double>(kDir + "tokens_start.safetensors");
  const nn::Dataset<double> data = dataset(model, "tokens.npz", "labels.npy", false);
  // accuracy() batches the inputs itself: the same as predicting on them whole.
  const std::vector<ad::Tensor<double>> xs{data.inputs, data.other_inputs[0]};
  const std::vector<int64_t> predicted = ad::row_argmax(model.predict(std::span<const ad::Tensor<double>>(xs)));
  int64_t correct = 0;
  for (size_t i = 0; i < predicted.size(); ++i) correct += predicted[i] == data.labels[i];
  CHECK(correct > 0);
  CHECK(nn::accuracy(model, data, 3) == double(correct) / 10.0);  // the same division: exact

  const nn::TrainOptions o = options("sgd", 0.1, nn::Loss::cross_entropy);
  nn::Dataset<double> one = data;
  one.other_inputs.clear();
  CHECK_THROWS_WITH(nn::train<double>(model, one, nullptr, o), "the data hold 1 input per example; the model reads 2");
  nn::Dataset<double> short_tok = data;
  short_tok.other_inputs[0] = nn::gather_rows(data.other_inputs[0], std::vector<int64_t>{0, 1, 2});
  CHECK_THROWS_WITH(nn::train<double>(model, short_tok, nullptr, o), "input 'tok' holds 3 examples, the labels 10");
  nn::Dataset<double> wide = data;
  wide.other_inputs[0] = ad::Tensor<double>(ad::Shape{10, 7});
  CHECK_THROWS_WITH(nn::train<double>(model, wide, nullptr, o), "input 'tok' has shape [10, 7]; the model reads examples of shape [6]");
}
