// Embedding: token ids -> rows of weight [num, dim], as torch.nn.Embedding. Ids arrive as exact
// integers stored in T (the tape holds one scalar type); a non-integer or out-of-range id is an
// error that names it.
#pragma once

#include <cmath>
#include <fmt/format.h>

#include "nn/layer.h"
#include "nn/layer_registry.h"

namespace integrad::nn {

template <ad::Scalar T>
struct Embedding : Layer<T> {
  int64_t num, dim;
  Parameter<T> weight{"weight", ad::Tensor<T>(ad::Shape{num, dim}), ad::Tensor<T>(ad::Shape{num, dim})};

  Embedding(int64_t num_embeddings, int64_t embedding_dim) : num(num_embeddings), dim(embedding_dim) {}

  std::string kind() const override { return "Embedding"; }
  std::string architecture() const override { return fmt::format("Embedding({}, {})", num, dim); }
  ad::Var<T> forward(ad::Tape<T>& tape, ad::Var<T> x, Grads grads) const override {
    int64_t* ids = tape.template scratch<int64_t>(static_cast<size_t>(x.numel()));
    for (int64_t i = 0; i < x.numel(); ++i) {
      const T v = x.value()[static_cast<size_t>(i)];
      if (v != std::floor(v) || v < 0 || v >= static_cast<T>(num))
        throw std::invalid_argument(fmt::format("{}: token id {} at position {} is not an integer in [0, {})", architecture(), v, i, num));
      ids[i] = static_cast<int64_t>(v);
    }
    return ad::embedding(on_tape(tape, weight, grads), std::span<const int64_t>(ids, static_cast<size_t>(x.numel())), x.shape());
  }
  ad::Shape output_shape(const ad::Shape& s) const override {
    std::vector<int64_t> d = s.vec();
    d.push_back(dim);
    return ad::Shape(d);
  }
  std::vector<Parameter<T>*> parameters() override { return {&weight}; }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Embedding>(*this); }
};

// The ONNX exporters of the kinds below (nn/layer_registry.h OnnxExporter), in nn/onnx/export_sequence.cpp.
namespace onnx_export {
template <ad::Scalar T>
std::string export_embedding(Emitter<T>&, const Layer<T>&, std::span<const std::string>);
}  // namespace onnx_export

template <ad::Scalar T>
LayerType<T> embedding_layer_type() {
  return {"Embedding", {"num_embeddings", "embedding_dim"},
          [](const LayerArgs& a) -> std::unique_ptr<Layer<T>> {
            check_size(a, {a.positive("num_embeddings"), a.positive("embedding_dim")});
            return std::make_unique<Embedding<T>>(a.positive("num_embeddings"), a.positive("embedding_dim"));
          },
          [](Layer<T>& layer, ad::Rng& rng) {
            for (T& v : layer_as<Embedding<T>>(layer).weight.value.span()) v = static_cast<T>(rng.normal());
          },
          onnx_export::export_embedding<T>};
}

}  // namespace integrad::nn
