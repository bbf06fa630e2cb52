// Integrated gradients through an ONNX model: the float64 ResNet exported by torch 1.13 with its
// BatchNorm kept (tests/data/make_onnx_fixtures.py) against the same PyTorch module saved as
// integrad's own graph file. The network is piecewise linear, so IG has an exact value
// (attribution/methods/exact_ig.h): it must be complete, and equal through either file.
#include <doctest/doctest.h>

#include <cmath>

#include "attribution/methods/exact_ig.h"
#include "attribution/methods/layer_ig.h"
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
