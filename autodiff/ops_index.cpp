// Gathering rows: index_select and the embedding lookup built on it. The backward scatter-adds,
// so an index that appears twice receives both gradients.
#include <algorithm>
#include <string>

#include "autodiff/ops.h"

namespace integrad::ad {

template <Scalar T>
Var<T> index_select(Var<T> a, int dim, std::span<const int64_t> indices) {
  const int axis = a.shape().axis(dim);
  const int64_t n = a.shape()[axis];
  for (int64_t i : indices)
    if (i < 0 || i >= n)
      throw std::out_of_range("index " + std::to_string(i) + " out of range for dimension " + std::to_string(dim) + " of size " + std::to_string(n));
  int64_t outer = 1;
  for (int i = 0; i < axis; ++i) outer *= a.shape()[i];
  const int64_t inner = a.shape().stride(axis), count = static_cast<int64_t>(indices.size());
  Tape<T>& tape = a.tape();
  Var<T> out = tape.make(a.shape().with(axis, count), a.requires_grad());
  const T* x = a.value().data();
  T* y = tape.write(out);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < count; ++k) std::copy_n(x + (o * n + indices[static_cast<size_t>(k)]) * inner, inner, y + (o * count + k) * inner);
  if (out.requires_grad()) {
    int64_t* saved = tape.template scratch<int64_t>(indices.size());
    std::copy(indices.begin(), indices.end(), saved);
    tape.on_backward(out, [a, out, saved, outer, n, count, inner](Tape<T>& t) {
      const T* g = t.grad(out);
      T* gx = t.grad_to(a);
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t k = 0; k < count; ++k) {
          T* dst = gx + (o * n + saved[k]) * inner;
          const T* src = g + (o * count + k) * inner;
          for (int64_t i = 0; i < inner; ++i) dst[i] += src[i];
        }
    });
  }
  return out;
}

template <Scalar T>
Var<T> embedding(Var<T> weight, std::span<const int64_t> ids, Shape ids_shape) {
  if (weight.rank() != 2) throw std::invalid_argument("embedding: weight must be [num, dim], got " + weight.shape().str());
  if (ids_shape.numel() != static_cast<int64_t>(ids.size())) throw std::invalid_argument("embedding: ids do not match shape " + ids_shape.str());
  std::vector<int64_t> dims = ids_shape.vec();
  dims.push_back(weight.shape()[1]);
  return reshape(index_select(weight, 0, ids), Shape(dims));
}

#define INTEGRAD_INSTANTIATE(T)                                            \
  template Var<T> index_select(Var<T>, int, std::span<const int64_t>);     \
  template Var<T> embedding(Var<T>, std::span<const int64_t>, Shape);
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)
#undef INTEGRAD_INSTANTIATE

}  // namespace integrad::ad
