// LSTM and GRU, as torch.nn.LSTM(input_size, hidden_size, num_layers=1, bias=True,
// batch_first=False) and torch.nn.GRU(...): PyTorch's gate order (i, f, g, o; r, z, n), its
// state_dict keys (weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}), its initialisation
// U(−1/√H, 1/√H) for every parameter, a zero initial state. The output is PyTorch's `output`: the
// last layer's h at every step, [N, L, H] with batch_first=True, [L, N, H] otherwise; a classifier
// takes its last step with Select(1, -1).
//
// In a model (a chain whose values have the batch first) only batch_first=True fits:
// output_shape refuses batch_first=False, whose input is [L, N, I]. The layer itself computes
// either layout, as PyTorch does, when handed a tensor of that layout.
#pragma once

#include <cmath>
#include <fmt/format.h>

#include "nn/layer.h"
#include "nn/layer_registry.h"

namespace integrad::nn {

enum class RecurrentCell { lstm, gru };

template <ad::Scalar T, RecurrentCell Cell>
struct Recurrent : Layer<T> {
  static constexpr int64_t kGates = Cell == RecurrentCell::lstm ? 4 : 3;
  int64_t input_size, hidden_size;
  int num_layers;
  bool bias, batch_first;
  // Per layer k: weight_ih_l{k}, weight_hh_l{k}, then (with bias) bias_ih_l{k}, bias_hh_l{k}:
  // PyTorch's order, which its state_dict and its initialisation follow.
  std::vector<Parameter<T>> params;

  Recurrent(int64_t input, int64_t hidden, int layers = 1, bool bias_ = true, bool batch_first_ = false)
      : input_size(input), hidden_size(hidden), num_layers(layers), bias(bias_), batch_first(batch_first_) {
    if (input < 1 || hidden < 1 || layers < 1) throw std::invalid_argument(fmt::format("{}: sizes and num_layers must be positive", kind()));
    auto add = [&](std::string name, ad::Shape s) { params.push_back({std::move(name), ad::Tensor<T>(s), ad::Tensor<T>(s)}); };
    for (int k = 0; k < layers; ++k) {
      add(fmt::format("weight_ih_l{}", k), ad::Shape{kGates * hidden, k == 0 ? input : hidden});
      add(fmt::format("weight_hh_l{}", k), ad::Shape{kGates * hidden, hidden});
      if (bias) {
        add(fmt::format("bias_ih_l{}", k), ad::Shape{kGates * hidden});
        add(fmt::format("bias_hh_l{}", k), ad::Shape{kGates * hidden});
      }
    }
  }

  std::string kind() const override { return Cell == RecurrentCell::lstm ? "LSTM" : "GRU"; }
  std::string architecture() const override {  // PyTorch's repr: the defaults left out
    std::string s = fmt::format("{}({}, {}", kind(), input_size, hidden_size);
    if (num_layers != 1) s += fmt::format(", num_layers={}", num_layers);
    if (!bias) s += ", bias=False";
    if (batch_first) s += ", batch_first=True";
    return s + ")";
  }

  ad::Var<T> forward(ad::Tape<T>& tape, ad::Var<T> x, Grads grads) const override {
    if (x.rank() != 3 || x.shape()[2] != input_size)
      throw std::invalid_argument(fmt::format("{} expects input {}, got {}", architecture(), batch_first ? "[N, L, input_size]" : "[L, N, input_size]", x.shape().str()));
    const size_t per_layer = bias ? 4 : 2;
    for (int k = 0; k < num_layers; ++k) {
      const Parameter<T>* p = params.data() + size_t(k) * per_layer;
      const ad::Var<T> b_ih = bias ? on_tape(tape, p[2], grads) : ad::Var<T>(), b_hh = bias ? on_tape(tape, p[3], grads) : ad::Var<T>();
      const ad::Var<T> w_ih = on_tape(tape, p[0], grads), w_hh = on_tape(tape, p[1], grads);
      x = Cell == RecurrentCell::lstm ? ad::lstm(x, w_ih, w_hh, b_ih, b_hh, batch_first) : ad::gru(x, w_ih, w_hh, b_ih, b_hh, batch_first);
    }
    return x;
  }
  ad::Shape output_shape(const ad::Shape& s) const override {
    if (!batch_first)
      throw std::invalid_argument(fmt::format("{}: batch_first=False takes [L, N, input_size], time first, but a model's values hold the batch first: "
                                              "use batch_first=True", architecture()));
    if (s.rank() != 2 || s[1] != input_size) throw std::invalid_argument(fmt::format("{} expects input [L, {}], got {}", architecture(), input_size, s.str()));
    return ad::Shape{s[0], hidden_size};
  }
  std::vector<Parameter<T>*> parameters() override {
    std::vector<Parameter<T>*> out;
    for (Parameter<T>& p : params) out.push_back(&p);
    return out;
  }
  // PyTorch's reset_parameters: every parameter U(−1/√H, 1/√H), in state_dict order.
  void init(ad::Rng& rng) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size));
    for (Parameter<T>& p : params)
      for (T& v : p.value.span()) v = static_cast<T>(rng.uniform(-bound, bound));
  }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Recurrent>(*this); }
};

template <ad::Scalar T>
using LSTM = Recurrent<T, RecurrentCell::lstm>;
template <ad::Scalar T>
using GRU = Recurrent<T, RecurrentCell::gru>;

// The ONNX exporters of the kinds below (nn/layer_registry.h OnnxExporter), in nn/onnx/export_recurrent.cpp.
namespace onnx_export {
template <ad::Scalar T>
std::string export_recurrent(Emitter<T>&, const Layer<T>&, std::span<const std::string>);
}  // namespace onnx_export

template <ad::Scalar T, RecurrentCell Cell>
LayerType<T> recurrent_layer_type() {
  return {Cell == RecurrentCell::lstm ? "LSTM" : "GRU",
          {"input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional", "proj_size"},
          [](const LayerArgs& a) -> std::unique_ptr<Layer<T>> {
            const int64_t in = a.positive("input_size"), hidden = a.positive("hidden_size"), layers = a.positive("num_layers", 1);
            if (layers > 64) a.fail("'num_layers' must be at most 64");
            if (a.real("dropout", 0.0, 0.0, 1.0) != 0.0) a.fail("only dropout=0 is supported (no dropout between layers)");
            if (a.boolean("bidirectional", false)) a.fail("only bidirectional=False is supported");
            if (a.integer("proj_size", 0) != 0) a.fail("only proj_size=0 is supported");
            check_size(a, {layers, Recurrent<T, Cell>::kGates * hidden, std::max(in, hidden) + hidden + 2});
            return std::make_unique<Recurrent<T, Cell>>(in, hidden, int(layers), a.boolean("bias", true), a.boolean("batch_first", false));
          },
          [](Layer<T>& layer, ad::Rng& rng) { layer_as<Recurrent<T, Cell>>(layer).init(rng); },
          onnx_export::export_recurrent<T>};
}

}  // namespace integrad::nn
