// The layer kinds integrad knows, in the order `integrad info` and error messages list them. A
// new kind is one header with its struct and `*_layer_type<T>()` (which names its ONNX exporter),
// and one line here.
#include "nn/layer_registry.h"
#include "nn/layers_activation.h"
#include "nn/layers_batch_norm.h"
#include "nn/layers_conv.h"
#include "nn/layers_embedding.h"
#include "nn/layers_linear.h"
#include "nn/layers_merge.h"
#include "nn/layers_pool.h"
#include "nn/layers_recurrent.h"
#include "nn/layers_shape.h"
#include "nn/layers_transformer.h"
#include "nn/onnx/layers_elementwise.h"
#include "nn/onnx/layers_pool.h"
#include "nn/onnx/layers_tensor.h"

namespace integrad::nn {

template <ad::Scalar T>
const std::vector<LayerType<T>>& layer_types() {
  static const std::vector<LayerType<T>> types = {
      linear_layer_type<T>(),
      conv2d_layer_type<T>(),
      pool2d_layer_type<T, true>(),
      pool2d_layer_type<T, false>(),
      adaptive_avg_pool2d_layer_type<T>(),
      batch_norm_layer_type<T, 1>(),
      batch_norm_layer_type<T, 2>(),
      flatten_layer_type<T>(),
      activation_layer_type<T, Activation::relu>(),
      activation_layer_type<T, Activation::sigmoid>(),
      activation_layer_type<T, Activation::tanh>(),
      softmax_layer_type<T>(),
      embedding_layer_type<T>(),
      mean_layer_type<T>(),
      layer_norm_layer_type<T>(),
      gelu_layer_type<T>(),
      dropout_layer_type<T>(),
      positional_embedding_layer_type<T>(),
      select_layer_type<T>(),
      transformer_encoder_layer_type<T>(),
      recurrent_layer_type<T, RecurrentCell::lstm>(),
      recurrent_layer_type<T, RecurrentCell::gru>(),
      add_layer_type<T>(),
      concat_layer_type<T>(),
      identity_layer_type<T>(),
      onnx_binary_layer_type<T>(),
      onnx_unary_layer_type<T>(),
      onnx_matmul_layer_type<T>(),
      onnx_reshape_layer_type<T>(),
      onnx_transpose_layer_type<T>(),
      onnx_slice_layer_type<T>(),
      onnx_gather_layer_type<T>(),
      onnx_concat_layer_type<T>(),
      onnx_reduce_mean_layer_type<T>(),
      onnx_max_pool_layer_type<T>(),
  };
  return types;
}

template <ad::Scalar T>
const LayerType<T>* find_layer_type(std::string_view name) {
  for (const LayerType<T>& t : layer_types<T>())
    if (t.name == name) return &t;
  return nullptr;
}

template <ad::Scalar T>
const LayerType<T>& layer_type(std::string_view name) {
  std::string known;
  for (const LayerType<T>& t : layer_types<T>()) {
    if (t.name == name) return t;
    known += (known.empty() ? "" : ", ") + t.name;
  }
  throw std::invalid_argument(fmt::format("unknown layer '{}' (known: {})", name, known));
}

template const std::vector<LayerType<float>>& layer_types<float>();
template const std::vector<LayerType<double>>& layer_types<double>();
template const LayerType<float>& layer_type<float>(std::string_view);
template const LayerType<double>& layer_type<double>(std::string_view);
template const LayerType<float>* find_layer_type<float>(std::string_view);
template const LayerType<double>* find_layer_type<double>(std::string_view);

}  // namespace integrad::nn
