// The converters of nn/onnx/op_table.cpp: one function per ONNX op, grouped by family in
// nn/onnx/ops_*.cpp. Each reads its node's inputs from the builder, adds layers or folds constants,
// and defines its outputs.
#pragma once

#include "nn/onnx/builder.h"

namespace integrad::nn::onnx_in {

#define INTEGRAD_ONNX_CONVERTER(name) void name(Builder& b, const onnx::NodeProto& node)
// ops_constant.cpp
INTEGRAD_ONNX_CONVERTER(convert_constant);
INTEGRAD_ONNX_CONVERTER(convert_identity);
INTEGRAD_ONNX_CONVERTER(convert_cast);
INTEGRAD_ONNX_CONVERTER(convert_shape);
INTEGRAD_ONNX_CONVERTER(convert_constant_of_shape);
// ops_elementwise.cpp
INTEGRAD_ONNX_CONVERTER(convert_binary);
INTEGRAD_ONNX_CONVERTER(convert_unary);
INTEGRAD_ONNX_CONVERTER(convert_activation);
// ops_layers.cpp
INTEGRAD_ONNX_CONVERTER(convert_conv);
INTEGRAD_ONNX_CONVERTER(convert_batch_norm);
INTEGRAD_ONNX_CONVERTER(convert_pool);
INTEGRAD_ONNX_CONVERTER(convert_global_average_pool);
INTEGRAD_ONNX_CONVERTER(convert_gemm);
INTEGRAD_ONNX_CONVERTER(convert_layer_norm);
INTEGRAD_ONNX_CONVERTER(convert_softmax);
// ops_shape.cpp
INTEGRAD_ONNX_CONVERTER(convert_reshape);
INTEGRAD_ONNX_CONVERTER(convert_flatten);
INTEGRAD_ONNX_CONVERTER(convert_squeeze);
INTEGRAD_ONNX_CONVERTER(convert_unsqueeze);
INTEGRAD_ONNX_CONVERTER(convert_transpose);
INTEGRAD_ONNX_CONVERTER(convert_concat);
INTEGRAD_ONNX_CONVERTER(convert_slice);
INTEGRAD_ONNX_CONVERTER(convert_gather);
INTEGRAD_ONNX_CONVERTER(convert_expand);
INTEGRAD_ONNX_CONVERTER(convert_split);
// ops_math.cpp
INTEGRAD_ONNX_CONVERTER(convert_matmul);
INTEGRAD_ONNX_CONVERTER(convert_reduce_mean);
// ops_recurrent.cpp
INTEGRAD_ONNX_CONVERTER(convert_lstm);
INTEGRAD_ONNX_CONVERTER(convert_gru);
#undef INTEGRAD_ONNX_CONVERTER

// Helpers the converters share (ops_shape.cpp): a runtime value reshaped to `target` (a full
// shape, which may hold N), as an OnnxReshape layer.
Value reshape_runtime(Builder& b, const onnx::NodeProto& node, const Value& x, const std::vector<Sym>& target, const std::string& suffix = "");
// The axis and multiple at which a runtime value's shape holds the batch (-1: nowhere).
std::pair<int, int64_t> batch_position(const Value& v);

}  // namespace integrad::nn::onnx_in
