// Graph models against PyTorch (tests/data/make_graph_fixtures.py): a ResNet with BatchNorm and
// residual blocks and a BatchNorm1d MLP — outputs and input gradients in evaluation, one epoch of
// SGD and of Adam in training (weights and running statistics) — plus the layers' gradchecks and
// the architecture text's round trip.
#include <doctest/doctest.h>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "autodiff/gradcheck.h"
#include "nn/architecture.h"
#include "nn/layers_batch_norm.h"
#include "nn/layers_merge.h"
#include "nn/model_file.h"
#include "nn/named_datasets.h"
#include "nn/npy.h"
#include "nn/train.h"
#include "relative_error.h"
#include "temp_path.h"

using namespace integrad;

namespace {
const std::string kDir = std::string(INTEGRAD_TEST_DATA) + "/graph/";

using testing::max_relative_error;

// d(Σ_n F_1(x_n))/dx in evaluation: the gradient of class 1.
ad::Tensor<double> gradient_of_class_1(const nn::Model<double>& model, const ad::Tensor<double>& x) {
  ad::Tape<double> tape;
  ad::Var<double> in = tape.leaf(x, true);
  tape.backward(ad::sum(ad::slice(model.forward(tape, in), 1, 1, 2)));
  return in.grad_tensor();
}
}  // namespace

TEST_CASE("graph models exported from PyTorch: evaluation outputs (1e-12 in float64, 1e-5 in float32) and input gradients (1e-10)") {
  for (const char* name : {"resnet", "mlp_bn"}) {
    CAPTURE(name);
    const std::string base = kDir + name;
    const nn::Model<double> model = nn::load_model<double>(base + ".safetensors");
    const ad::Tensor<double> x = nn::npy_read_tensor<double>(base + "_input.npy");
    CHECK(max_relative_error(model.predict(x), nn::npy_read_tensor<double>(base + "_output.npy"), 1e-3) <= 1e-12);
    CHECK(max_relative_error(gradient_of_class_1(model, x), nn::npy_read_tensor<double>(base + "_grad1.npy"), 1e-3) <= 1e-10);
    const nn::Model<float> single = nn::load_model<float>(base + ".safetensors");
    CHECK(max_relative_error(single.predict(x.to<float>()), nn::npy_read_tensor<float>(base + "_output.npy"), 1e-3) <= 1e-5);
  }
}

TEST_CASE("ResNet: one epoch of SGD and of Adam in training mode ends on PyTorch's weights and running statistics (relative 1e-10)") {
  nn::Dataset<double> data;
  data.inputs = nn::npy_read_tensor<double>(kDir + "train_x.npy");
  data.labels = nn::npy_read_labels(kDir + "train_y.npy");
  data.num_classes = 3;
  for (const char* optimizer : {"sgd", "adam"}) {
    CAPTURE(optimizer);
    nn::Model<double> model = nn::load_model<double>(kDir + "resnet_start.safetensors");
    nn::TrainOptions o;
    o.batch_size = 4;
    o.shuffle = false;
    o.progress = false;
    o.optimizer.name = optimizer;
    o.optimizer.lr = std::string(optimizer) == "sgd" ? 0.1 : 0.01;
    nn::train<double>(model, data, nullptr, o);
    const nn::Model<double> expected = nn::load_model<double>(kDir + "resnet_" + optimizer + ".safetensors");
    auto ours = model.named_parameters();
    auto theirs = expected.named_parameters();
    REQUIRE(ours.size() == theirs.size());
    for (size_t k = 0; k < ours.size(); ++k) {
      CAPTURE(ours[k].first);
      REQUIRE(ours[k].first == theirs[k].first);
      CHECK(max_relative_error(ours[k].second->value, theirs[k].second->value, 1e-6) <= 1e-10);
    }
  }
}

TEST_CASE("gradcheck: BatchNorm in training (batch statistics) and in evaluation, Add, Concat") {
  ad::Rng rng(7);
  for (int dims : {1, 2}) {
    CAPTURE(dims);
    nn::BatchNorm<double> bn(dims, 3, 1e-5, 0.1);
    for (double& v : bn.weight.value.span()) v = rng.uniform(0.5, 1.5);
    for (double& v : bn.bias.value.span()) v = rng.uniform(-0.5, 0.5);
    for (double& v : bn.running_mean.value.span()) v = rng.uniform(-0.5, 0.5);
    for (double& v : bn.running_var.value.span()) v = rng.uniform(0.5, 1.5);
    const ad::Shape shape = dims == 2 ? ad::Shape{4, 3, 2, 3} : ad::Shape{5, 3};
    const ad::Tensor<double> x = ad::Tensor<double>::uniform(shape, rng, -1, 1);
    for (nn::Grads mode : {nn::Grads::none, nn::Grads::parameters}) {
      // The input's gradient; the parameters' gradients are checked by the epochs against PyTorch.
      // A training forward updates the running statistics, which it does not read: one copy
      // serves every call, and outlives the tape that points at its gradient buffers.
      nn::BatchNorm<double> layer = bn;
      const ad::GradcheckResult r = ad::gradcheck([&](ad::Tape<double>& tape, const std::vector<ad::Var<double>>& v) { return layer.forward(tape, v[0], mode); }, {x});
      INFO(r.message);
      CHECK(r.ok);
    }
  }
  const ad::Tensor<double> a = ad::Tensor<double>::uniform(ad::Shape{2, 3, 2}, rng, -1, 1), b = ad::Tensor<double>::uniform(ad::Shape{2, 3, 2}, rng, -1, 1),
                           c = ad::Tensor<double>::uniform(ad::Shape{2, 1, 2}, rng, -1, 1);
  nn::Add<double> add;
  nn::Concat<double> cat(1);
  for (const ad::GradcheckResult& r :
       {ad::gradcheck([&](auto& tape, const auto& v) { return add.forward(tape, std::span<const ad::Var<double>>(v), nn::Grads::none); }, {a, b}),
        ad::gradcheck([&](auto& tape, const auto& v) { return cat.forward(tape, std::span<const ad::Var<double>>(v), nn::Grads::none); }, {a, c})}) {
    INFO(r.message);
    CHECK(r.ok);
  }
}

TEST_CASE("architecture text: a graph is written and read back node for node; a chain as before") {
  const nn::Model<double> resnet = nn::load_model<double>(kDir + "resnet.safetensors");
  CHECK_FALSE(resnet.is_chain());
  CHECK(resnet.node_index("layer2.0.downsample.1") == 16);
  CHECK(resnet.node_index("layer1") == resnet.node_index("layer1.0.relu2"));  // a module holding several nodes: its last
  CHECK(resnet.node_inputs(resnet.node_index("layer1.0.add")) == std::vector<int>{7, 2});
  CHECK_THROWS_WITH(resnet.node_index("layer3"), doctest::Contains("its layers are conv1, bn1, relu"));
  const nn::Model<double> again = nn::parse_architecture<double>(resnet.architecture(), resnet.input_shape, resnet.input_dtype, 0);
  CHECK(again.architecture() == resnet.architecture());
  CHECK(again.names == resnet.names);
  const std::string chain = "Linear(5, 6); BatchNorm1d(6, momentum=0.3); ReLU(); Linear(6, 3)";
  CHECK(nn::parse_architecture<double>(chain, ad::Shape{5}, nn::InputDtype::float64, 0).architecture() == chain);
  CHECK(nn::parse_architecture<double>("a = Linear(4, 4)\nb = ReLU()\nc = Add()(a, input)", ad::Shape{4}, nn::InputDtype::float64, 0).output_shape() == ad::Shape{4});
  for (const char* bad : {"a = Linear(4, 4)\nb = Add()(a)", "a = Linear(4, 4)\nb = Add()(a, z)", "a = Linear(4, 4)\na = ReLU()", "a = Linear(4, 3)\nb = Add()(a, input)",
                          "a b = ReLU()", "a = ReLU() junk"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(nn::parse_architecture<double>(bad, ad::Shape{4}, nn::InputDtype::float64, 0), std::invalid_argument);
  }
}

TEST_CASE("predict: the ResNet in cache-sized parts gives one forward of the whole batch's bits, at any batch size and thread count") {
  // 23 images make parts of 5 rows (180,000 values an example against 2^20 a part) and a ragged last.
  const nn::Model<float> model = nn::parse_architecture<float>(nn::named_architecture("resnet"), ad::Shape{1, 28, 28}, nn::InputDtype::float32, 3);
  ad::Rng rng(4);
  const ad::Tensor<float> x = ad::Tensor<float>::uniform(ad::Shape{23, 1, 28, 28}, rng);
  ad::Tape<float> tape;
  const ad::Tensor<float> whole = model.forward(tape, tape.leaf(x)).tensor();
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2, 3})
    for (int64_t batch : {1, 7, 256}) {
      CAPTURE(threads);
      CAPTURE(batch);
      omp_set_num_threads(threads);
      const ad::Tensor<float> parts = model.predict(x, batch);
      CHECK(std::equal(parts.span().begin(), parts.span().end(), whole.span().begin(), whole.span().end()));
    }
  omp_set_num_threads(saved);
  CHECK_THROWS_WITH(model.predict(x, 0), doctest::Contains("the batch size must be at least 1, got 0"));
}

TEST_CASE("training: the ResNet's fused nodes give the unfused graph's bits, outputs, running statistics and gradients") {
  // The forward fuses each Conv2d with its BatchNorm and ReLU, and Conv2d, BatchNorm, Add and ReLU
  // at a block's end (layer2.0's waits for its downsampling shortcut, itself a Conv2d and
  // BatchNorm fused); a hook on every node turns all fusion off.
  const auto run = [](bool fused) {
    nn::Model<float> model = nn::parse_architecture<float>(nn::named_architecture("resnet"), ad::Shape{1, 28, 28}, nn::InputDtype::float32, 7);
    ad::Rng rng(8);
    const ad::Tensor<float> x = ad::Tensor<float>::uniform(ad::Shape{6, 1, 28, 28}, rng, -1, 1);
    ad::Tape<float> tape;
    nn::NodeHook<float> every_node;
    every_node.after = [](size_t, ad::Var<float> v) { return v; };
    ad::Var<float> in = tape.leaf(x, true);
    ad::Var<float> out = fused ? model.forward(tape, in, nn::Grads::parameters) : model.forward(tape, in, nn::Grads::parameters, every_node);
    const ad::Tensor<float> seed = ad::Tensor<float>::uniform(out.shape(), rng, -1, 1);
    tape.backward(out, seed.span());
    std::vector<float> all(out.value().begin(), out.value().end());
    all.insert(all.end(), in.grad().begin(), in.grad().end());
    for (const auto& [name, p] : model.named_parameters()) {
      all.insert(all.end(), p->value.span().begin(), p->value.span().end());  // the running statistics
      all.insert(all.end(), p->grad.span().begin(), p->grad.span().end());
    }
    return all;
  };
  const std::vector<float> fused = run(true), apart = run(false);
  REQUIRE(fused.size() == apart.size());
  CHECK(std::memcmp(fused.data(), apart.data(), fused.size() * sizeof(float)) == 0);
}

TEST_CASE("training: the ResNet's forward and backward give the same bits at 1, 2 and 3 threads") {
  // Every pass split by images (convolutions, BatchNorm, the fused groups) with statistics and
  // weight gradients merged in image order: the thread count decides who computes, never the order.
  const auto run = [] {
    nn::Model<float> model = nn::parse_architecture<float>(nn::named_architecture("resnet"), ad::Shape{1, 28, 28}, nn::InputDtype::float32, 9);
    ad::Rng rng(10);
    const ad::Tensor<float> x = ad::Tensor<float>::uniform(ad::Shape{13, 1, 28, 28}, rng, -1, 1);
    ad::Tape<float> tape;
    ad::Var<float> in = tape.leaf(x, true);
    ad::Var<float> out = model.forward(tape, in, nn::Grads::parameters);
    const ad::Tensor<float> seed = ad::Tensor<float>::uniform(out.shape(), rng, -1, 1);
    tape.backward(out, seed.span());
    std::vector<float> all(out.value().begin(), out.value().end());
    all.insert(all.end(), in.grad().begin(), in.grad().end());
    for (const auto& [name, p] : model.named_parameters()) {
      all.insert(all.end(), p->value.span().begin(), p->value.span().end());
      all.insert(all.end(), p->grad.span().begin(), p->grad.span().end());
    }
    return all;
  };
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const std::vector<float> one = run();
  for (int threads : {2, 3}) {
    CAPTURE(threads);
    omp_set_num_threads(threads);
    const std::vector<float> many = run();
    REQUIRE(many.size() == one.size());
    CHECK(std::memcmp(many.data(), one.data(), one.size() * sizeof(float)) == 0);
  }
  omp_set_num_threads(saved);
}
