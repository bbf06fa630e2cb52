// LSTM and GRU, as exported from PyTorch: one forward layer, the state starting at zero, Y read
// (Y_h, Y_c unused). ONNX keeps the sequence first ([L, N, I] → Y [L, 1, N, H]); integrad's
// layers take the batch first, so the input is transposed (or the exporter's own transpose
// undone) and Y restored by a reshape and a transpose. ONNX's gate order is i, o, f, c (LSTM) and
// z, r, h (GRU); PyTorch's i, f, g, o and r, z, n: the weights are reordered here.
#include <fmt/format.h>

#include "nn/layers_recurrent.h"
#include "nn/onnx/converters.h"
#include "nn/onnx/layers_tensor.h"

namespace integrad::nn::onnx_in {
namespace {

template <RecurrentCell Cell>
void convert_recurrent(Builder& b, const onnx::NodeProto& node) {
  b.only_attributes(node, {"hidden_size", "direction", "linear_before_reset", "activations", "clip", "input_forget", "layout"});
  constexpr int64_t gates = Cell == RecurrentCell::lstm ? 4 : 3;
  if (b.attr_string(node, "direction", "forward") != "forward") b.fail(node, "is bidirectional or reversed; integrad's recurrent layers run forward");
  if (b.attribute(node, "activations") || b.attribute(node, "clip") || b.attr_int(node, "input_forget", 0) != 0 || b.attr_int(node, "layout", 0) != 0)
    b.fail(node, "has activations, clip, input_forget or layout other than PyTorch's");
  if (Cell == RecurrentCell::gru && b.attr_int(node, "linear_before_reset", 0) != 1) b.fail(node, "has linear_before_reset=0, which PyTorch's GRU is not");
  // Y_h and Y_c are left undefined: a node that reads them is refused as reading a dangling input.
  if (b.has_input(node, 4)) b.fail(node, "has sequence_lens");
  for (int k = 5; k < node.input_size(); ++k)
    if (b.has_input(node, k)) {
      const Value& s = b.input(node, k);
      const bool zero = (s.kind == Value::Kind::fill && s.fill == 0) ||
                        (s.constant() && std::all_of(s.real.begin(), s.real.end(), [](double v) { return v == 0; }) && !s.integer);
      if (!zero) b.fail(node, "starts from a state other than zero");
    }
  const Value& x = b.runtime_input(node, 0);
  const Value &w = b.constant_input(node, 1), &r = b.constant_input(node, 2);
  if (x.shape.size() != 3 || !(x.shape[1] == Sym{1, 0}) || !x.shape[2].fixed()) b.fail(node, "needs an input [L, N, I] with the batch second");
  const int64_t hidden = b.attr_int(node, "hidden_size", r.shape.size() == 3 ? r.shape[2].c : 0), in = x.shape[2].c, len = x.shape[0].c;
  if (w.dims() != std::vector<int64_t>{1, gates * hidden, in} || r.dims() != std::vector<int64_t>{1, gates * hidden, hidden})
    b.fail(node, "has weights of the wrong shape");
  const bool bias = b.has_input(node, 3);
  auto layer = std::make_unique<Recurrent<double, Cell>>(in, hidden, 1, bias, true);  // no B: no bias, as ONNX's zero B
  // ONNX block k → PyTorch block order[k].
  const std::vector<int64_t> order = Cell == RecurrentCell::lstm ? std::vector<int64_t>{0, 3, 1, 2} : std::vector<int64_t>{1, 0, 2};
  auto reorder = [&](const Value& v, int64_t offset, int64_t cols, Parameter<double>& p) {
    const ad::Tensor<double> t = b.tensor(v);
    for (int64_t k = 0; k < gates; ++k)
      for (int64_t i = 0; i < hidden * cols; ++i) p.value[order[k] * hidden * cols + i] = t[offset + k * hidden * cols + i];
  };
  reorder(w, 0, in, layer->params[0]);
  reorder(r, 0, hidden, layer->params[1]);
  if (bias) {
    const Value& bv = b.constant_input(node, 3);
    if (bv.dims() != std::vector<int64_t>{1, 2 * gates * hidden}) b.fail(node, "has a bias of the wrong shape");
    reorder(bv, 0, 1, layer->params[2]);
    reorder(bv, gates * hidden, 1, layer->params[3]);
  }
  // Batch first: undo the exporter's transpose when that is what X is, else transpose.
  Value xb = x;
  const auto& ls = b.model.layers;
  const auto* transpose = x.node >= 0 ? layer_if<OnnxTranspose<double>>(*ls[x.node]) : nullptr;
  if (transpose && transpose->perm == std::vector<int64_t>{1, 0, 2} && b.model.inputs[x.node].size() == 1) {
    xb.node = b.model.inputs[x.node][0];
    xb.shape = {x.shape[1], x.shape[0], x.shape[2]};
  } else {
    auto t = std::make_unique<OnnxTranspose<double>>();
    t->perm = {1, 0, 2};
    xb = b.add_onnx_layer(node, std::move(t), {&x}, {x.shape[1], x.shape[0], x.shape[2]}, ":batch_first");
  }
  // Each parameter's initializer, for the write-back (nn/onnx/write_back.cpp): it finds where each
  // value goes by reading the file again with index-valued initializers, so the gate reordering
  // and the bias split above need no second description there.
  const std::string name = b.layer_name(node, ":sequence");
  b.note_origin(name, layer->params[0].name, w);
  b.note_origin(name, layer->params[1].name, r);
  if (bias)
    for (int k : {2, 3}) b.note_origin(name, layer->params[k].name, b.constant_input(node, 3));
  Value h = b.add_layer(node, std::move(layer), {xb.node}, {{1, 0}, {0, len}, {0, hidden}}, ":sequence");
  auto t = std::make_unique<OnnxTranspose<double>>();
  t->perm = {1, 0, 2};
  Value seq = b.add_onnx_layer(node, std::move(t), {&h}, {{0, len}, {1, 0}, {0, hidden}}, ":sequence_first");
  b.set_output(node, reshape_runtime(b, node, seq, {{0, len}, {0, 1}, {1, 0}, {0, hidden}}));
}

}  // namespace

void convert_lstm(Builder& b, const onnx::NodeProto& node) { convert_recurrent<RecurrentCell::lstm>(b, node); }
void convert_gru(Builder& b, const onnx::NodeProto& node) { convert_recurrent<RecurrentCell::gru>(b, node); }

}  // namespace integrad::nn::onnx_in
