#include "nn/sequential.h"

#include <memory>
#include <stdexcept>
#include <vector>

#include "autodiff/thread_tape.h"
#include "nn/architecture.h"
#include "nn/layers_conv.h"
#include "nn/layers_pool.h"

namespace integrad::nn {

template <ad::Scalar T>
ad::Var<T> Sequential<T>::forward(ad::Tape<T>& tape, ad::Var<T> x, Grads grads, size_t from, size_t to) const {
  to = std::min(to, layers.size());
  for (size_t i = from; i < to; ++i) {
    // Conv2d then ReLU (then MaxPool2d(2)) run as one op: the same values and gradients, one or
    // three passes fewer over the largest activations. Only inside [from, to), so a caller that
    // stops between them (layer attribution) still gets the convolution's own output.
    if (layers[i]->type() == LayerKind::conv2d && i + 1 < to && layers[i + 1]->type() == LayerKind::relu) {
      const Conv2d<T>& conv = layer_as<Conv2d<T>>(*layers[i]);
      if (i + 2 < to && layers[i + 2]->type() == LayerKind::max_pool2d && layer_as<MaxPool2d<T>>(*layers[i + 2]).kernel == 2 &&
          layer_as<MaxPool2d<T>>(*layers[i + 2]).stride == 2) {
        x = conv.forward_relu_max_pool(tape, x, grads);
        i += 2;
        continue;
      }
      x = conv.forward_relu(tape, x, grads);
      ++i;
      continue;
    }
    x = layers[i]->forward(tape, x, grads);
  }
  return x;
}

template <ad::Scalar T>
ad::Tensor<T> Sequential<T>::predict(const ad::Tensor<T>& inputs, int64_t batch_size) const {
  const int64_t n = inputs.size(0), row = inputs.shape().stride(0);
  const ad::Shape out_shape = output_shape();
  ad::Tensor<T> out(with_batch(n, out_shape));
  const int64_t out_row = out_shape.numel();
  // A reused tape (autodiff/thread_tape.h): the perturbation methods and metrics call predict
  // thousands of times on small batches.
  ad::ThreadTape<T> thread_tape;
  ad::Tape<T>& tape = *thread_tape;
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t count = std::min(batch_size, n - start);
    ad::Var<T> x = tape.leaf(inputs.shape().with(0, count), inputs.data() + start * row);
    ad::Var<T> y = forward(tape, x);
    std::copy(y.value().begin(), y.value().end(), out.data() + start * out_row);
    tape.rewind();
  }
  return out;
}

template <ad::Scalar T>
std::vector<std::pair<std::string, Parameter<T>*>> Sequential<T>::named_parameters() {
  std::vector<std::pair<std::string, Parameter<T>*>> out;
  for (size_t i = 0; i < layers.size(); ++i)
    for (Parameter<T>* p : layers[i]->parameters()) out.emplace_back(std::to_string(i) + "." + p->name, p);
  return out;
}

template <ad::Scalar T>
std::vector<std::pair<std::string, const Parameter<T>*>> Sequential<T>::named_parameters() const {
  std::vector<std::pair<std::string, const Parameter<T>*>> out;
  for (auto& [name, p] : const_cast<Sequential*>(this)->named_parameters()) out.emplace_back(name, p);
  return out;
}

template <ad::Scalar T>
int64_t Sequential<T>::parameter_count() const {
  int64_t n = 0;
  for (auto& [name, p] : named_parameters()) n += p->value.numel();
  return n;
}

template <ad::Scalar T>
std::string Sequential<T>::architecture() const {
  std::string s;
  for (size_t i = 0; i < layers.size(); ++i) s += (i ? "; " : "") + layers[i]->architecture();
  return s;
}

template <ad::Scalar T>
ad::Shape Sequential<T>::output_shape(size_t upto) const {
  ad::Shape s = input_shape;
  upto = std::min(upto, layers.size());
  for (size_t i = 0; i < upto; ++i) s = layers[i]->output_shape(s);
  return s;
}

template <ad::Scalar T>
std::vector<ad::Shape> Sequential<T>::output_shapes() const {
  std::vector<ad::Shape> shapes;
  shapes.reserve(layers.size());
  ad::Shape s = input_shape;
  for (const auto& layer : layers) shapes.push_back(s = layer->output_shape(s));
  return shapes;
}

template <ad::Scalar T>
void Sequential<T>::zero_grad() {
  for (auto& [name, p] : named_parameters()) p->grad.fill(T(0));
}

template <ad::Scalar T>
Sequential<T> Sequential<T>::clone() const {
  Sequential copy;
  copy.input_shape = input_shape;
  copy.input_dtype = input_dtype;
  copy.feature_names = feature_names;
  copy.output_kind = output_kind;
  for (const auto& l : layers) copy.layers.push_back(l->clone());
  return copy;
}

template <ad::Scalar T>
template <ad::Scalar U>
Sequential<U> Sequential<T>::to() const {
  Sequential<U> out;
  out.input_shape = input_shape;
  out.input_dtype = input_dtype;
  out.feature_names = feature_names;
  out.output_kind = output_kind;
  for (const auto& l : layers) out.layers.push_back(parse_layer<U>(l->architecture()));
  auto src = named_parameters();
  auto dst = out.named_parameters();
  for (size_t i = 0; i < src.size(); ++i) {
    dst[i].second->value = src[i].second->value.template to<U>();
    dst[i].second->grad = ad::Tensor<U>(dst[i].second->value.shape());
  }
  return out;
}

template class Sequential<float>;
template class Sequential<double>;
template Sequential<double> Sequential<float>::to<double>() const;
template Sequential<float> Sequential<double>::to<float>() const;
template Sequential<float> Sequential<float>::to<float>() const;
template Sequential<double> Sequential<double>::to<double>() const;

}  // namespace integrad::nn
