// What the layers' ONNX exporters (nn/layer_registry.h OnnxExporter, defined in
// nn/onnx/export_*.cpp) share: the Emitter, and the nodes that several of them write.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "nn/onnx/export_emitter.h"

namespace integrad::nn::onnx_export {

using Inputs = std::span<const std::string>;

// y = x·Wᵀ + b for a Linear-shaped weight [out, in] on an input of any rank (Gemm for rank 2,
// MatMul with the transposed weight otherwise). export_basic.cpp.
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
