// The exporter of each layer kind: one function that writes the layer's ONNX nodes through the
// Emitter (nn/onnx/export_emitter.h) and returns the name of the value it computed. The table in
// nn/onnx/export_table.cpp maps each kind (PyTorch's class name, as in nn/layers_builtin.cpp) to
// its function, so a new layer kind is exportable with one function (in the export_*.cpp of its
// family) declared here and one line in the table; a kind without an exporter is refused, naming
// the layer. Every exporter computes what the layer's forward computes in evaluation mode
// (BatchNorm with its running statistics, Dropout as the identity).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "nn/onnx/export_emitter.h"

namespace integrad::nn::onnx_export {

using Inputs = std::span<const std::string>;

template <ad::Scalar T>
using LayerExporter = std::string (*)(Emitter<T>& e, const Layer<T>& layer, Inputs inputs);

// The exporter of a layer kind ("Linear", "BatchNorm2d", ...), or nullptr.
template <ad::Scalar T>
LayerExporter<T> layer_exporter(std::string_view kind);

// export_basic.cpp: layers of one ONNX op or a few.
template <ad::Scalar T> std::string export_linear(Emitter<T>&, const Layer<T>&, Inputs);
template <ad::Scalar T> std::string export_conv2d(Emitter<T>&, const Layer<T>&, Inputs);
template <ad::Scalar T> std::string export_activation(Emitter<T>&, const Layer<T>&, Inputs);
template <ad::Scalar T> std::string export_softmax(Emitter<T>&, const Layer<T>&, Inputs);
template <ad::Scalar T> std::string export_pool2d(Emitter<T>&, const Layer<T>&, Inputs);
template <ad::Scalar T> std::string export_adaptive_avg_pool2d(Emitter<T>&, const Layer<T>&, Inputs);
template <ad::Scalar T> std::string export_batch_norm(Emitter<T>&, const Layer<T>&, Inputs);
template <ad::Scalar T> std::string export_flatten(Emitter<T>&, const Layer<T>&, Inputs);
template <ad::Scalar T> std::string export_mean(Emitter<T>&, const Layer<T>&, Inputs);
template <ad::Scalar T> std::string export_identity(Emitter<T>&, const Layer<T>&, Inputs);
template <ad::Scalar T> std::string export_add(Emitter<T>&, const Layer<T>&, Inputs);
template <ad::Scalar T> std::string export_concat(Emitter<T>&, const Layer<T>&, Inputs);
// export_sequence.cpp: token and sequence layers.
template <ad::Scalar T> std::string export_embedding(Emitter<T>&, const Layer<T>&, Inputs);
template <ad::Scalar T> std::string export_positional_embedding(Emitter<T>&, const Layer<T>&, Inputs);
template <ad::Scalar T> std::string export_select(Emitter<T>&, const Layer<T>&, Inputs);
template <ad::Scalar T> std::string export_layer_norm(Emitter<T>&, const Layer<T>&, Inputs);
template <ad::Scalar T> std::string export_gelu(Emitter<T>&, const Layer<T>&, Inputs);
// export_transformer.cpp
template <ad::Scalar T> std::string export_transformer_encoder_layer(Emitter<T>&, const Layer<T>&, Inputs);
// export_recurrent.cpp: LSTM and GRU.
template <ad::Scalar T> std::string export_recurrent(Emitter<T>&, const Layer<T>&, Inputs);

// Helpers the exporters share (export_basic.cpp): y = x·Wᵀ + b for a Linear-shaped weight [out,
// in] on an input of any rank (Gemm for rank 2, MatMul with the transposed weight otherwise).
template <ad::Scalar T>
std::string linear_map(Emitter<T>& e, const std::string& x, int x_rank, const Parameter<T>& weight, const Parameter<T>* bias, const std::string& sub);
// Layer normalisation over the last dimension: LayerNormalization, whose epsilon is a float
// attribute; a float64 model whose eps is not a float value (1e-5) is written as the ops it is made
// of (ReduceMean, Sub, Mul, Add, Sqrt, Div), its epsilon a float64 constant, so that onnxruntime's
// output stays within 1e-12 of integrad's (float32's 1e-5 differs from 1e-5 by 2.5e-13, which a
// row of small variance magnifies). export_sequence.cpp.
template <ad::Scalar T>
std::string layer_norm_nodes(Emitter<T>& e, const std::string& x, const Parameter<T>& weight, const Parameter<T>& bias, double eps, const std::string& sub);
// GELU's exact erf form, x·½·(1 + erf(x/√2)), as torch.onnx.export writes it at opset 17.
template <ad::Scalar T>
std::string gelu_nodes(Emitter<T>& e, const std::string& x, const std::string& sub);

}  // namespace integrad::nn::onnx_export
