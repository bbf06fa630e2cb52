// Ops that move or regroup elements without arithmetic.
#include <algorithm>
#include <memory>

#include "autodiff/ops.h"

namespace integrad::ad {

template <Scalar T>
Var<T> reshape(Var<T> a, Shape shape) {
  if (shape.numel() != a.numel()) throw std::invalid_argument("reshape: cannot view " + a.shape().str() + " as " + shape.str());
  Tape<T>& tape = a.tape();
  Var<T> out = tape.alias(a, shape, a.requires_grad());
  if (out.requires_grad()) {
    tape.on_backward(out, [a, out](Tape<T>& t) {
      const T* g = t.grad(out);
      const auto [gx, fresh] = t.grad_slot(a);
      const int64_t n = out.numel();
      if (fresh) std::copy_n(g, n, gx);
      else
        for (int64_t i = 0; i < n; ++i) gx[i] += g[i];
    });
  }
  return out;
}

namespace {
// Row-major strides of a shape.
std::array<int64_t, Shape::kMaxRank> strides_of(const Shape& s) {
  std::array<int64_t, Shape::kMaxRank> st{};
  for (int i = 0; i < s.rank(); ++i) st[static_cast<size_t>(i)] = s.stride(i);
  return st;
}
}  // namespace

// out[i_0..i_r] = a[i_perm...]: out dimension d is input dimension perm[d]. Backward is the same
// gather run the other way (scatter into the input's layout).
template <Scalar T>
Var<T> permute(Var<T> a, std::span<const int> dims) {
  const Shape& in = a.shape();
  if (static_cast<int>(dims.size()) != in.rank()) throw std::invalid_argument("permute: " + std::to_string(dims.size()) + " dims for shape " + in.str());
  std::array<int, Shape::kMaxRank> perm{};
  std::array<bool, Shape::kMaxRank> seen{};
  Shape out = in;
  for (int d = 0; d < in.rank(); ++d) {
    int p = in.axis(dims[static_cast<size_t>(d)]);
    if (seen[static_cast<size_t>(p)]) throw std::invalid_argument("permute: repeated dimension");
    seen[static_cast<size_t>(p)] = true;
    perm[static_cast<size_t>(d)] = p;
    out[d] = in[p];
  }
  // Stride in the input for each output dimension.
  const auto in_strides = strides_of(in);
  std::array<int64_t, Shape::kMaxRank> src{};
  for (int d = 0; d < in.rank(); ++d) src[static_cast<size_t>(d)] = in_strides[static_cast<size_t>(perm[static_cast<size_t>(d)])];

  Tape<T>& tape = a.tape();
  Var<T> result = tape.make(out, a.requires_grad());
  // Calls f(out_index, in_index) over the output in order.
  auto for_each = [out, src](auto&& f) {
    const int r = out.rank();
    std::array<int64_t, Shape::kMaxRank> idx{};
    int64_t in_off = 0;
    for (int64_t o = 0; o < out.numel(); ++o) {
      f(o, in_off);
      for (int d = r - 1; d >= 0; --d) {
        const auto ud = static_cast<size_t>(d);
        if (++idx[ud] < out[d]) {
          in_off += src[ud];
          break;
        }
        in_off -= src[ud] * (out[d] - 1);
        idx[ud] = 0;
      }
    }
  };
  const T* x = a.value().data();
  T* y = tape.write(result);
  for_each([&](int64_t o, int64_t i) { y[o] = x[i]; });
  if (result.requires_grad()) {
    tape.on_backward(result, [a, result, for_each](Tape<T>& t) {
      const T* g = t.grad(result);
      T* gx = t.grad_to(a);
      for_each([&](int64_t o, int64_t i) { gx[i] += g[o]; });
    });
  }
  return result;
}

template <Scalar T>
Var<T> transpose(Var<T> a, int dim0, int dim1) {
  std::array<int, Shape::kMaxRank> dims{};
  for (int i = 0; i < a.rank(); ++i) dims[static_cast<size_t>(i)] = i;
  std::swap(dims[static_cast<size_t>(a.shape().axis(dim0))], dims[static_cast<size_t>(a.shape().axis(dim1))]);
  return permute(a, std::span<const int>(dims.data(), static_cast<size_t>(a.rank())));
}

// A tensor viewed as [outer, n, inner] around `axis`: slicing and concatenation move blocks of
// n·inner contiguous elements per outer index.
template <Scalar T>
Var<T> slice(Var<T> a, int dim, int64_t start, int64_t end) {
  const int axis = a.shape().axis(dim);
  const int64_t n = a.shape()[axis];
  if (start < 0 || end > n || start > end)
    throw std::invalid_argument("slice: [" + std::to_string(start) + ", " + std::to_string(end) + ") out of range for dimension of size " + std::to_string(n));
  int64_t outer = 1;
  for (int i = 0; i < axis; ++i) outer *= a.shape()[i];
  const int64_t inner = a.shape().stride(axis), len = end - start;
  Tape<T>& tape = a.tape();
  Var<T> out = tape.make(a.shape().with(axis, len), a.requires_grad());
  const T* x = a.value().data();
  T* y = tape.write(out);
  for (int64_t o = 0; o < outer; ++o)
    std::copy_n(x + (o * n + start) * inner, len * inner, y + o * len * inner);
  if (out.requires_grad()) {
    tape.on_backward(out, [a, out, outer, n, inner, start, len](Tape<T>& t) {
      const T* g = t.grad(out);
      T* gx = t.grad_to(a);
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < len * inner; ++i) gx[(o * n + start) * inner + i] += g[o * len * inner + i];
    });
  }
  return out;
}

template <Scalar T>
Var<T> concat(std::span<const Var<T>> parts, int dim) {
  if (parts.empty()) throw std::invalid_argument("concat: no tensors");
  const Shape& first = parts[0].shape();
  const int axis = first.axis(dim);
  int64_t total = 0;
  bool requires_grad = false;
  for (const Var<T>& p : parts) {
    if (p.rank() != first.rank() || p.shape().with(axis, 1) != first.with(axis, 1))
      throw std::invalid_argument("concat: shape " + p.shape().str() + " does not match " + first.str() + " outside dimension " + std::to_string(dim));
    total += p.shape()[axis];
    requires_grad = requires_grad || p.requires_grad();
  }
  int64_t outer = 1;
  for (int i = 0; i < axis; ++i) outer *= first[i];
  const int64_t inner = first.stride(axis);
  Tape<T>& tape = parts[0].tape();
  Var<T> out = tape.make(first.with(axis, total), requires_grad);
  T* y = tape.write(out);
  for (int64_t offset = 0; const Var<T>& p : parts) {
    const int64_t len = p.shape()[axis];
    const T* x = p.value().data();
    for (int64_t o = 0; o < outer; ++o) std::copy_n(x + o * len * inner, len * inner, y + (o * total + offset) * inner);
    offset += len;
  }
  if (requires_grad) {
    // The parts are kept in the arena (a closure cannot own a vector).
    const size_t count = parts.size();
    Var<T>* saved = tape.template scratch<Var<T>>(count);
    std::uninitialized_copy(parts.begin(), parts.end(), saved);
    tape.on_backward(out, [saved, count, out, axis, outer, total, inner](Tape<T>& t) {
      const T* g = t.grad(out);
      for (int64_t offset = 0; const Var<T>& p : std::span<const Var<T>>(saved, count)) {
        const int64_t len = p.shape()[axis];
        if (T* gx = t.grad_to(p))
          for (int64_t o = 0; o < outer; ++o)
            for (int64_t i = 0; i < len * inner; ++i) gx[o * len * inner + i] += g[(o * total + offset) * inner + i];
        offset += len;
      }
    });
  }
  return out;
}

#define INTEGRAD_INSTANTIATE(T)                                  \
  template Var<T> reshape(Var<T>, Shape);                        \
  template Var<T> permute(Var<T>, std::span<const int>);         \
  template Var<T> transpose(Var<T>, int, int);                   \
  template Var<T> slice(Var<T>, int, int64_t, int64_t);          \
  template Var<T> concat(std::span<const Var<T>>, int);
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)
#undef INTEGRAD_INSTANTIATE

}  // namespace integrad::ad
