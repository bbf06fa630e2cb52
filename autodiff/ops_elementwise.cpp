// Element-wise ops. A binary op is its value f(x, y) and its two partial derivatives; a unary op
// is f(x) and f'(x) (given x and the output y, whichever is cheaper). Broadcasting is handled once,
// in for_each_broadcast, for all of them.
#include <cmath>

#include "autodiff/ops.h"

namespace integrad::ad {

namespace {

[[maybe_unused]] constexpr int64_t kParallelElements = int64_t(1) << 16;

// Strides of `in` seen from an output of shape `out`: 0 along broadcast dimensions.
std::array<int64_t, Shape::kMaxRank> broadcast_strides(const Shape& in, const Shape& out) {
  std::array<int64_t, Shape::kMaxRank> strides{};
  int offset = out.rank() - in.rank();
  for (int i = 0; i < out.rank(); ++i) {
    int j = i - offset;
    strides[static_cast<size_t>(i)] = (j < 0 || in[j] == 1) ? 0 : in.stride(j);
  }
  return strides;
}

// Calls f(out_index, a_index, b_index) for every element of the broadcast output, in order.
template <class F>
void for_each_broadcast(const Shape& out, const Shape& a, const Shape& b, F&& f) {
  const int64_t n = out.numel();
  if (a == out && b == out) {
    for (int64_t i = 0; i < n; ++i) f(i, i, i);
    return;
  }
  const auto sa = broadcast_strides(a, out), sb = broadcast_strides(b, out);
  const int r = out.rank();
  const int64_t inner = r ? out[r - 1] : 1;
  const int64_t ia_step = r ? sa[static_cast<size_t>(r - 1)] : 0, ib_step = r ? sb[static_cast<size_t>(r - 1)] : 0;
  for (int64_t row = 0; inner && row < n / inner; ++row) {
    int64_t ia = 0, ib = 0, rest = row;
    for (int d = r - 2; d >= 0; --d) {
      int64_t i = rest % out[d];
      rest /= out[d];
      ia += i * sa[static_cast<size_t>(d)];
      ib += i * sb[static_cast<size_t>(d)];
    }
    for (int64_t j = 0; j < inner; ++j) f(row * inner + j, ia + j * ia_step, ib + j * ib_step);
  }
}

template <Scalar T, class F, class DfDa, class DfDb>
Var<T> binary(Var<T> a, Var<T> b, F f, DfDa df_da, DfDb df_db) {
  Tape<T>& tape = a.tape();
  const Shape shape = broadcast_shapes(a.shape(), b.shape());
  Var<T> out = tape.make(shape, a.requires_grad() || b.requires_grad());
  const T *x = a.value().data(), *y = b.value().data();
  T* z = tape.write(out);
  for_each_broadcast(shape, a.shape(), b.shape(), [&](int64_t o, int64_t i, int64_t j) { z[o] = f(x[i], y[j]); });
  if (out.requires_grad()) {
    tape.on_backward(out, [a, b, out, df_da, df_db](Tape<T>& t) {
      const T *x = a.value().data(), *y = b.value().data(), *g = t.grad(out);
      T* gx = t.grad_to(a);
      T* gy = t.grad_to(b);
      for_each_broadcast(out.shape(), a.shape(), b.shape(), [&](int64_t o, int64_t i, int64_t j) {
        if (gx) gx[i] += g[o] * df_da(x[i], y[j]);
        if (gy) gy[j] += g[o] * df_db(x[i], y[j]);
      });
    });
  }
  return out;
}

template <Scalar T, class F, class Df>
Var<T> unary(Var<T> a, F f, Df df) {
  Tape<T>& tape = a.tape();
  Var<T> out = tape.make(a.shape(), a.requires_grad());
  const T* x = a.value().data();
  T* y = tape.write(out);
  const int64_t n = a.numel();
#pragma omp parallel for schedule(static) if (n > kParallelElements)
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
  if (out.requires_grad()) {
    tape.on_backward(out, [a, out, df](Tape<T>& t) {
      const T *x = a.value().data(), *y = out.value().data(), *g = t.grad(out);
      const auto [gx, fresh] = t.grad_slot(a);
      const int64_t n = a.numel();
#pragma omp parallel for schedule(static) if (n > kParallelElements)
      for (int64_t i = 0; i < n; ++i) gx[i] = (fresh ? T(0) : gx[i]) + g[i] * df(x[i], y[i]);
    });
  }
  return out;
}

template <Scalar T>
T stable_sigmoid(T x) {
  if (x >= 0) return T(1) / (T(1) + std::exp(-x));
  T e = std::exp(x);
  return e / (T(1) + e);
}

}  // namespace

template <Scalar T>
Var<T> add(Var<T> a, Var<T> b) {
  return binary(a, b, [](T x, T y) { return x + y; }, [](T, T) { return T(1); }, [](T, T) { return T(1); });
}
template <Scalar T>
Var<T> sub(Var<T> a, Var<T> b) {
  return binary(a, b, [](T x, T y) { return x - y; }, [](T, T) { return T(1); }, [](T, T) { return T(-1); });
}
template <Scalar T>
Var<T> mul(Var<T> a, Var<T> b) {
  return binary(a, b, [](T x, T y) { return x * y; }, [](T, T y) { return y; }, [](T x, T) { return x; });
}
template <Scalar T>
Var<T> div(Var<T> a, Var<T> b) {
  return binary(
      a, b, [](T x, T y) { return x / y; }, [](T, T y) { return T(1) / y; }, [](T x, T y) { return -x / (y * y); });
}

template <Scalar T>
Var<T> neg(Var<T> a) {
  return unary(a, [](T x) { return -x; }, [](T, T) { return T(-1); });
}
template <Scalar T>
Var<T> add_scalar(Var<T> a, T s) {
  return unary(a, [s](T x) { return x + s; }, [](T, T) { return T(1); });
}
template <Scalar T>
Var<T> mul_scalar(Var<T> a, T s) {
  return unary(a, [s](T x) { return x * s; }, [s](T, T) { return s; });
}
template <Scalar T>
Var<T> pow(Var<T> a, T p) {
  return unary(a, [p](T x) { return std::pow(x, p); }, [p](T x, T) { return p * std::pow(x, p - T(1)); });
}
template <Scalar T>
Var<T> exp(Var<T> a) {
  return unary(a, [](T x) { return std::exp(x); }, [](T, T y) { return y; });
}
template <Scalar T>
Var<T> log(Var<T> a) {
  return unary(a, [](T x) { return std::log(x); }, [](T x, T) { return T(1) / x; });
}
template <Scalar T>
Var<T> sqrt(Var<T> a) {
  return unary(a, [](T x) { return std::sqrt(x); }, [](T, T y) { return T(0.5) / y; });
}
template <Scalar T>
Var<T> relu(Var<T> a) {
  return unary(a, [](T x) { return x > T(0) ? x : T(0); }, [](T x, T) { return x > T(0) ? T(1) : T(0); });
}
template <Scalar T>
Var<T> sigmoid(Var<T> a) {
  return unary(a, [](T x) { return stable_sigmoid(x); }, [](T, T y) { return y * (T(1) - y); });
}
template <Scalar T>
Var<T> tanh(Var<T> a) {
  return unary(a, [](T x) { return std::tanh(x); }, [](T, T y) { return T(1) - y * y; });
}
// softplus(x) = log(1 + eˣ), written to neither overflow for large x nor lose digits for small.
template <Scalar T>
Var<T> softplus(Var<T> a) {
  return unary(
      a, [](T x) { return std::max(x, T(0)) + std::log1p(std::exp(-std::abs(x))); },
      [](T x, T) { return stable_sigmoid(x); });
}

#define INTEGRAD_INSTANTIATE(T)                      \
  template Var<T> add(Var<T>, Var<T>);               \
  template Var<T> sub(Var<T>, Var<T>);               \
  template Var<T> mul(Var<T>, Var<T>);               \
  template Var<T> div(Var<T>, Var<T>);               \
  template Var<T> neg(Var<T>);                       \
  template Var<T> add_scalar(Var<T>, T);             \
  template Var<T> mul_scalar(Var<T>, T);             \
  template Var<T> pow(Var<T>, T);                    \
  template Var<T> exp(Var<T>);                       \
  template Var<T> log(Var<T>);                       \
  template Var<T> sqrt(Var<T>);                      \
  template Var<T> relu(Var<T>);                      \
  template Var<T> sigmoid(Var<T>);                   \
  template Var<T> tanh(Var<T>);                      \
  template Var<T> softplus(Var<T>);
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)
#undef INTEGRAD_INSTANTIATE

}  // namespace integrad::ad
