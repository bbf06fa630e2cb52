// `integrad train MODEL.onnx -o OUT.onnx`: the model read from ONNX trains as the same module in
// integrad's own format does (whose training matches PyTorch's, test_graph.cpp), BatchNorm in
// training mode included, and goes back into the file's graph: same nodes, same initializer names,
// the trained values. Exporter-merged initializers (an Identity reading another) come back apart.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include <onnx/onnx_pb.h>

#include "autodiff/rng.h"
#include "nn/model_file.h"
#include "nn/npy.h"
#include "nn/onnx/write_back.h"
#include "nn/train.h"
#include "relative_error.h"

using namespace integrad;
using testing::max_relative_error;

namespace {

const std::string kDir = std::string(INTEGRAD_TEST_DATA) + "/onnx/";

onnx::ModelProto parsed(const std::string& bytes) {
  onnx::ModelProto m;
  REQUIRE(m.ParseFromString(bytes));
  return m;
}

std::string temp_file(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / "integrad_tests";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

}  // namespace

TEST_CASE("an ONNX ResNet with BatchNorm trains as the same module in integrad's format, and is written back into its graph") {
  nn::Dataset<double> data;
  data.inputs = nn::npy_read_tensor<double>(std::string(INTEGRAD_TEST_DATA) + "/graph/train_x.npy");
  data.labels = nn::npy_read_labels(std::string(INTEGRAD_TEST_DATA) + "/graph/train_y.npy");
  data.num_classes = 3;
  nn::TrainOptions o;
  o.batch_size = 4;
  o.shuffle = false;
  o.progress = false;
  o.optimizer.name = "adam";
  o.optimizer.lr = 0.01;
  nn::Model<double> from_onnx = nn::load_model<double>(kDir + "resnet_f64.onnx");
  nn::Model<double> native = nn::load_model<double>(kDir + "resnet_f64_native.safetensors");
  REQUIRE(data.inputs.shape().without(0) == from_onnx.input_shape);
  nn::train<double>(from_onnx, data, nullptr, o);
  nn::train<double>(native, data, nullptr, o);
  const ad::Tensor<double> x = nn::npy_read_tensor<double>(kDir + "resnet_f64_input.npy");
  // The running statistics too: evaluation reads them.
  CHECK(max_relative_error(from_onnx.predict(x), native.predict(x), 1e-3) <= 1e-12);

  const std::string out = temp_file("trained_resnet.onnx");
  nn::save_model(out, from_onnx, "F64");
  const nn::Model<double> back = nn::load_model<double>(out);
  CHECK(max_relative_error(back.predict(x), from_onnx.predict(x), 1e-3) == 0);

  std::ifstream original_file(kDir + "resnet_f64.onnx", std::ios::binary), written_file(out, std::ios::binary);
  const onnx::ModelProto original = parsed(std::string(std::istreambuf_iterator<char>(original_file), {}));
  const onnx::ModelProto written = parsed(std::string(std::istreambuf_iterator<char>(written_file), {}));
  REQUIRE(written.graph().node_size() == original.graph().node_size());
  for (int i = 0; i < original.graph().node_size(); ++i) CHECK(written.graph().node(i).name() == original.graph().node(i).name());
  std::set<std::string> names_before, names_after;
  for (const auto& t : original.graph().initializer()) names_before.insert(t.name());
  for (const auto& t : written.graph().initializer()) names_after.insert(t.name());
  CHECK(names_before == names_after);
  std::filesystem::remove(out);
}

TEST_CASE("ONNX write-back: merged initializers come back apart, under the Identity's name") {
  nn::Model<double> model = nn::load_model<double>(kDir + "encoder17_f64.onnx");
  std::ifstream original_file(kDir + "encoder17_f64.onnx", std::ios::binary);
  const onnx::ModelProto original = parsed(std::string(std::istreambuf_iterator<char>(original_file), {}));
  std::set<std::string> initializers;
  for (const auto& t : original.graph().initializer()) initializers.insert(t.name());
  int merged = 0;
  for (const auto& n : original.graph().node()) merged += n.op_type() == "Identity" && initializers.count(n.input(0));
  REQUIRE(merged > 0);
  // As training would leave them: every parameter moved differently, the merged copies apart.
  double shift = 0;
  for (auto& [name, p] : model.named_parameters())
    if (!p->buffer)
      for (double& v : p->value.span()) v += (shift += 1e-4);
  const onnx::ModelProto written = parsed(nn::onnx_written_back(model));
  int identities_left = 0;
  for (const auto& n : written.graph().node()) identities_left += n.op_type() == "Identity" && n.input_size() == 1 && initializers.count(n.input(0));
  CHECK(identities_left == 0);
  CHECK(written.graph().initializer_size() == original.graph().initializer_size() + merged);
  CHECK(written.graph().node_size() == original.graph().node_size() - merged);

  const std::string out = temp_file("moved_encoder.onnx");
  nn::save_model(out, model, "F64");
  const ad::Tensor<double> x = nn::npy_read_tensor<double>(kDir + "encoder17_f64_input.npy");
  CHECK(max_relative_error(nn::load_model<double>(out).predict(x), model.predict(x), 1e-3) <= 1e-15);
  std::filesystem::remove(out);
}

// ONNX's LSTM and GRU keep W [1, G·H, I], R [1, G·H, H] and one B [1, 2·G·H] (input then recurrent
// biases) in gate order i, o, f, c and z, r, h, where integrad's layers hold PyTorch's i, f, g, o and
// r, z, n, and two biases: the write-back must put each trained value back in ONNX's place.
TEST_CASE("ONNX write-back of LSTM and GRU: one epoch trained, written back, read again predicts the same") {
  for (const char* name : {"lstm_f64", "gru_f64"}) {
    CAPTURE(name);
    nn::Model<double> model = nn::load_model<double>(kDir + name + ".onnx");
    const ad::Tensor<double> x = nn::npy_read_tensor<double>(kDir + name + "_input.npy");
    const ad::Tensor<double> before = model.predict(x);
    CHECK(max_relative_error(before, nn::npy_read_tensor<double>(kDir + name + "_output.npy"), 1e-3) < 1e-12);
    // Token sequences [N, 5] of ids below 20; the label depends on the first and last token.
    nn::Dataset<double> data;
    data.inputs = ad::Tensor<double>(ad::Shape{24, 5});
    ad::Rng rng(5);
    for (double& v : data.inputs.span()) v = std::floor(rng.uniform(0, 20));
    for (int64_t i = 0; i < 24; ++i) data.labels.push_back(int64_t(data.inputs[i * 5] + data.inputs[i * 5 + 4]) % 3);
    data.num_classes = 3;
    nn::TrainOptions o;
    o.batch_size = 6;
    o.shuffle = false;
    o.progress = false;
    o.optimizer.name = "adam";
    o.optimizer.lr = 0.05;
    o.epochs = 1;
    nn::train<double>(model, data, nullptr, o);
    const ad::Tensor<double> trained = model.predict(x);
    CHECK(max_relative_error(trained, before, 1e-3) > 1e-3);  // training moved it

    const std::string out = temp_file(std::string("trained_") + name + ".onnx");
    nn::save_model(out, model, "F64");
    const nn::Model<double> back = nn::load_model<double>(out);
    CHECK(max_relative_error(back.predict(x), trained, 1e-3) <= 1e-12);
    // Every parameter back where it came from, bit for bit, including the recurrent ones.
    auto want = model.named_parameters();
    auto got = back.named_parameters();
    REQUIRE(got.size() == want.size());
    for (size_t k = 0; k < want.size(); ++k) {
      CAPTURE(want[k].first);
      REQUIRE(got[k].second->value.shape() == want[k].second->value.shape());
      for (int64_t i = 0; i < want[k].second->value.numel(); ++i) CHECK(got[k].second->value[i] == want[k].second->value[i]);
    }
    std::ifstream original_file(kDir + name + ".onnx", std::ios::binary), written_file(out, std::ios::binary);
    const onnx::ModelProto original = parsed(std::string(std::istreambuf_iterator<char>(original_file), {}));
    const onnx::ModelProto written = parsed(std::string(std::istreambuf_iterator<char>(written_file), {}));
    REQUIRE(written.graph().node_size() == original.graph().node_size());
    for (int i = 0; i < original.graph().node_size(); ++i) CHECK(written.graph().node(i).name() == original.graph().node(i).name());
    REQUIRE(written.graph().initializer_size() == original.graph().initializer_size());
    for (int i = 0; i < original.graph().initializer_size(); ++i) CHECK(written.graph().initializer(i).name() == original.graph().initializer(i).name());
    std::filesystem::remove(out);
  }
}
