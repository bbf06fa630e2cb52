// Exporters of the ONNX reader's own layer kinds (nn/onnx/layers_*.h), so that a model read from
// ONNX can be written back: each kind is the ONNX op it was read from, its constant operands
// initializers named by their state_dict keys ("<path>.c0"). These layers compute over whole
// tensors, the batch where the graph put it, and so does the op each is written as; the one value
// that depends on the batch, OnnxReshape's target shape, is computed in the graph from its input's
// shape, as torch.onnx.export writes it.
#include <fmt/format.h>

#include <algorithm>

#include "nn/onnx/export_helpers.h"
#include "nn/onnx/layers_elementwise.h"
#include "nn/onnx/layers_pool.h"
#include "nn/onnx/layers_tensor.h"

namespace integrad::nn::onnx_export {

namespace {

// The layer's operands in ONNX order: the values it reads (as type T) and its constants.
template <ad::Scalar T>
std::vector<std::string> operands(Emitter<T>& e, const OnnxLayer<T>& l, Inputs in) {
  const size_t reads = size_t(std::count(l.operands.begin(), l.operands.end(), 'r'));
  if (reads != in.size()) throw std::invalid_argument(fmt::format("{} reads {} values, its node {}", l.architecture(), reads, in.size()));
  if (l.constants.size() != l.operands.size() - reads) throw std::invalid_argument(l.architecture() + " does not hold one constant per constant operand");
  std::vector<std::string> v;
  size_t r = 0, c = 0;
  for (char k : l.operands) v.push_back(k == 'r' ? e.floating(in[r++]) : e.parameter(l.constants[c++]));
  return v;
}

}  // namespace

template <ad::Scalar T>
std::string export_onnx_binary(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  const auto& l = layer_as<OnnxBinary<T>>(layer);
  return e.node(l.op, operands(e, l, in));
}

template <ad::Scalar T>
std::string export_onnx_unary(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  const auto& l = layer_as<OnnxUnary<T>>(layer);
  return e.node(l.op, operands(e, l, in));
}

template <ad::Scalar T>
std::string export_onnx_matmul(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  return e.node("MatMul", operands(e, layer_as<OnnxMatMul<T>>(layer), in));
}

template <ad::Scalar T>
std::string export_onnx_reshape(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  const auto& l = layer_as<OnnxReshape<T>>(layer);
  const std::vector<std::string> v = operands(e, l, in);
  for (const onnx_text::Sym& s : l.target)
    if (s.n == 0 && s.c == 0)  // ONNX's Reshape reads 0 as "copy the input's dimension" (allowzero=0)
      throw std::invalid_argument(fmt::format("{}: a target dimension of 0 has no ONNX form that integrad reads (allowzero)", l.architecture()));
  // N, as the layer finds it: the input's dimension batch_axis over batch_multiple (1 where the
  // value does not depend on the batch).
  const bool batched = std::any_of(l.target.begin(), l.target.end(), [](const onnx_text::Sym& s) { return !s.fixed(); });
  std::string n;
  if (batched && l.batch_axis >= 0) {
    n = e.node("Gather", {e.node("Shape", {v[0]}), e.int64s({l.batch_axis})}, {attribute("axis", int64_t(0))});
    if (l.batch_multiple != 1) n = e.node("Div", {n, e.int64s({l.batch_multiple})});
  }
  // The target as runs of fixed dimensions and N-dependent ones, concatenated.
  std::vector<std::string> parts;
  std::vector<int64_t> fixed;
  for (const onnx_text::Sym& s : l.target) {
    if (s.fixed() || n.empty()) {
      fixed.push_back(s.at(1));  // batch_of's N = 1 when the value does not depend on the batch
      continue;
    }
    if (!fixed.empty()) parts.push_back(e.int64s(fixed)), fixed.clear();
    std::string d = s.n == 1 ? n : e.node("Mul", {n, e.int64s({s.n})});
    if (s.c != 0) d = e.node("Add", {d, e.int64s({s.c})});
    parts.push_back(d);
  }
  if (!fixed.empty()) parts.push_back(e.int64s(fixed));
  const std::string shape = parts.size() == 1 ? parts[0] : e.node("Concat", parts, {attribute("axis", int64_t(0))});
  return e.node("Reshape", {v[0], shape});
}

template <ad::Scalar T>
std::string export_onnx_transpose(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  const auto& l = layer_as<OnnxTranspose<T>>(layer);
  return e.node("Transpose", operands(e, l, in), {attribute("perm", l.perm)});
}

template <ad::Scalar T>
std::string export_onnx_slice(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  const auto& l = layer_as<OnnxSlice<T>>(layer);
  const std::vector<std::string> v = operands(e, l, in);
  if (l.axes.empty()) return e.node("Identity", {v[0]});  // ONNX's Slice needs an axis
  return e.node("Slice", {v[0], e.int64s(l.starts), e.int64s(l.ends), e.int64s(l.axes)});
}

template <ad::Scalar T>
std::string export_onnx_gather(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  const auto& l = layer_as<OnnxGather<T>>(layer);
  const std::vector<std::string> v = operands(e, l, in);
  // A 0-d index drops the axis, as the scalar gather does.
  const std::string indices = l.scalar ? e.int64_scalar(l.indices.at(0)) : e.int64s(l.indices);
  return e.node("Gather", {v[0], indices}, {attribute("axis", l.axis)});
}

template <ad::Scalar T>
std::string export_onnx_concat(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  const auto& l = layer_as<OnnxConcat<T>>(layer);
  return e.node("Concat", operands(e, l, in), {attribute("axis", l.axis)});
}

template <ad::Scalar T>
std::string export_onnx_reduce_mean(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  const auto& l = layer_as<OnnxReduceMean<T>>(layer);
  const std::vector<std::string> v = operands(e, l, in);
  if (l.axes.empty()) return e.node("Identity", {v[0]});  // ONNX's ReduceMean without axes reduces every axis
  return e.node("ReduceMean", {v[0]}, {attribute("axes", l.axes), attribute("keepdims", int64_t(l.keepdims ? 1 : 0))});
}

template <ad::Scalar T>
std::string export_onnx_max_pool(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  // The −∞ padding the layer concatenates is MaxPool's own padding.
  const auto& l = layer_as<OnnxMaxPool<T>>(layer);
  const int64_t k = l.kernel, s = l.stride, p = l.pad;
  return e.node("MaxPool", operands(e, l, in),
                {attribute("ceil_mode", int64_t(0)), attribute("kernel_shape", std::vector<int64_t>{k, k}), attribute("pads", std::vector<int64_t>{p, p, p, p}),
                 attribute("strides", std::vector<int64_t>{s, s})});
}

#define INTEGRAD_INSTANTIATE(T)                                                          \
  template std::string export_onnx_binary(Emitter<T>&, const Layer<T>&, Inputs);      \
  template std::string export_onnx_unary(Emitter<T>&, const Layer<T>&, Inputs);       \
  template std::string export_onnx_matmul(Emitter<T>&, const Layer<T>&, Inputs);      \
  template std::string export_onnx_reshape(Emitter<T>&, const Layer<T>&, Inputs);     \
  template std::string export_onnx_transpose(Emitter<T>&, const Layer<T>&, Inputs);   \
  template std::string export_onnx_slice(Emitter<T>&, const Layer<T>&, Inputs);       \
  template std::string export_onnx_gather(Emitter<T>&, const Layer<T>&, Inputs);      \
  template std::string export_onnx_concat(Emitter<T>&, const Layer<T>&, Inputs);      \
  template std::string export_onnx_reduce_mean(Emitter<T>&, const Layer<T>&, Inputs); \
  template std::string export_onnx_max_pool(Emitter<T>&, const Layer<T>&, Inputs);
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)

}  // namespace integrad::nn::onnx_export
