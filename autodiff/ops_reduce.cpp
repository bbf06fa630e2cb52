// Reductions along one dimension, and softmax / log-softmax. A tensor is viewed as
// [outer, n, inner] around the reduced dimension, so one loop nest serves every rank and axis.
#include <algorithm>
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
      if (r.inner == 1) {  // a mean over the last axis (global average pooling): one long loop a row
        for (int64_t o = 0; o < r.outer; ++o) {
          const T d = g[o] * scale;
          T* row = gx + o * r.n;
          if (fresh) std::fill_n(row, r.n, T(0) + d);  // 0 + d, as the general loop (+0 for −0)
          else
            for (int64_t k = 0; k < r.n; ++k) row[k] += d;
        }
        return;
      }
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
  // The winner's position along the axis, kept for the backward. As torch.max(x, dim): the first
  // of tied maxima, but the first NaN if there is one (its max_kernel stops there), so the
  // maximum of a row with a NaN is NaN and the gradient goes to that NaN.
  int64_t* winner = a.requires_grad() ? tape.template scratch<int64_t>(static_cast<size_t>(r.outer * r.inner)) : nullptr;
  for (int64_t o = 0; o < r.outer; ++o)
    for (int64_t i = 0; i < r.inner; ++i) {
      int64_t best = 0;
      T best_value = x[o * r.n * r.inner + i];
      for (int64_t k = 1; k < r.n && !std::isnan(best_value); ++k) {
        const T v = x[(o * r.n + k) * r.inner + i];
        if (v > best_value || std::isnan(v)) best = k, best_value = v;
      }
      y[o * r.inner + i] = best_value;
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
// The maximum of all elements: NaN if any is NaN. Its backward is not max(dim)'s: as PyTorch's
// evenly_distribute_backward, the gradient is shared equally by all elements equal to the maximum
// (by all NaNs when it is NaN), not sent to the first.
template <Scalar T>
Var<T> max(Var<T> a) {
  if (a.numel() == 0) throw std::invalid_argument("max over an empty dimension");
  Tape<T>& tape = a.tape();
  Var<T> out = tape.make(Shape{}, a.requires_grad());
  const T* x = a.value().data();
  T m = x[0];
  for (int64_t k = 1; k < a.numel() && !std::isnan(m); ++k) m = x[k] > m || std::isnan(x[k]) ? x[k] : m;
  tape.write(out)[0] = m;
  if (out.requires_grad()) {
    tape.on_backward(out, [a, out](Tape<T>& t) {
      const T *x = a.value().data(), m = out.value()[0];
      auto is_max = [m](T v) { return std::isnan(m) ? std::isnan(v) : v == m; };
      int64_t count = 0;
      for (int64_t k = 0; k < a.numel(); ++k) count += is_max(x[k]);
      const T share = t.grad(out)[0] / static_cast<T>(count);
      T* gx = t.grad_to(a);
      for (int64_t k = 0; k < a.numel(); ++k)
        if (is_max(x[k])) gx[k] += share;
    });
  }
  return out;
}

// softmax and log-softmax subtract the row maximum first, so exp never overflows. As in PyTorch, a
// row with a NaN is all NaN, and so is a row with +Inf (Inf − Inf) or with only −Inf.
template <Scalar T>
T max_with_nan(T m, T v) {
  return v > m || std::isnan(v) ? v : m;
}

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
      for (int64_t k = 0; k < r.n; ++k) m = max_with_nan(m, x[at(k)]);
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
      for (int64_t k = 0; k < r.n; ++k) m = max_with_nan(m, x[at(k)]);
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
