// Exporters of the token and sequence layers (nn/layers_embedding.h, nn/layers_transformer.h).
#include <cmath>

#include "nn/layers_embedding.h"
#include "nn/layers_transformer.h"
#include "nn/onnx/export_layers.h"

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
std::string export_layer_norm(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  const auto& l = layer_as<LayerNorm<T>>(layer);
  return e.node("LayerNormalization", {e.floating(in[0]), e.parameter(l.weight), e.parameter(l.bias)},
                {attribute("axis", int64_t(-1)), attribute("epsilon", float(l.eps))});
}

template <ad::Scalar T>
std::string export_gelu(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  layer_as<GELU<T>>(layer);
  return gelu_nodes(e, e.floating(in[0]), "");
}

#define INTEGRAD_INSTANTIATE(T)                                                           \
  template std::string export_embedding(Emitter<T>&, const Layer<T>&, Inputs);            \
  template std::string export_positional_embedding(Emitter<T>&, const Layer<T>&, Inputs); \
  template std::string export_select(Emitter<T>&, const Layer<T>&, Inputs);               \
  template std::string export_layer_norm(Emitter<T>&, const Layer<T>&, Inputs);           \
  template std::string export_gelu(Emitter<T>&, const Layer<T>&, Inputs);
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)

}  // namespace integrad::nn::onnx_export
