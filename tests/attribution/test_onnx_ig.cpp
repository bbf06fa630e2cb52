// Integrated gradients through an ONNX model: the float64 ResNet exported by torch 1.13 with its
// BatchNorm kept (tests/data/make_onnx_fixtures.py) against the same PyTorch module saved as
// integrad's own graph file. The network is piecewise linear, so IG has an exact value
// (attribution/methods/exact_ig.h): it must be complete, and equal through either file.
#include <doctest/doctest.h>

#include <cmath>

#include "attribution/methods/exact_ig.h"
#include "attribution/methods/layer_ig.h"
#include "nn/architecture.h"
#include "nn/model_file.h"
#include "nn/npy.h"

using namespace integrad;

namespace {
double max_diff(const ad::Tensor<double>& a, const ad::Tensor<double>& b) {
  REQUIRE(a.shape() == b.shape());
  double worst = 0;
  for (int64_t j = 0; j < a.numel(); ++j) worst = std::max(worst, std::abs(a[j] - b[j]));
  return worst;
}
}  // namespace

TEST_CASE("IG on the ONNX float64 ResNet: exact, complete, and equal to the native model's within 1e-10") {
  const std::string dir = std::string(INTEGRAD_TEST_DATA) + "/onnx/";
  const auto onnx = nn::load_model<double>(dir + "resnet_f64.onnx");
  const auto native = nn::load_model<double>(dir + "resnet_f64_native.safetensors");
  const auto x = nn::npy_read_tensor<double>(dir + "resnet_f64_input.npy");
  const auto exact = attr::exact_integrated_gradients(onnx, x, attr::Target<double>::predicted());
  const auto exact_native = attr::exact_integrated_gradients(native, x, attr::Target<double>::each(exact.targets));
  for (double d : exact.deltas) CHECK(std::abs(d) < 1e-12);  // completeness: sum = F(x) − F(baseline)
  CHECK(max_diff(exact.values, exact_native.values) < 1e-10);
  attr::IgOptions<double> o;
  o.steps = 64;
  const auto t = attr::Target<double>::each(exact.targets);
  CHECK(max_diff(attr::integrated_gradients(attr::forward_of(onnx), x, t, o).values, attr::integrated_gradients(attr::forward_of(native), x, t, o).values) <
        1e-10);
}

TEST_CASE("layer IG by module path on the ONNX ResNet matches Captum's LayerIntegratedGradients") {
  const std::string dir = std::string(INTEGRAD_TEST_DATA) + "/onnx/";
  const auto onnx = nn::load_model<double>(dir + "resnet_f64.onnx");
  const auto x = nn::npy_read_tensor<double>(dir + "resnet_f64_input.npy");
  attr::IgOptions<double> o;
  o.steps = 32;  // Gauss-Legendre, zero baseline: Captum's defaults but n_steps
  for (const char* path : {"layer1", "layer2.0.conv1"}) {
    CAPTURE(path);
    const auto want = nn::npy_read_tensor<double>(dir + "resnet_f64_lig_" + path + ".npy");
    const auto got = attr::layer_integrated_gradients(onnx, onnx.node_index(path), x, attr::Target<double>::each({0, 1, 2, 0}), o);
    MESSAGE(path << ": max |integrad - Captum| = " << max_diff(got.values, want));
    // Captum rounds the quadrature weights to float32 (`torch.tensor(step_sizes).float()` in
    // integrated_gradients.py), a relative 6e-8 on each weight: 1e-9 here, on values up to 0.04.
    CHECK(max_diff(got.values, want) < 1e-9);
  }
}

// A Keras CNN shaped as tf2onnx writes it (tests/data/make_keras_shaped_onnx.py: NHWC input,
// Transposes around Conv/Relu/MaxPool, Reshape, MatMul + Add, Softmax; built by hand, real tf2onnx
// is untested here). Its outputs are the script's float64 numpy reference; IG through it equals IG
// through the same function written as integrad's own chain on NCHW input (the Dense kernel's rows
// reordered from Keras's HWC flatten to CHW), and is complete to within the quadrature's error.
TEST_CASE("a tf2onnx-shaped Keras CNN: outputs as the reference, IG as the native chain's and complete") {
  const std::string dir = std::string(INTEGRAD_TEST_DATA) + "/onnx/";
  const auto keras = nn::load_model<double>(dir + "keras_cnn.onnx");
  const auto x = nn::npy_read_tensor<double>(dir + "keras_cnn_input.npy");  // [4, 6, 6, 2], NHWC
  CHECK(keras.input_shape == ad::Shape{6, 6, 2});
  CHECK(max_diff(keras.predict(x), nn::npy_read_tensor<double>(dir + "keras_cnn_output.npy")) < 1e-12);
  const auto in_float = nn::load_model<float>(dir + "keras_cnn.onnx").predict(nn::npy_read_tensor<float>(dir + "keras_cnn_input.npy"));
  const auto want = nn::npy_read_tensor<double>(dir + "keras_cnn_output.npy");
  REQUIRE(in_float.numel() == want.numel());
  for (int64_t i = 0; i < want.numel(); ++i) CHECK(std::abs(double(in_float[i]) - want[i]) < 1e-5);
  CHECK(keras.node_index("sequential/dense/MatMul") == 6);
  CHECK(keras.node_index("sequential/dense/MatMul:0") == 6);

  // The native chain, its parameters taken from the ONNX model's.
  auto native = nn::parse_architecture<double>("Conv2d(2, 4, 3, padding=1); ReLU(); MaxPool2d(2); Flatten(); Linear(36, 8); ReLU(); Linear(8, 3); Softmax(dim=-1)",
                                               ad::Shape{2, 6, 6}, nn::InputDtype::float64, 0);
  const auto from = keras.named_parameters();
  auto to = native.named_parameters();
  REQUIRE(from.size() == 6);
  REQUIRE(to.size() == 6);
  to[0].second->value = from[0].second->value;  // Conv: ONNX's [out, in, kh, kw] is PyTorch's
  to[1].second->value = from[1].second->value;
  const ad::Tensor<double>& k1 = from[2].second->value;  // [36, 8], rows in HWC order
  for (int64_t o = 0; o < 8; ++o)
    for (int64_t c = 0; c < 4; ++c)
      for (int64_t hw = 0; hw < 9; ++hw) to[2].second->value[o * 36 + c * 9 + hw] = k1[(hw * 4 + c) * 8 + o];
  to[3].second->value = from[3].second->value;
  for (int64_t o = 0; o < 3; ++o)
    for (int64_t i = 0; i < 8; ++i) to[4].second->value[o * 8 + i] = from[4].second->value[i * 3 + o];
  to[5].second->value = from[5].second->value;
  ad::Tensor<double> nchw(ad::Shape{4, 2, 6, 6});
  for (int64_t n = 0; n < 4; ++n)
    for (int64_t h = 0; h < 6; ++h)
      for (int64_t w = 0; w < 6; ++w)
        for (int64_t c = 0; c < 2; ++c) nchw[((n * 2 + c) * 6 + h) * 6 + w] = x[((n * 6 + h) * 6 + w) * 2 + c];
  CHECK(max_diff(native.predict(nchw), keras.predict(x)) < 1e-14);

  const auto t = attr::Target<double>::predicted();
  attr::IgOptions<double> o;
  o.steps = 256;
  const auto a = attr::integrated_gradients(attr::forward_of(keras), x, t, o);
  const auto b = attr::integrated_gradients(attr::forward_of(native), nchw, attr::Target<double>::each(a.targets), o);
  double worst = 0;
  for (int64_t n = 0; n < 4; ++n)
    for (int64_t h = 0; h < 6; ++h)
      for (int64_t w = 0; w < 6; ++w)
        for (int64_t c = 0; c < 2; ++c)
          worst = std::max(worst, std::abs(a.values[((n * 6 + h) * 6 + w) * 2 + c] - b.values[((n * 2 + c) * 6 + h) * 6 + w]));
  CHECK(worst < 1e-10);
  // Completeness: Σ attributions = F(x) − F(0) up to the quadrature's error, which shrinks with the
  // steps (ReLU and max-pool kinks make it shrink slowly: measured 4.6e-4 at 256, 9.1e-5 at 4096).
  o.steps = 4096;
  const auto fine = attr::integrated_gradients(attr::forward_of(keras), x, attr::Target<double>::each(a.targets), o);
  for (size_t n = 0; n < 4; ++n) {
    CHECK(std::abs(a.deltas[n]) < 1e-3);
    CHECK(std::abs(fine.deltas[n]) < 2e-4);
  }
}
