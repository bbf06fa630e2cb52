// Exporters of the layers that are one ONNX op or a few (nn/layer_registry.h OnnxExporter).
#include <fmt/format.h>

#include <cmath>

#include "nn/layers_activation.h"
#include "nn/layers_batch_norm.h"
#include "nn/layers_conv.h"
#include "nn/layers_linear.h"
#include "nn/layers_merge.h"
#include "nn/layers_pool.h"
#include "nn/layers_shape.h"
#include "nn/onnx/export_helpers.h"

namespace integrad::nn::onnx_export {

template <ad::Scalar T>
std::string linear_map(Emitter<T>& e, const std::string& x, int x_rank, const Parameter<T>& weight, const Parameter<T>* bias, const std::string& sub) {
  if (x_rank == 2) {  // Gemm(x, W, b, transB=1), as torch.onnx.export writes nn.Linear on a matrix
    std::vector<std::string> in{x, e.parameter(weight)};
    if (bias) in.push_back(e.parameter(*bias));
    return e.node("Gemm", in, {attribute("transB", int64_t(1))}, sub);
  }
  // A batch of sequences: MatMul with Wᵀ (a Transpose of the initializer, so the initializer stays
  // the state_dict's tensor; onnxruntime folds it when it loads the model), then the bias.
  const std::string wt = e.node("Transpose", {e.parameter(weight)}, {attribute("perm", std::vector<int64_t>{1, 0})}, sub);
  const std::string y = e.node("MatMul", {x, wt}, {}, sub);
  return bias ? e.node("Add", {y, e.parameter(*bias)}, {}, sub) : y;
}

template <ad::Scalar T>
std::string gelu_nodes(Emitter<T>& e, const std::string& x, const std::string& sub) {
  // integrad's gelu: x·0.5·(1 + erf(x·(1/√2))), in this order, so the float64 values agree to the bit
  // where erf does.
  const std::string erf = e.node("Erf", {e.node("Mul", {x, e.scalar(M_SQRT1_2, sub)}, {}, sub)}, {}, sub);
  const std::string one_plus = e.node("Add", {erf, e.scalar(1.0, sub)}, {}, sub);
  return e.node("Mul", {e.node("Mul", {x, e.scalar(0.5, sub)}, {}, sub), one_plus}, {}, sub);
}

template <ad::Scalar T>
std::string export_linear(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  const auto& l = layer_as<Linear<T>>(layer);
  return linear_map(e, e.floating(in[0]), e.input_shapes()[0].rank() + 1, l.weight, l.has_bias ? &l.bias : nullptr, "");
}

template <ad::Scalar T>
std::string export_conv2d(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  const auto& c = layer_as<Conv2d<T>>(layer);
  std::vector<std::string> inputs{e.floating(in[0]), e.parameter(c.weight)};
  if (c.has_bias) inputs.push_back(e.parameter(c.bias));
  const int64_t k = c.kernel, s = c.stride, p = c.padding;
  return e.node("Conv", inputs,
                {attribute("dilations", std::vector<int64_t>{1, 1}), attribute("group", int64_t(1)), attribute("kernel_shape", std::vector<int64_t>{k, k}),
                 attribute("pads", std::vector<int64_t>{p, p, p, p}), attribute("strides", std::vector<int64_t>{s, s})});
}

template <ad::Scalar T>
std::string export_activation(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  const char* op = layer_is<ReLU<T>>(layer) ? "Relu" : layer_is<Sigmoid<T>>(layer) ? "Sigmoid" : layer_is<Tanh<T>>(layer) ? "Tanh" : nullptr;
  if (!op) throw std::logic_error("export_activation: " + layer.architecture() + " is not an element-wise activation");
  return e.node(op, {e.floating(in[0])});
}

template <ad::Scalar T>
std::string export_softmax(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  return e.node("Softmax", {e.floating(in[0])}, {attribute("axis", int64_t(layer_as<Softmax<T>>(layer).dim))});
}

template <ad::Scalar T>
std::string export_pool2d(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  int64_t k = 0, s = 0;
  const auto* max = layer_if<MaxPool2d<T>>(layer);
  if (max) {
    k = max->kernel, s = max->stride;
  } else {
    const auto& p = layer_as<AvgPool2d<T>>(layer);
    k = p.kernel, s = p.stride;
  }
  return e.node(max ? "MaxPool" : "AveragePool", {e.floating(in[0])},
                {attribute("ceil_mode", int64_t(0)), attribute("kernel_shape", std::vector<int64_t>{k, k}), attribute("pads", std::vector<int64_t>{0, 0, 0, 0}),
                 attribute("strides", std::vector<int64_t>{s, s})});
}

template <ad::Scalar T>
std::string export_adaptive_avg_pool2d(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  layer_as<AdaptiveAvgPool2d<T>>(layer);
  return e.node("GlobalAveragePool", {e.floating(in[0])});
}

template <ad::Scalar T>
std::string export_batch_norm(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  // Evaluation: the running statistics. ONNX's momentum weighs the running value (PyTorch's
  // 1 − momentum); PyTorch's momentum=None (a cumulative average) has no ONNX form and leaves the
  // attribute out. num_batches_tracked is not an input of the node and is not written.
  const auto& b = layer_as<BatchNorm<T>>(layer);
  std::vector<onnx::AttributeProto> attributes{attribute("epsilon", float(b.eps))};
  if (b.momentum) attributes.push_back(attribute("momentum", float(1.0 - *b.momentum)));
  return e.node("BatchNormalization", {e.floating(in[0]), e.parameter(b.weight), e.parameter(b.bias), e.parameter(b.running_mean), e.parameter(b.running_var)},
                attributes);
}

template <ad::Scalar T>
std::string export_flatten(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  layer_as<Flatten<T>>(layer);
  return e.node("Flatten", {e.floating(in[0])}, {attribute("axis", int64_t(1))});
}

template <ad::Scalar T>
std::string export_mean(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  const int dim = layer_as<Mean<T>>(layer).dim;
  return e.node("ReduceMean", {e.floating(in[0])}, {attribute("axes", std::vector<int64_t>{dim}), attribute("keepdims", int64_t(0))});
}

template <ad::Scalar T>
std::string export_identity(Emitter<T>& e, const Layer<T>&, Inputs in) {
  const std::string out = e.node("Identity", {in[0]});  // token ids pass on as they are
  if (e.is_int64(in[0])) e.set_int64(out);
  return out;
}

template <ad::Scalar T>
std::string export_add(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  layer_as<Add<T>>(layer);
  std::string sum = e.floating(in[0]);  // left to right, as Add's forward sums
  for (size_t i = 1; i < in.size(); ++i) sum = e.node("Add", {sum, e.floating(in[i])});
  return sum;
}

template <ad::Scalar T>
std::string export_concat(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  const auto& c = layer_as<Concat<T>>(layer);
  std::vector<std::string> inputs;
  for (const std::string& v : in) inputs.push_back(e.floating(v));
  return e.node("Concat", inputs, {attribute("axis", int64_t(c.dim))});
}

#define INTEGRAD_INSTANTIATE(T)                                                                                                              \
  template std::string linear_map(Emitter<T>&, const std::string&, int, const Parameter<T>&, const Parameter<T>*, const std::string&);      \
  template std::string gelu_nodes(Emitter<T>&, const std::string&, const std::string&);                                                     \
  template std::string export_linear(Emitter<T>&, const Layer<T>&, Inputs);                                                                 \
  template std::string export_conv2d(Emitter<T>&, const Layer<T>&, Inputs);                                                                 \
  template std::string export_activation(Emitter<T>&, const Layer<T>&, Inputs);                                                             \
  template std::string export_softmax(Emitter<T>&, const Layer<T>&, Inputs);                                                               \
  template std::string export_pool2d(Emitter<T>&, const Layer<T>&, Inputs);                                                                 \
  template std::string export_adaptive_avg_pool2d(Emitter<T>&, const Layer<T>&, Inputs);                                                    \
  template std::string export_batch_norm(Emitter<T>&, const Layer<T>&, Inputs);                                                             \
  template std::string export_flatten(Emitter<T>&, const Layer<T>&, Inputs);                                                                \
  template std::string export_mean(Emitter<T>&, const Layer<T>&, Inputs);                                                                   \
  template std::string export_identity(Emitter<T>&, const Layer<T>&, Inputs);                                                               \
  template std::string export_add(Emitter<T>&, const Layer<T>&, Inputs);                                                                    \
  template std::string export_concat(Emitter<T>&, const Layer<T>&, Inputs);
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)

}  // namespace integrad::nn::onnx_export
