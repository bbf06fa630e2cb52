// Which function exports which layer kind: one line per kind of nn/layers_builtin.cpp (the test
// test_onnx_export.cpp checks that every registered kind has one).
#include <map>

#include "nn/onnx/export_layers.h"

namespace integrad::nn::onnx_export {

template <ad::Scalar T>
LayerExporter<T> layer_exporter(std::string_view kind) {
  static const std::map<std::string, LayerExporter<T>, std::less<>> table = {
      {"Linear", export_linear<T>},
      {"Conv2d", export_conv2d<T>},
      {"MaxPool2d", export_pool2d<T>},
      {"AvgPool2d", export_pool2d<T>},
      {"AdaptiveAvgPool2d", export_adaptive_avg_pool2d<T>},
      {"BatchNorm1d", export_batch_norm<T>},
      {"BatchNorm2d", export_batch_norm<T>},
      {"Flatten", export_flatten<T>},
      {"ReLU", export_activation<T>},
      {"Sigmoid", export_activation<T>},
      {"Tanh", export_activation<T>},
      {"Softmax", export_softmax<T>},
      {"Embedding", export_embedding<T>},
      {"Mean", export_mean<T>},
      {"LayerNorm", export_layer_norm<T>},
      {"GELU", export_gelu<T>},
      {"Dropout", export_identity<T>},  // evaluation: the identity
      {"PositionalEmbedding", export_positional_embedding<T>},
      {"Select", export_select<T>},
      {"TransformerEncoderLayer", export_transformer_encoder_layer<T>},
      {"LSTM", export_recurrent<T>},
      {"GRU", export_recurrent<T>},
      {"Add", export_add<T>},
      {"Concat", export_concat<T>},
      {"Identity", export_identity<T>},
  };
  const auto it = table.find(kind);
  return it == table.end() ? nullptr : it->second;
}

template LayerExporter<float> layer_exporter<float>(std::string_view);
template LayerExporter<double> layer_exporter<double>(std::string_view);

}  // namespace integrad::nn::onnx_export
