// Sequential: layers applied in order, as torch.nn.Sequential, with parameter names as its
// state_dict gives them ("{i}.weight"; parameterless layers count in i).
#pragma once

#include <limits>
#include <string>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nn/layer.h"

namespace integrad::nn {

enum class InputDtype { float32, float64, int64 };

template <ad::Scalar T>
class Sequential {
 public:
  static constexpr size_t npos = std::numeric_limits<size_t>::max();

  std::vector<std::unique_ptr<Layer<T>>> layers;
  ad::Shape input_shape;  // per example, e.g. {1, 28, 28}
  InputDtype input_dtype = InputDtype::float32;
  std::vector<std::string> feature_names;  // tabular models: one name per input feature (metadata "feature_names"), else empty
  // What the outputs are (metadata "output"): "logits" (classes, softmax), "binary-logit" (one
  // logit, sigmoid) or "regression" (values); empty when the file does not say.
  std::string output_kind;

  Sequential() = default;
  Sequential(Sequential&&) noexcept = default;
  Sequential& operator=(Sequential&&) noexcept = default;

  // Layers [from, to) applied to x [N, ...].
  ad::Var<T> forward(ad::Tape<T>& tape, ad::Var<T> x, Grads grads = Grads::none, size_t from = 0, size_t to = npos) const;
  // Logits for all inputs, in batches, no gradients.
  ad::Tensor<T> predict(const ad::Tensor<T>& inputs, int64_t batch_size = 256) const;

  std::vector<std::pair<std::string, Parameter<T>*>> named_parameters();
  std::vector<std::pair<std::string, const Parameter<T>*>> named_parameters() const;
  int64_t parameter_count() const;
  std::string architecture() const;               // "Conv2d(1, 16, 3, padding=1); ReLU(); ..."
  ad::Shape output_shape(size_t upto = npos) const;  // per-example shape after layers [0, upto)
  std::vector<ad::Shape> output_shapes() const;      // after each layer, in one pass
  void zero_grad();

  Sequential clone() const;
  template <ad::Scalar U>
  Sequential<U> to() const;
};

}  // namespace integrad::nn
