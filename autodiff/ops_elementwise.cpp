// Element-wise ops. A binary op is its value f(x, y) and the gradient each input receives; a unary
// op is f(x) and the gradient its input receives (given the incoming g, x and the output y, whichever
// is cheaper). Broadcasting is handled once, in for_each_broadcast, for all of them.
//
// Each backward is written as PyTorch's derivatives.yaml / ATen kernels form it, operation for
// operation (g / x, not g · (1/x)), so that NaN and ±Inf come out where PyTorch's do: 0 · Inf is
// NaN, and a select such as relu's hides a NaN that a product would keep.
#include <cmath>

#include "autodiff/add_relu.h"
#include "autodiff/ops.h"
#include "autodiff/parallel.h"
#include "autodiff/relu.h"

namespace integrad::ad {

namespace {

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

// da(g, x, y) and db(g, x, y): the gradients reaching a and b from g at one output element.
template <Scalar T, class F, class Da, class Db>
Var<T> binary(Var<T> a, Var<T> b, F f, Da da, Db db) {
  Tape<T>& tape = a.tape();
  const Shape shape = broadcast_shapes(a.shape(), b.shape());
  Var<T> out = tape.make(shape, a.requires_grad() || b.requires_grad());
  const T *x = a.value().data(), *y = b.value().data();
  T* z = tape.write(out);
  for_each_broadcast(shape, a.shape(), b.shape(), [&](int64_t o, int64_t i, int64_t j) { z[o] = f(x[i], y[j]); });
  if (out.requires_grad()) {
    tape.on_backward(out, [a, b, out, da, db](Tape<T>& t) {
      const T *x = a.value().data(), *y = b.value().data(), *g = t.grad(out);
      T* gx = t.grad_to(a);
      T* gy = t.grad_to(b);
      for_each_broadcast(out.shape(), a.shape(), b.shape(), [&](int64_t o, int64_t i, int64_t j) {
        if (gx) gx[i] += da(g[o], x[i], y[j]);
        if (gy) gy[j] += db(g[o], x[i], y[j]);
      });
    });
  }
  return out;
}

// dx(g, x, y): the gradient reaching a from g at one element, where y = f(x).
template <Scalar T, class F, class Dx>
Var<T> unary(Var<T> a, F f, Dx dx) {
  Tape<T>& tape = a.tape();
  Var<T> out = tape.make(a.shape(), a.requires_grad());
  const T* x = a.value().data();
  T* y = tape.write(out);
  const int64_t n = a.numel();
  parallel_for(n, kPassCost * n >= kParallelWork, [&](int64_t i) { y[i] = f(x[i]); });
  if (out.requires_grad()) {
    tape.on_backward(out, [a, out, dx](Tape<T>& t) {
      const T *x = a.value().data(), *y = out.value().data(), *g = t.grad(out);
      // Not a structured binding: clang 14 cannot name one inside an OpenMP region.
      const auto slot = t.grad_slot(a);
      T* const gx = slot.data;
      const bool fresh = slot.fresh;
      const int64_t n = a.numel();
      parallel_for(n, kPassCost * n >= kParallelWork, [&](int64_t i) {
        // A fresh slot takes the value as it is (so −0 stays −0, as in PyTorch), else adds.
        const T d = dx(g[i], x[i], y[i]);
        gx[i] = fresh ? d : gx[i] + d;
      });
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
  return binary(a, b, [](T x, T y) { return x + y; }, [](T g, T, T) { return g; }, [](T g, T, T) { return g; });
}
template <Scalar T>
Var<T> sub(Var<T> a, Var<T> b) {
  return binary(a, b, [](T x, T y) { return x - y; }, [](T g, T, T) { return g; }, [](T g, T, T) { return -g; });
}
template <Scalar T>
Var<T> mul(Var<T> a, Var<T> b) {
  return binary(a, b, [](T x, T y) { return x * y; }, [](T g, T, T y) { return g * y; }, [](T g, T x, T) { return g * x; });
}
// PyTorch: grad / other and −grad · ((self / other) / other); (x / y) / y, unlike x / y², does not
// overflow to Inf (or underflow to 0) where the quotient itself is finite.
template <Scalar T>
Var<T> div(Var<T> a, Var<T> b) {
  return binary(
      a, b, [](T x, T y) { return x / y; }, [](T g, T, T y) { return g / y; }, [](T g, T x, T y) { return -g * ((x / y) / y); });
}

template <Scalar T>
Var<T> neg(Var<T> a) {
  return unary(a, [](T x) { return -x; }, [](T g, T, T) { return -g; });
}
template <Scalar T>
Var<T> add_scalar(Var<T> a, T s) {
  return unary(a, [s](T x) { return x + s; }, [](T g, T, T) { return g; });
}
template <Scalar T>
Var<T> mul_scalar(Var<T> a, T s) {
  return unary(a, [s](T x) { return x * s; }, [s](T g, T, T) { return g * s; });
}
// PyTorch's pow_backward returns zeros for the exponent 0, whatever x and g are (x⁰ = 1 even at
// x = NaN or 0, where p·x^(p−1) would be NaN).
template <Scalar T>
Var<T> pow(Var<T> a, T p) {
  if (p == T(0)) return unary(a, [](T x) { return std::pow(x, T(0)); }, [](T, T, T) { return T(0); });
  return unary(a, [p](T x) { return std::pow(x, p); }, [p](T g, T x, T) { return g * (p * std::pow(x, p - T(1))); });
}
template <Scalar T>
Var<T> exp(Var<T> a) {
  return unary(a, [](T x) { return std::exp(x); }, [](T g, T, T y) { return g * y; });
}
template <Scalar T>
Var<T> log(Var<T> a) {
  return unary(a, [](T x) { return std::log(x); }, [](T g, T x, T) { return g / x; });
}
template <Scalar T>
Var<T> sqrt(Var<T> a) {
  return unary(a, [](T x) { return std::sqrt(x); }, [](T g, T, T y) { return g / (T(2) * y); });
}

// erf'(x) = 2/√π · exp(−x²) (ONNX's Erf, in the GELU that exporters spell out).
template <Scalar T>
Var<T> erf(Var<T> a) {
  return unary(a, [](T x) { return std::erf(x); }, [](T g, T x, T) { return g * T(1.1283791670955126) * std::exp(-x * x); });
}
// relu(NaN) = NaN; the backward is PyTorch's select y <= 0 ? 0 : g, not a product (relu.h).
template <Scalar T>
Var<T> relu(Var<T> a) {
  return unary(a, [](T x) { return relu_value(x); }, [](T g, T, T y) { return relu_grad(g, y); });
}
// relu_grad(g, y) into gx over [0, n): written as 0 + d when `fresh`, added otherwise. In two
// loops per 256 values, the select and then the addition: in one, GCC sank the addition into the
// select's branch (an addition might trap, so it may not run it for both), and the loop ran
// scalar with a branch on the ReLU's mask that mispredicted half the time: a tenth of IG on the
// ResNet.
template <Scalar T>
void add_relu_grad(const T* __restrict g, const T* __restrict y, T* __restrict gx, int64_t n, bool fresh) {
  constexpr int64_t chunk = 256;
  T d[chunk];
  for (int64_t at = 0; at < n; at += chunk) {
    const int64_t m = std::min(chunk, n - at);
    for (int64_t i = 0; i < m; ++i) d[i] = relu_grad(g[at + i], y[at + i]);
    if (fresh)
      for (int64_t i = 0; i < m; ++i) gx[at + i] = T(0) + d[i];
    else
      for (int64_t i = 0; i < m; ++i) gx[at + i] += d[i];
  }
}

// relu(a + b) as one op (a ResNet block's residual sum and its activation): one pass forward and
// one backward instead of two each, the same bits as the two ops. Both gradients get
// relu_grad(g, y), written outright when fresh (0 + d, as add's zeroed slot would add it, so a −0
// is +0 as there). Broadcasting shapes take the two ops.
template <Scalar T>
Var<T> add_relu(Var<T> a, Var<T> b) {
  if (a.shape() != b.shape()) return relu(add(a, b));
  Tape<T>& tape = a.tape();
  Var<T> out = tape.make(a.shape(), a.requires_grad() || b.requires_grad());
  const T *x = a.value().data(), *z = b.value().data();
  T* y = tape.write(out);
  // In blocks, each a loop that vectorises.
  const int64_t n = a.numel(), block = 4096, blocks = (n + block - 1) / block;
  parallel_for(blocks, kPassCost * n >= kParallelWork, [&](int64_t k) {
    const int64_t end = std::min(n, (k + 1) * block);
    for (int64_t i = k * block; i < end; ++i) y[i] = relu_value(x[i] + z[i]);
  });
  if (out.requires_grad()) {
    tape.on_backward(out, [a, b, out, block, blocks](Tape<T>& t) {
      const T *y = out.value().data(), *g = t.grad(out);
      const int64_t n = out.numel();
      for (Var<T> input : {a, b}) {
        // Not a structured binding: clang 14 cannot name one inside an OpenMP region.
        const auto slot = t.grad_slot(input);
        T* const gx = slot.data;
        const bool fresh = slot.fresh;
        if (gx)
          parallel_for(blocks, kPassCost * n >= kParallelWork, [&](int64_t k) {
            const int64_t at = k * block;
            add_relu_grad(g + at, y + at, gx + at, std::min(block, n - at), fresh);
          });
      }
    });
  }
  return out;
}
template <Scalar T>
Var<T> sigmoid(Var<T> a) {
  return unary(a, [](T x) { return stable_sigmoid(x); }, [](T g, T, T y) { return g * (T(1) - y) * y; });
}
template <Scalar T>
Var<T> tanh(Var<T> a) {
  return unary(a, [](T x) { return std::tanh(x); }, [](T g, T, T y) { return g * (T(1) - y * y); });
}
// softplus(x) = log(1 + eˣ), written to neither overflow for large x nor lose digits for small.
// NaN gives NaN both ways; ±Inf give Inf and 0 with gradients g and g·0, as PyTorch's.
template <Scalar T>
Var<T> softplus(Var<T> a) {
  return unary(
      a, [](T x) { return std::max(x, T(0)) + std::log1p(std::exp(-std::abs(x))); },
      [](T g, T x, T) { return g * stable_sigmoid(x); });
}

// GELU in its exact erf form (PyTorch's default, approximate='none'): x·Φ(x) with
// Φ(x) = (1 + erf(x/√2))/2; the gradient Φ(x) + x·φ(x), φ the standard normal density, as ATen's
// GeluBackward writes it.
template <Scalar T>
Var<T> gelu(Var<T> a) {
  return unary(
      a, [](T x) { return x * T(0.5) * (T(1) + std::erf(x * T(M_SQRT1_2))); },
      [](T g, T x, T) {
        const T cdf = T(0.5) * (T(1) + std::erf(x * T(M_SQRT1_2)));
        const T pdf = std::exp(T(-0.5) * x * x) * T(M_2_SQRTPI * M_SQRT1_2 * 0.5);
        return g * (cdf + x * pdf);
      });
}

#define INTEGRAD_INSTANTIATE(T)                      \
  template Var<T> gelu(Var<T>);                      \
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
  template Var<T> erf(Var<T>);                       \
  template Var<T> relu(Var<T>);                      \
  template Var<T> add_relu(Var<T>, Var<T>);          \
  template Var<T> sigmoid(Var<T>);                   \
  template Var<T> tanh(Var<T>);                      \
  template Var<T> softplus(Var<T>);
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)
#undef INTEGRAD_INSTANTIATE

}  // namespace integrad::ad
