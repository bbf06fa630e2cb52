// LSTM and GRU (batch_first, one direction, any number of layers) as ONNX's LSTM and GRU nodes,
// one per layer. ONNX orders the gates differently from PyTorch — LSTM iofc where PyTorch has
// ifgo, GRU zrh where PyTorch has rzn — and takes each weight with a leading direction axis and
// the two biases joined. The initializers stay PyTorch's state_dict tensors (weight_ih_l0, ...);
// Split, Concat and Unsqueeze nodes reorder them in the graph, which onnxruntime folds once when it
// loads the model. The GRU's candidate applies the reset gate after the recurrent product
// (linear_before_reset=1), as PyTorch's GRU does. ONNX's recurrent ops are time-major, so the
// batch-first input is transposed in and the output back.
#include "nn/layers_recurrent.h"
#include "nn/onnx/export_helpers.h"

namespace integrad::nn::onnx_export {

namespace {

// PyTorch's gate chunks in ONNX's order, with a leading direction axis: [1, G·H, ...].
template <ad::Scalar T>
std::string reordered(Emitter<T>& e, const std::string& value, const std::vector<int>& order) {
  const std::vector<std::string> chunks = e.nodes_out("Split", {value}, int(order.size()), {attribute("axis", int64_t(0))});
  std::vector<std::string> ordered;
  for (int k : order) ordered.push_back(chunks[size_t(k)]);
  return e.node("Concat", ordered, {attribute("axis", int64_t(0))});
}

template <ad::Scalar T>
std::string with_direction_axis(Emitter<T>& e, const std::string& value) {
  return e.node("Unsqueeze", {value, e.int64s({0})});
}

template <ad::Scalar T, RecurrentCell Cell>
std::string export_cell(Emitter<T>& e, const Recurrent<T, Cell>& r, const std::string& input) {
  // ONNX index k takes PyTorch's chunk order[k]: LSTM [i, o, f, c] from [i, f, g, o]; GRU [z, r, h] from [r, z, n].
  const std::vector<int> order = Cell == RecurrentCell::lstm ? std::vector<int>{0, 3, 1, 2} : std::vector<int>{1, 0, 2};
  const size_t per_layer = r.bias ? 4 : 2;
  std::string x = e.node("Transpose", {input}, {attribute("perm", std::vector<int64_t>{1, 0, 2})});  // [L, N, I]
  for (int k = 0; k < r.num_layers; ++k) {
    const Parameter<T>* p = r.params.data() + size_t(k) * per_layer;
    std::vector<std::string> in{x, with_direction_axis(e, reordered(e, e.parameter(p[0]), order)), with_direction_axis(e, reordered(e, e.parameter(p[1]), order))};
    if (r.bias)
      in.push_back(with_direction_axis(
          e, e.node("Concat", {reordered(e, e.parameter(p[2]), order), reordered(e, e.parameter(p[3]), order)}, {attribute("axis", int64_t(0))})));
    std::vector<onnx::AttributeProto> attributes{attribute("hidden_size", r.hidden_size)};
    if (Cell == RecurrentCell::gru) attributes.push_back(attribute("linear_before_reset", int64_t(1)));
    const std::string y = e.node(Cell == RecurrentCell::lstm ? "LSTM" : "GRU", in, attributes);  // Y [L, 1, N, H]
    x = e.node("Squeeze", {y, e.int64s({1})});
  }
  return e.node("Transpose", {x}, {attribute("perm", std::vector<int64_t>{1, 0, 2})});  // [N, L, H]
}

}  // namespace

template <ad::Scalar T>
std::string export_recurrent(Emitter<T>& e, const Layer<T>& layer, Inputs in) {
  if (const auto* lstm = layer_if<LSTM<T>>(layer)) return export_cell(e, *lstm, e.floating(in[0]));
  return export_cell(e, layer_as<GRU<T>>(layer), e.floating(in[0]));
}

template std::string export_recurrent(Emitter<float>&, const Layer<float>&, Inputs);
template std::string export_recurrent(Emitter<double>&, const Layer<double>&, Inputs);

}  // namespace integrad::nn::onnx_export
