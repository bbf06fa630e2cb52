// ONNX models exported by torch 1.13 (tests/data/make_onnx_fixtures.py) give PyTorch's outputs,
// and their layers are named by node, tensor and module path.
#include <doctest/doctest.h>

#include <string>

#include "nn/model_file.h"
#include "autodiff/gradcheck.h"
#include "nn/npy.h"

using namespace integrad;

namespace {

template <class T>
double max_error(const std::string& name) {
  const std::string dir = std::string(INTEGRAD_TEST_DATA) + "/onnx/";
  const nn::Model<T> model = nn::load_model<T>(dir + name + ".onnx");
  const ad::Tensor<T> x = nn::npy_read_tensor<T>(dir + name + "_input.npy");
  const ad::Tensor<T> want = nn::npy_read_tensor<T>(dir + name + "_output.npy");
  const ad::Tensor<T> got = model.predict(x);
  REQUIRE(got.shape() == want.shape());
  double e = 0;
  for (int64_t i = 0; i < got.numel(); ++i) e = std::max(e, std::abs(double(got[i]) - double(want[i])));
  return e;
}

}  // namespace

TEST_CASE("ONNX models from PyTorch predict as PyTorch does") {
  for (const char* name : {"resnet_folded", "resnet_fixed", "resnet_bn", "lstm", "gru", "encoder13", "encoder17"}) {
    CAPTURE(name);
    CHECK(max_error<float>(name) < 1e-5);
  }
  for (const char* name : {"resnet_f64", "encoder17_f64"}) {
    CAPTURE(name);
    CHECK(max_error<double>(name) < 1e-12);
  }
}

TEST_CASE("an ONNX model's layers are named by node, output tensor and module path") {
  const auto model = nn::load_model<double>(std::string(INTEGRAD_TEST_DATA) + "/onnx/resnet_folded.onnx");
  const size_t conv = model.node_index("/layer1/layer1.0/conv1/Conv");
  CHECK(model.node_index("layer1.0.conv1") == conv);
  CHECK(model.node_index("layer1") == model.node_index("/layer1/layer1.0/relu_1/Relu"));
  CHECK(model.node_index("/layer1/layer1.0/relu_1/Relu_output_0") == model.node_index("layer1"));
  // A Sequential inside a block: torch names its child's scope "downsample.0".
  CHECK(model.node_index("layer2.0.downsample.0") == model.node_index("/layer2/layer2.0/downsample/downsample.0/Conv"));
  CHECK_THROWS(model.node_index("layer2.0.downsample.downsample.0"));
  CHECK_THROWS(model.node_index("layer9"));
  CHECK(model.batch_elsewhere.empty());  // a ResNet keeps the batch first throughout
}

TEST_CASE("--layer refuses an ONNX node whose values do not have the batch first") {
  const auto model = nn::load_model<double>(std::string(INTEGRAD_TEST_DATA) + "/onnx/lstm.onnx");
  // torch's LSTM export runs time-major: the Transpose before the LSTM node puts the batch second.
  CHECK(model.batch_elsewhere.count("/rnn/Transpose") == 1);
  CHECK_THROWS_WITH_AS(model.node_index("/rnn/Transpose"), doctest::Contains("without the batch as dimension 0"), std::invalid_argument);
  CHECK(model.any_node_index("/rnn/Transpose") == 1);
  CHECK_NOTHROW(model.node_index("emb"));  // the embedding's output, batch first
  CHECK(model.clone().batch_elsewhere == model.batch_elsewhere);
}

TEST_CASE("hostile ONNX files are refused naming the file and what is wrong") {
  const std::string dir = std::string(INTEGRAD_TEST_DATA) + "/onnx/hostile/";
  CHECK(nn::load_model<float>(dir + "good.onnx").parameter_count() == 3);
  const auto two = nn::load_model<float>(dir + "two_inputs.onnx");  // read as the model's two named inputs
  REQUIRE(two.input_count() == 2);
  CHECK(two.named_inputs[1].name == "x2");
  const std::pair<const char*, const char*> cases[] = {
      {"cycle", "node 'first' (Relu) reads 'b', which no node, initializer or input before it produces"},
      {"dangling", "node 'lost' (Relu) reads 'nowhere'"},
      {"deep_nesting", "not a valid ONNX model (the protobuf is truncated, corrupt or nested too deeply)"},
      {"external_traversal", "tensor 'w' keeps its data at '../../../../etc/passwd', outside the model's folder"},
      {"gigabytes", "tensor 'w' claims more than 2^28 elements"},
      {"half_gigabyte", "tensor 'w' has shape of 134217728 elements but 12 bytes of data"},
      {"lying_dims", "tensor 'w' has shape of 3 elements but 20 bytes of data"},
      {"opset_6", "opset 6; integrad reads ONNX opsets 13 to 17"},
      {"duplicate_inputs", "two of the graph's inputs are named 'x'"},
      {"second_input_int32", "input 'x2' has element type 6"},
      {"second_input_symbolic", "input 'x2' has dimension 1 'k'; only the batch"},
      {"many_inputs", "the graph has 65 inputs besides its initializers; integrad reads at most 64"},
      {"unknown_op", "node 'hm' (Hardmax) is an operation integrad does not read"},
  };
  for (const auto& c : cases) {
    const std::string& name = c.first;  // not a structured binding: clang 14 refuses one in CAPTURE
    const std::string& message = c.second;
    CAPTURE(name);
    const std::string path = dir + name + ".onnx";
    try {
      (void)nn::load_model<float>(path);
      FAIL("loaded");
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      CHECK(what.find(path) != std::string::npos);
      CHECK(what.find(message) != std::string::npos);
    }
  }
}

TEST_CASE("gradcheck through ONNX layer kinds: padded max pooling, attention's reshapes and products") {
  const std::string dir = std::string(INTEGRAD_TEST_DATA) + "/onnx/";
  for (const char* name : {"stem_f64", "encoder17_f64"}) {
    CAPTURE(name);
    const auto model = nn::load_model<double>(dir + name + ".onnx");
    const ad::Tensor<double> x = nn::npy_read_tensor<double>(dir + name + "_input.npy");
    CHECK(max_error<double>(name) < 1e-12);
    const auto r = ad::gradcheck([&](ad::Tape<double>& tape, const std::vector<ad::Var<double>>& v) { return model.forward(tape, v[0]); }, {x});
    CHECK_MESSAGE(r.ok, r.message);
  }
}
