// ONNX models exported by torch 1.13 (tests/data/make_onnx_fixtures.py) give PyTorch's outputs,
// and their layers are named by node, tensor and module path.
#include <doctest/doctest.h>

#include <string>

#include "nn/model_file.h"
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
  CHECK_THROWS(model.node_index("layer9"));
}
