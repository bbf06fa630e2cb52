// ONNX ops that are exactly one of integrad's PyTorch layers: Conv → Conv2d, BatchNormalization
// → BatchNorm2d/1d, MaxPool/AveragePool → MaxPool2d/AvgPool2d, GlobalAveragePool →
// AdaptiveAvgPool2d(1), Gemm → Linear, LayerNormalization → LayerNorm, Softmax → Softmax.
// Attributes outside what the layer computes are refused rather than ignored.
#include <fmt/format.h>

#include "nn/layers_activation.h"
#include "nn/layers_batch_norm.h"
#include "nn/layers_conv.h"
#include "nn/layers_linear.h"
#include "nn/layers_pool.h"
#include "nn/layers_transformer.h"
#include "nn/onnx/converters.h"
#include "nn/onnx/layers_elementwise.h"
#include "nn/onnx/layers_pool.h"
#include "nn/onnx/layers_tensor.h"

namespace integrad::nn::onnx_in {
namespace {

// A runtime input whose batch is dimension 0 (images, rows): what PyTorch's layers take.
const Value& batch_first_input(Builder& b, const onnx::NodeProto& node, size_t rank) {
  const Value& x = b.runtime_input(node, 0);
  if (x.shape.size() != rank || !(x.shape[0] == Sym{1, 0})) b.fail(node, fmt::format("needs a {}-D input with the batch first, got {}", rank, onnx_text::syms_text(x.shape)));
  for (size_t i = 1; i < rank; ++i)
    if (!x.shape[i].fixed()) b.fail(node, "has an input whose non-batch dimensions depend on the batch");
  return x;
}

Value add_batch_first(Builder& b, const onnx::NodeProto& node, std::unique_ptr<Layer<double>> layer, const Value& x) {
  const ad::Shape out = layer->output_shape(example_shape(x.shape));
  return b.add_layer(node, std::move(layer), {x.node}, batch_first(out));
}

// Equal values in one list (kernel 3×3, pads all 1, strides 2×2): integrad's layers are square.
int64_t square(Builder& b, const onnx::NodeProto& node, const std::string& name, int64_t fallback) {
  const std::vector<int64_t> v = b.attr_ints(node, name);
  if (v.empty()) return fallback;
  for (int64_t x : v)
    if (x != v[0]) b.fail(node, fmt::format("has {} = [{}]; integrad's layers take equal values on every side", name, fmt::join(v, ", ")));
  if (v[0] < 0 || v[0] > 4096) b.fail(node, fmt::format("has {} {} out of range", name, v[0]));
  return v[0];
}

}  // namespace

void convert_conv(Builder& b, const onnx::NodeProto& node) {
  b.only_attributes(node, {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad"});
  const Value& x = batch_first_input(b, node, 4);
  const Value& w = b.constant_input(node, 1);
  if (w.shape.size() != 4 || w.shape[2] != w.shape[3]) b.fail(node, "needs a weight [out, in, k, k]");
  if (b.attr_int(node, "group", 1) != 1) b.fail(node, "is a grouped convolution, which integrad does not have");
  if (square(b, node, "dilations", 1) != 1) b.fail(node, "is dilated, which integrad does not support");
  if (b.attr_string(node, "auto_pad", "NOTSET") != "NOTSET") b.fail(node, "uses auto_pad; export with explicit pads");
  const std::vector<int64_t> wd = w.dims();
  if (wd[1] != x.shape[1].c) b.fail(node, fmt::format("has a weight for {} channels, the input has {}", wd[1], x.shape[1].c));
  const bool bias = b.has_input(node, 2);
  auto conv = std::make_unique<Conv2d<double>>(wd[1], wd[0], static_cast<int>(wd[2]), static_cast<int>(square(b, node, "strides", 1)),
                                               static_cast<int>(square(b, node, "pads", 0)), bias);
  conv->weight.value = b.tensor(w);
  const std::string name = b.layer_name(node, "");
  b.note_origin(name, "weight", w);
  if (bias) {
    const Value& c = b.constant_input(node, 2);
    if (c.count() != wd[0]) b.fail(node, "has a bias of the wrong size");
    conv->bias.value = b.tensor(c, {wd[0]});
    b.note_origin(name, "bias", c);
  }
  b.set_output(node, add_batch_first(b, node, std::move(conv), x));
}

void convert_batch_norm(Builder& b, const onnx::NodeProto& node) {
  b.only_attributes(node, {"epsilon", "momentum", "training_mode"});
  if (b.attr_int(node, "training_mode", 0) != 0 || node.output_size() > 1) b.fail(node, "is in training mode; export the model in eval()");
  const Value& x = b.runtime_input(node, 0);
  const size_t rank = x.shape.size();
  if (rank != 2 && rank != 4) b.fail(node, "needs a 2-D or 4-D input");
  batch_first_input(b, node, rank);
  const int64_t c = x.shape[1].c;
  // ONNX's momentum weighs the running value (0.9), PyTorch's the batch (0.1).
  // 1 − 0.9 is 0.09999999999999998 in double; PyTorch's momentum was the decimal 0.1.
  const double momentum = std::stod(fmt::format("{:.15g}", 1.0 - b.attr_float(node, "momentum", 0.9)));
  auto bn = std::make_unique<BatchNorm<double>>(rank == 4 ? 2 : 1, c, b.attr_float(node, "epsilon", 1e-5), momentum);
  const std::string name = b.layer_name(node, "");
  Parameter<double>* params[] = {&bn->weight, &bn->bias, &bn->running_mean, &bn->running_var};
  for (int k = 0; k < 4; ++k) {
    const Value& p = b.constant_input(node, k + 1);
    if (p.count() != c) b.fail(node, fmt::format("input {} has {} values, the input has {} channels", k + 1, p.count(), c));
    params[k]->value = b.tensor(p, {c});
    b.note_origin(name, params[k]->name, p);
  }
  b.set_output(node, add_batch_first(b, node, std::move(bn), x));
}

void convert_pool(Builder& b, const onnx::NodeProto& node) {
  b.only_attributes(node, {"kernel_shape", "strides", "pads", "ceil_mode", "count_include_pad", "auto_pad", "dilations", "storage_order"});
  const Value& x = batch_first_input(b, node, 4);
  const int64_t k = square(b, node, "kernel_shape", 0), s = square(b, node, "strides", 1);
  if (k < 1) b.fail(node, "needs a kernel_shape");
  const int64_t pad = square(b, node, "pads", 0);
  if (pad != 0 && (node.op_type() != "MaxPool" || 2 * pad > k)) b.fail(node, "pads its input; integrad pads max pooling only (by at most half the kernel)");
  if (b.attr_int(node, "ceil_mode", 0) != 0 || square(b, node, "dilations", 1) != 1 || b.attr_string(node, "auto_pad", "NOTSET") != "NOTSET")
    b.fail(node, "uses ceil_mode, dilations or auto_pad, which integrad's pooling layers do not");
  if (node.output_size() > 1) b.fail(node, "has an indices output");
  if (pad > 0) {  // torch.nn.MaxPool2d(k, s, padding=p): the ONNX layer kind that pads with −∞
    auto l = std::make_unique<OnnxMaxPool<double>>();
    l->kernel = static_cast<int>(k), l->stride = static_cast<int>(s), l->pad = static_cast<int>(pad);
    const int64_t h = (x.shape[2].c + 2 * pad - k) / s + 1, w = (x.shape[3].c + 2 * pad - k) / s + 1;
    if (h < 1 || w < 1) b.fail(node, "has a kernel larger than its padded input");
    b.set_output(node, b.add_onnx_layer(node, std::move(l), {&x}, {x.shape[0], x.shape[1], {0, h}, {0, w}}));
    return;
  }
  std::unique_ptr<Layer<double>> layer;
  if (node.op_type() == "MaxPool") layer = std::make_unique<Pool2d<double, true>>(static_cast<int>(k), static_cast<int>(s));
  else layer = std::make_unique<Pool2d<double, false>>(static_cast<int>(k), static_cast<int>(s));
  b.set_output(node, add_batch_first(b, node, std::move(layer), x));
}

void convert_global_average_pool(Builder& b, const onnx::NodeProto& node) {
  const Value& x = batch_first_input(b, node, 4);
  b.set_output(node, add_batch_first(b, node, std::make_unique<AdaptiveAvgPool2d<double>>(), x));
}

void convert_gemm(Builder& b, const onnx::NodeProto& node) {
  b.only_attributes(node, {"alpha", "beta", "transA", "transB"});
  if (b.attr_float(node, "alpha", 1) != 1 || b.attr_float(node, "beta", 1) != 1 || b.attr_int(node, "transA", 0) != 0)
    b.fail(node, "has alpha, beta or transA other than 1, 1, 0");
  const Value& x = b.runtime_input(node, 0);
  if (x.shape.size() != 2) b.fail(node, "needs a 2-D input");
  const Value& w = b.constant_input(node, 1);
  if (w.shape.size() != 2) b.fail(node, "needs a 2-D weight");
  const bool trans = b.attr_int(node, "transB", 0) != 0;
  const int64_t in = trans ? w.shape[1].c : w.shape[0].c, out = trans ? w.shape[0].c : w.shape[1].c;
  if (x.shape[1] != Sym{0, in}) b.fail(node, fmt::format("has a weight for {} features, the input is {}", in, onnx_text::syms_text(x.shape)));
  const bool bias = b.has_input(node, 2);
  if (bias && b.constant_input(node, 2).count() != out) b.fail(node, "has a bias that is not one value per output");
  std::vector<Sym> shape{x.shape[0], {0, out}};
  const std::string name = b.layer_name(node, "");
  if (!(x.shape[0] == Sym{1, 0})) {
    // The batch merged into the rows ([S·N, E] in an exported attention): a matrix product and a
    // sum over whole tensors, since Linear's per-example shape would not hold.
    Value wk;
    wk.shape = fixed_syms({in, out});
    const ad::Tensor<double> wt = b.tensor(w);
    for (int64_t i = 0; i < in; ++i)
      for (int64_t o = 0; o < out; ++o) wk.real.push_back(trans ? wt[o * in + i] : wt[i * out + o]);
    wk.initializer = w.initializer;
    Value y = b.add_onnx_layer(node, std::make_unique<OnnxMatMul<double>>(), {&x, &wk}, shape, bias ? ":matmul" : "");
    if (bias) y = b.add_onnx_layer(node, [] { auto l = std::make_unique<OnnxBinary<double>>(); l->op = "Add"; return l; }(), {&y, &b.constant_input(node, 2)}, shape);
    b.set_output(node, y);
    return;
  }
  auto linear = std::make_unique<Linear<double>>(in, out, bias);
  const ad::Tensor<double> wt = b.tensor(w);
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < in; ++i) linear->weight.value[o * in + i] = trans ? wt[o * in + i] : wt[i * out + o];
  b.note_origin(name, "weight", w);
  if (bias) {
    linear->bias.value = b.tensor(b.constant_input(node, 2), {out});
    b.note_origin(name, "bias", b.constant_input(node, 2));
  }
  b.set_output(node, b.add_layer(node, std::move(linear), {x.node}, shape));
}

void convert_layer_norm(Builder& b, const onnx::NodeProto& node) {
  b.only_attributes(node, {"axis", "epsilon", "stash_type"});
  const Value& x = b.runtime_input(node, 0);
  if (b.attr_int(node, "axis", -1) != -1 && b.attr_int(node, "axis", -1) != static_cast<int64_t>(x.shape.size()) - 1)
    b.fail(node, "normalises over more than the last axis");
  if (node.output_size() > 1) b.fail(node, "has mean or inverse-deviation outputs");
  const Sym d = x.shape.back();
  if (!d.fixed()) b.fail(node, "normalises over the batch");
  auto ln = std::make_unique<LayerNorm<double>>(d.c, b.attr_float(node, "epsilon", 1e-5));
  const std::string name = b.layer_name(node, "");
  const Value& scale = b.constant_input(node, 1);
  if (scale.count() != d.c) b.fail(node, "has a scale of the wrong size");
  ln->weight.value = b.tensor(scale, {d.c});
  b.note_origin(name, "weight", scale);
  if (b.has_input(node, 2)) {
    const Value& bias = b.constant_input(node, 2);
    if (bias.count() != d.c) b.fail(node, "has a bias of the wrong size");
    ln->bias.value = b.tensor(bias, {d.c});
    b.note_origin(name, "bias", bias);
  }
  b.set_output(node, b.add_layer(node, std::move(ln), {x.node}, x.shape));
}

void convert_softmax(Builder& b, const onnx::NodeProto& node) {
  b.only_attributes(node, {"axis"});
  const Value& x = b.runtime_input(node, 0);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  int64_t axis = b.attr_int(node, "axis", -1);
  if (axis < -rank || axis >= rank) b.fail(node, fmt::format("has axis {} for a rank-{} input", axis, rank));
  if (axis >= 0) axis -= rank;  // counted from the end, as the batch may sit anywhere
  b.set_output(node, b.add_layer(node, std::make_unique<Softmax<double>>(static_cast<int>(axis)), {x.node}, x.shape));
}

}  // namespace integrad::nn::onnx_in
