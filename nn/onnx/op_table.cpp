// The ONNX operations integrad reads: op_type → converter. Adding an op is one converter
// (nn/onnx/ops_*.cpp, declared in converters.h) and one line here; docs/onnx.md lists them.
#include "nn/onnx/converters.h"

namespace integrad::nn::onnx_in {

const std::map<std::string, Converter>& op_table() {
  static const std::map<std::string, Converter> table = {
      {"Add", convert_binary},
      {"AveragePool", convert_pool},
      {"BatchNormalization", convert_batch_norm},
      {"Cast", convert_cast},
      {"Concat", convert_concat},
      {"Constant", convert_constant},
      {"ConstantOfShape", convert_constant_of_shape},
      {"Conv", convert_conv},
      {"Div", convert_binary},
      {"Dropout", convert_identity},
      {"Erf", convert_unary},
      {"Expand", convert_expand},
      {"Flatten", convert_flatten},
      {"GRU", convert_gru},
      {"Gather", convert_gather},
      {"Gemm", convert_gemm},
      {"GlobalAveragePool", convert_global_average_pool},
      {"Identity", convert_identity},
      {"LSTM", convert_lstm},
      {"LayerNormalization", convert_layer_norm},
      {"MatMul", convert_matmul},
      {"MaxPool", convert_pool},
      {"Mul", convert_binary},
      {"Pow", convert_binary},
      {"ReduceMean", convert_reduce_mean},
      {"Relu", convert_activation},
      {"Reshape", convert_reshape},
      {"Shape", convert_shape},
      {"Sigmoid", convert_activation},
      {"Slice", convert_slice},
      {"Softmax", convert_softmax},
      {"Split", convert_split},
      {"Sqrt", convert_unary},
      {"Squeeze", convert_squeeze},
      {"Sub", convert_binary},
      {"Tanh", convert_activation},
      {"Transpose", convert_transpose},
      {"Unsqueeze", convert_unsqueeze},
  };
  return table;
}

}  // namespace integrad::nn::onnx_in
