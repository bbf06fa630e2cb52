// Exporters of the token and sequence layers (nn/layers_embedding.h, nn/layers_transformer.h).
#include <cmath>
#include <type_traits>

#include "nn/layers_embedding.h"
#include "nn/layers_transformer.h"
#include "nn/onnx/export_helpers.h"

namespace integrad::nn::onnx_export {

template <ad::Scalar T>
std::string export_embedding(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  // Gather rows of the table by int64 ids: the model's int64 input as it is; a floating-point
  // value is cast (ONNX's Cast truncates, where integrad refuses a non-integer id).
  const auto& l = layer_as<Embedding<T>>(layer);
  return e.node("Gather", {e.parameter(l.weight), e.int64(in[0])}, {attribute("axis", int64_t(0))});
}

template <ad::Scalar T>
std::string export_positional_embedding(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  // x + weight[:T]: the sequence length is fixed by the model's input shape.
  const auto& l = layer_as<PositionalEmbedding<T>>(layer);
  const int64_t t = e.input_shapes()[0][0];
  const std::string rows = e.node("Slice", {e.parameter(l.weight), e.int64s({0}), e.int64s({t}), e.int64s({0})});
  return e.node("Add", {e.floating(in[0]), rows});
}

template <ad::Scalar T>
std::string export_select(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  // x.select(dim, index): Gather with a 0-d index drops the dimension.
  const auto& l = layer_as<Select<T>>(layer);
  return e.node("Gather", {e.floating(in[0]), e.int64_scalar(l.index)}, {attribute("axis", int64_t(l.dim))});
}

template <ad::Scalar T>
std::string layer_norm_nodes(Emitter<T>& e, const std::string& x, const Parameter<T>& weight, const Parameter<T>& bias, double eps, const std::string& sub) {
  if (std::is_same_v<T, float> || double(float(eps)) == eps)
    return e.node("LayerNormalization", {x, e.parameter(weight), e.parameter(bias)}, {attribute("axis", int64_t(-1)), attribute("epsilon", float(eps))}, sub);
  // As ops/ops_norm.cpp computes it: (x − mean)·(1/√(var + eps))·w + b, var the biased variance.
  const std::vector<onnx::AttributeProto> last_axis{attribute("axes", std::vector<int64_t>{-1}), attribute("keepdims", int64_t(1))};
  const std::string centred = e.node("Sub", {x, e.node("ReduceMean", {x}, last_axis, sub)}, {}, sub);
  const std::string var = e.node("ReduceMean", {e.node("Mul", {centred, centred}, {}, sub)}, last_axis, sub);
  const std::string rstd = e.node("Div", {e.scalar(1.0, sub), e.node("Sqrt", {e.node("Add", {var, e.scalar(eps, sub)}, {}, sub)}, {}, sub)}, {}, sub);
  const std::string scaled = e.node("Mul", {e.node("Mul", {centred, rstd}, {}, sub), e.parameter(weight)}, {}, sub);
  return e.node("Add", {scaled, e.parameter(bias)}, {}, sub);
}

template <ad::Scalar T>
std::string export_layer_norm(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  const auto& l = layer_as<LayerNorm<T>>(layer);
  return layer_norm_nodes(e, e.floating(in[0]), l.weight, l.bias, l.eps, "");
}

template <ad::Scalar T>
std::string export_gelu(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  layer_as<GELU<T>>(layer);
  return gelu_nodes(e, e.floating(in[0]), "");
}

#define INTEGRAD_INSTANTIATE(T)                                                           \
  template std::string layer_norm_nodes(Emitter<T>&, const std::string&, const Parameter<T>&, const Parameter<T>&, double, const std::string&); \
  template std::string export_embedding(Emitter<T>&, const Layer<T>&, Inputs);            \
  template std::string export_positional_embedding(Emitter<T>&, const Layer<T>&, Inputs); \
  template std::string export_select(Emitter<T>&, const Layer<T>&, Inputs);               \
  template std::string export_layer_norm(Emitter<T>&, const Layer<T>&, Inputs);           \
  template std::string export_gelu(Emitter<T>&, const Layer<T>&, Inputs);
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)

}  // namespace integrad::nn::onnx_export
