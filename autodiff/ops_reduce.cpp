// Reductions along one dimension, and softmax / log-softmax. A tensor is viewed as
// [outer, n, inner] around the reduced dimension, so one loop nest serves every rank and axis.
#include <cmath>
#include <limits>

#include "autodiff/ops.h"

namespace integrad::ad {

namespace {

struct Around {
  int64_t outer, n, inner;
};
Around around(const Shape& s, int axis) {
  int64_t outer = 1;
  for (int i = 0; i < axis; ++i) outer *= s[i];
  return {outer, s[axis], s.stride(axis)};
}
Shape reduced_shape(const Shape& s, int axis, bool keepdim) { return keepdim ? s.with(axis, 1) : s.without(axis); }

template <Scalar T>
Var<T> sum_scaled(Var<T> a, int dim, bool keepdim, T scale) {
  Tape<T>& tape = a.tape();
  const int axis = a.shape().axis(dim);
  const Around r = around(a.shape(), axis);
  Var<T> out = tape.make(reduced_shape(a.shape(), axis, keepdim), a.requires_grad());
  const T* x = a.value().data();
  T* y = tape.write(out);
  for (int64_t o = 0; o < r.outer; ++o)
    for (int64_t i = 0; i < r.inner; ++i) {
      T s = 0;
      for (int64_t k = 0; k < r.n; ++k) s += x[(o * r.n + k) * r.inner + i];
      y[o * r.inner + i] = s * scale;
    }
  if (out.requires_grad()) {
    tape.on_backward(out, [a, out, r, scale](Tape<T>& t) {
      const T* g = t.grad(out);
      const auto [gx, fresh] = t.grad_slot(a);
      for (int64_t o = 0; o < r.outer; ++o)
        for (int64_t k = 0; k < r.n; ++k)
          for (int64_t i = 0; i < r.inner; ++i) {
            T& d = gx[(o * r.n + k) * r.inner + i];
            d = (fresh ? T(0) : d) + g[o * r.inner + i] * scale;
          }
    });
  }
  return out;
}

template <Scalar T>
Var<T> flatten_all(Var<T> a) {
  return reshape(a, Shape{a.numel()});
}

template <Scalar T>
Var<T> as_scalar(Var<T> a) {
  return reshape(a, Shape{});
}

}  // namespace

template <Scalar T>
Var<T> sum(Var<T> a, int dim, bool keepdim) {
  return sum_scaled(a, dim, keepdim, T(1));
}
template <Scalar T>
Var<T> mean(Var<T> a, int dim, bool keepdim) {
  return sum_scaled(a, dim, keepdim, T(1) / static_cast<T>(a.size(dim)));
}
template <Scalar T>
Var<T> sum(Var<T> a) {
  return as_scalar(sum(flatten_all(a), 0));
}
template <Scalar T>
Var<T> mean(Var<T> a) {
  return as_scalar(mean(flatten_all(a), 0));
}

template <Scalar T>
Var<T> max(Var<T> a, int dim, bool keepdim) {
  Tape<T>& tape = a.tape();
  const int axis = a.shape().axis(dim);
  const Around r = around(a.shape(), axis);
  if (r.n == 0) throw std::invalid_argument("max over an empty dimension");
  Var<T> out = tape.make(reduced_shape(a.shape(), axis, keepdim), a.requires_grad());
  const T* x = a.value().data();
  T* y = tape.write(out);
  // The winner's position along the axis, kept for the backward: the first of tied maxima.
  int64_t* winner = a.requires_grad() ? tape.template scratch<int64_t>(static_cast<size_t>(r.outer * r.inner)) : nullptr;
  for (int64_t o = 0; o < r.outer; ++o)
    for (int64_t i = 0; i < r.inner; ++i) {
      int64_t best = 0;
      for (int64_t k = 1; k < r.n; ++k)
        if (x[(o * r.n + k) * r.inner + i] > x[(o * r.n + best) * r.inner + i]) best = k;
      y[o * r.inner + i] = x[(o * r.n + best) * r.inner + i];
      if (winner) winner[o * r.inner + i] = best;
    }
  if (out.requires_grad()) {
    tape.on_backward(out, [a, out, r, winner](Tape<T>& t) {
      const T* g = t.grad(out);
      T* gx = t.grad_to(a);
      for (int64_t o = 0; o < r.outer; ++o)
        for (int64_t i = 0; i < r.inner; ++i) gx[(o * r.n + winner[o * r.inner + i]) * r.inner + i] += g[o * r.inner + i];
    });
  }
  return out;
}
template <Scalar T>
Var<T> max(Var<T> a) {
  return as_scalar(max(flatten_all(a), 0));
}

// softmax and log-softmax subtract the row maximum first, so exp never overflows.
template <Scalar T>
Var<T> softmax(Var<T> a, int dim) {
  Tape<T>& tape = a.tape();
  const Around r = around(a.shape(), a.shape().axis(dim));
  Var<T> out = tape.make(a.shape(), a.requires_grad());
  const T* x = a.value().data();
  T* y = tape.write(out);
  for (int64_t o = 0; o < r.outer; ++o)
    for (int64_t i = 0; i < r.inner; ++i) {
      auto at = [&](int64_t k) { return (o * r.n + k) * r.inner + i; };
      T m = -std::numeric_limits<T>::infinity();
      for (int64_t k = 0; k < r.n; ++k) m = std::max(m, x[at(k)]);
      T s = 0;
      for (int64_t k = 0; k < r.n; ++k) s += (y[at(k)] = std::exp(x[at(k)] - m));
      for (int64_t k = 0; k < r.n; ++k) y[at(k)] /= s;
    }
  if (out.requires_grad()) {
    // dx_k = y_k (g_k − Σ_j g_j y_j)
    tape.on_backward(out, [a, out, r](Tape<T>& t) {
      const T *g = t.grad(out), *y = out.value().data();
      T* gx = t.grad_to(a);
      for (int64_t o = 0; o < r.outer; ++o)
        for (int64_t i = 0; i < r.inner; ++i) {
          auto at = [&](int64_t k) { return (o * r.n + k) * r.inner + i; };
          T dot = 0;
          for (int64_t k = 0; k < r.n; ++k) dot += g[at(k)] * y[at(k)];
          for (int64_t k = 0; k < r.n; ++k) gx[at(k)] += y[at(k)] * (g[at(k)] - dot);
        }
    });
  }
  return out;
}

template <Scalar T>
Var<T> log_softmax(Var<T> a, int dim) {
  Tape<T>& tape = a.tape();
  const Around r = around(a.shape(), a.shape().axis(dim));
  Var<T> out = tape.make(a.shape(), a.requires_grad());
  const T* x = a.value().data();
  T* y = tape.write(out);
  for (int64_t o = 0; o < r.outer; ++o)
    for (int64_t i = 0; i < r.inner; ++i) {
      auto at = [&](int64_t k) { return (o * r.n + k) * r.inner + i; };
      T m = -std::numeric_limits<T>::infinity();
      for (int64_t k = 0; k < r.n; ++k) m = std::max(m, x[at(k)]);
      T s = 0;
      for (int64_t k = 0; k < r.n; ++k) s += std::exp(x[at(k)] - m);
      const T log_sum = m + std::log(s);
      for (int64_t k = 0; k < r.n; ++k) y[at(k)] = x[at(k)] - log_sum;
    }
  if (out.requires_grad()) {
    // dx_k = g_k − softmax_k Σ_j g_j
    tape.on_backward(out, [a, out, r](Tape<T>& t) {
      const T *g = t.grad(out), *y = out.value().data();
      T* gx = t.grad_to(a);
      for (int64_t o = 0; o < r.outer; ++o)
        for (int64_t i = 0; i < r.inner; ++i) {
          auto at = [&](int64_t k) { return (o * r.n + k) * r.inner + i; };
          T total = 0;
          for (int64_t k = 0; k < r.n; ++k) total += g[at(k)];
          for (int64_t k = 0; k < r.n; ++k) gx[at(k)] += g[at(k)] - std::exp(y[at(k)]) * total;
        }
    });
  }
  return out;
}

#define INTEGRAD_INSTANTIATE(T)                        \
  template Var<T> sum(Var<T>);                         \
  template Var<T> sum(Var<T>, int, bool);              \
  template Var<T> mean(Var<T>);                        \
  template Var<T> mean(Var<T>, int, bool);             \
  template Var<T> max(Var<T>);                         \
  template Var<T> max(Var<T>, int, bool);              \
  template Var<T> softmax(Var<T>, int);                \
  template Var<T> log_softmax(Var<T>, int);
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)
#undef INTEGRAD_INSTANTIATE

}  // namespace integrad::ad
