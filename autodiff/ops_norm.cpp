// Layer normalisation over the last dimension, as torch.nn.functional.layer_norm: per row
// x̂ = (x − μ)·rstd with μ the mean, rstd = 1/sqrt(σ² + eps) and σ² the biased variance; y = x̂·w + b.
// The fused op keeps μ and rstd per row and writes the backward in closed form:
//   dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = g·w,  dw = Σ_rows g·x̂,  db = Σ_rows g.
// layer_norm_naive builds the same function from element-wise ops; the tests compare the two.
#include <cmath>
#include <cstring>
#include <vector>

#include "autodiff/ops.h"
#include "autodiff/parallel.h"
#include "autodiff/relu.h"

namespace integrad::ad {

namespace {
template <Scalar T>
void check_layer_norm(const Var<T>& x, const Var<T>& w, const Var<T>& b) {
  const int64_t d = x.rank() ? x.shape()[x.rank() - 1] : 0;
  if (x.rank() < 1 || w.rank() != 1 || b.rank() != 1 || w.shape()[0] != d || b.shape()[0] != d)
    throw std::invalid_argument("layer_norm: input " + x.shape().str() + " with weight " + w.shape().str() + " and bias " + b.shape().str() +
                                " (weight and bias must be [D], D the last dimension)");
}
}  // namespace

template <Scalar T>
Var<T> layer_norm(Var<T> x, Var<T> w, Var<T> b, T eps) {
  check_layer_norm(x, w, b);
  Tape<T>& tape = x.tape();
  const int64_t d = x.shape()[x.rank() - 1], rows = d ? x.numel() / d : 0;
  Var<T> out = tape.make(x.shape(), x.requires_grad() || w.requires_grad() || b.requires_grad());
  T* mean = tape.template scratch<T>(static_cast<size_t>(rows));
  T* rstd = tape.template scratch<T>(static_cast<size_t>(rows));
  const T *xv = x.value().data(), *wv = w.value().data(), *bv = b.value().data();
  T* y = tape.write(out);
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = xv + r * d;
    double mu = 0, var = 0;
    for (int64_t j = 0; j < d; ++j) mu += double(xr[j]);
    mu /= double(d);
    for (int64_t j = 0; j < d; ++j) var += (double(xr[j]) - mu) * (double(xr[j]) - mu);
    var /= double(d);
    mean[r] = T(mu);
    rstd[r] = T(1.0 / std::sqrt(var + double(eps)));
    for (int64_t j = 0; j < d; ++j) y[r * d + j] = (xr[j] - mean[r]) * rstd[r] * wv[j] + bv[j];
  }
  if (out.requires_grad()) {
    tape.on_backward(out, [x, w, b, out, mean, rstd, d, rows](Tape<T>& t) {
      const T *xv = x.value().data(), *wv = w.value().data(), *g = t.grad(out);
      T* gx = t.grad_to(x);
      T* gw = t.grad_to(w);
      T* gb = t.grad_to(b);
      for (int64_t r = 0; r < rows; ++r) {
        const T* xr = xv + r * d;
        const T* gr = g + r * d;
        double sum_g = 0, sum_gx = 0;
        for (int64_t j = 0; j < d; ++j) {
          const double xhat = double((xr[j] - mean[r]) * rstd[r]), gh = double(gr[j]) * double(wv[j]);
          sum_g += gh;
          sum_gx += gh * xhat;
          if (gw) gw[j] += gr[j] * T(xhat);
          if (gb) gb[j] += gr[j];
        }
        if (gx) {
          const double mg = sum_g / double(d), mgx = sum_gx / double(d);
          for (int64_t j = 0; j < d; ++j) {
            const double xhat = double((xr[j] - mean[r]) * rstd[r]);
            gx[r * d + j] += T(double(rstd[r]) * (double(gr[j]) * double(wv[j]) - mg - xhat * mgx));
          }
        }
      }
    });
  }
  return out;
}

template <Scalar T>
Var<T> layer_norm_naive(Var<T> x, Var<T> w, Var<T> b, T eps) {
  check_layer_norm(x, w, b);
  Var<T> centred = x - mean(x, -1, true);
  Var<T> var = mean(centred * centred, -1, true);
  return centred / sqrt(var + eps) * w + b;
}

template <Scalar T>
Var<T> channel_affine(Var<T> x, Var<T> scale, Var<T> shift) {
  const int64_t channels = x.rank() >= 2 ? x.shape()[1] : 0;
  if (x.rank() < 2 || scale.numel() != channels || shift.numel() != channels)
    throw std::invalid_argument("channel_affine: x " + x.shape().str() + " needs scale and shift of its " + std::to_string(channels) + " channels, got " +
                                scale.shape().str() + " and " + shift.shape().str());
  Tape<T>& tape = x.tape();
  const int64_t n = x.shape()[0], plane = channels ? x.numel() / (n * channels) : 0;
  Var<T> out = tape.make(x.shape(), x.requires_grad() || scale.requires_grad() || shift.requires_grad());
  const T *xv = x.value().data(), *a = scale.value().data(), *b = shift.value().data();
  T* y = tape.write(out);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < channels; ++c) {
      const int64_t at = (i * channels + c) * plane;
      for (int64_t k = 0; k < plane; ++k) y[at + k] = xv[at + k] * a[c] + b[c];
    }
  if (out.requires_grad())
    tape.on_backward(out, [x, scale, shift, out, n, channels, plane](Tape<T>& t) {
      const T *xv = x.value().data(), *a = scale.value().data(), *g = t.grad(out);
      T* gx = t.grad_to(x);
      T* ga = t.grad_to(scale);
      T* gb = t.grad_to(shift);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t c = 0; c < channels; ++c) {
          const int64_t at = (i * channels + c) * plane;
          if (gx)
            for (int64_t k = 0; k < plane; ++k) gx[at + k] += g[at + k] * a[c];
          if (ga || gb) {
            T sum_gx = 0, sum_g = 0;
            for (int64_t k = 0; k < plane; ++k) sum_gx += g[at + k] * xv[at + k], sum_g += g[at + k];
            if (ga) ga[c] += sum_gx;
            if (gb) gb[c] += sum_g;
          }
        }
    });
  return out;
}

// Four elements from p on, as T (Four<T>) and in double.
using Double4 [[gnu::vector_size(32)]] = double;
template <Scalar T>
using Four [[gnu::vector_size(4 * sizeof(T))]] = T;
template <Scalar T>
Four<T> load_four(const T* p) {
  Four<T> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <Scalar T>
Double4 in_double(Four<T> v) {
  return __builtin_convertvector(v, Double4);
}
template <Scalar T>
Double4 four(const T* p) {
  return in_double<T>(load_four(p));
}

// x̂ = (x − mean)·rstd computed in T, as the scalar loops compute it, for four elements, in double.
template <Scalar T>
Double4 four_normalised(const T* x, T mean, T rstd) {
  return in_double<T>((load_four(x) - mean) * rstd);
}

// Σ_k f(k) for k in [0, len), in double, as 8 interleaved partial sums added in a fixed order:
// the same bits every run, and adds that pipeline (one serial chain in double was a fifth of a
// ResNet's training step). f4(k) gives f(k .. k + 3) as one vector, so the partial sums live in
// two vector registers: as an array GCC kept them on the stack, element by element.
template <class F4, class F>
double lane_sum(int64_t len, F4&& f4, F&& f) {
  Double4 low{}, high{};  // partial sums 0-3 and 4-7
  int64_t k = 0;
  for (; k + 8 <= len; k += 8) {
    low += f4(k);
    high += f4(k + 4);
  }
  double acc[8];
  std::memcpy(acc, &low, sizeof low);
  std::memcpy(acc + 4, &high, sizeof high);
  for (int l = 0; k < len; ++k, ++l) acc[l] += f(k);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

template <Scalar T>
Var<T> batch_norm_train(Var<T> x, Var<T> weight, Var<T> bias, T eps, Tensor<T>& batch_mean, Tensor<T>& batch_var, bool then_relu) {
  const int64_t channels = x.rank() >= 2 ? x.shape()[1] : 0;
  if (x.rank() < 2 || weight.numel() != channels || bias.numel() != channels)
    throw std::invalid_argument("batch_norm_train: x " + x.shape().str() + " needs weight and bias of its " + std::to_string(channels) +
                                " channels, got " + weight.shape().str() + " and " + bias.shape().str());
  Tape<T>& tape = x.tape();
  const int64_t n = x.shape()[0], plane = channels && n ? x.numel() / (n * channels) : 0, count = n * plane;
  if (count == 0) throw std::invalid_argument("batch_norm_train: x " + x.shape().str() + " has no values per channel");
  Var<T> out = tape.make(x.shape(), x.requires_grad() || weight.requires_grad() || bias.requires_grad());
  T* mean = tape.template scratch<T>(static_cast<size_t>(channels));
  T* rstd = tape.template scratch<T>(static_cast<size_t>(channels));
  batch_mean = Tensor<T>(Shape{channels});
  batch_var = Tensor<T>(Shape{channels});
  const T *xv = x.value().data(), *wv = weight.value().data(), *bv = bias.value().data();
  T* y = tape.write(out);
  // Channels are independent: each is summed by one thread in a fixed order (same bits for any
  // thread count). Sums in double, as the statistics of a large batch would drift in float.
  // The work, counted as parallel.h counts it: three passes forward and three backward, the sums
  // and dx in double (half the lanes of float). Counted as x.numel() alone, a ResNet's BatchNorm
  // at batch 64 (800k values) ran on one thread while the other waited: a fifth of its epoch.
  const int64_t work = 12 * x.numel();
#pragma omp parallel for schedule(static) if (channels > 1 && work >= kParallelWork)
  for (int64_t c = 0; c < channels; ++c) {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      const T* xc = xv + (i * channels + c) * plane;
      sum += lane_sum(plane, [xc](int64_t k) { return four(xc + k); }, [xc](int64_t k) { return double(xc[k]); });
    }
    const double mu = sum / double(count);
    double ss = 0;
    for (int64_t i = 0; i < n; ++i) {
      const T* xc = xv + (i * channels + c) * plane;
      ss += lane_sum(
          plane,
          [xc, mu](int64_t k) {
            const Double4 d = four(xc + k) - mu;
            return d * d;
          },
          [xc, mu](int64_t k) { return (double(xc[k]) - mu) * (double(xc[k]) - mu); });
    }
    const double var = ss / double(count);
    mean[c] = T(mu);
    rstd[c] = T(1.0 / std::sqrt(var + double(eps)));
    batch_mean[c] = T(mu);
    batch_var[c] = T(var);
    const T scale = rstd[c] * wv[c], shift = bv[c] - mean[c] * scale;  // y = x·scale + shift
    for (int64_t i = 0; i < n; ++i) {
      const int64_t at = (i * channels + c) * plane;
      if (then_relu)
        for (int64_t k = 0; k < plane; ++k) y[at + k] = relu_value(xv[at + k] * scale + shift);
      else
        for (int64_t k = 0; k < plane; ++k) y[at + k] = xv[at + k] * scale + shift;
    }
  }
  if (out.requires_grad())
    tape.on_backward(out, [x, weight, bias, out, mean, rstd, n, channels, plane, count, work, then_relu](Tape<T>& t) {
      const T *xv = x.value().data(), *wv = weight.value().data(), *g = t.grad(out), *yv = out.value().data();
      // dx written outright when it is x's first gradient (0 + d, the bits of a cleared buffer
      // added to): clearing it first was a tenth of the training epoch's memset.
      const auto slot = t.grad_slot(x);  // not a structured binding: clang 14 cannot name one inside an OpenMP region
      T* const gx = slot.data;
      const bool fresh = slot.fresh;
      T* gw = t.grad_to(weight);
      T* gb = t.grad_to(bias);
      // One channel: Σ g and Σ g·x̂ over it, then dx = w·rstd·(g − mean(g) − x̂·mean(g·x̂)). With
      // the ReLU fused, g is first put through its select into a buffer of the channel's values
      // (in L2), so that each loop below is a straight vector loop: the select inside them was a
      // branch per element, mispredicted half the time.
      const auto batch_norm_channel_backward = [&](int64_t c) {
        static thread_local std::vector<T> masked;
        if (then_relu && masked.size() < size_t(n * plane)) masked.resize(size_t(n * plane));
        const T mc = mean[c], rc = rstd[c];
        const auto gradient_of = [&](int64_t i) -> const T* {
          const int64_t at = (i * channels + c) * plane;
          if (!then_relu) return g + at;
          T* __restrict m = masked.data() + i * plane;
          const T *__restrict gi = g + at, *__restrict yi = yv + at;
          for (int64_t k = 0; k < plane; ++k) m[k] = relu_grad(gi[k], yi[k]);
          return m;
        };
        double sum_g = 0, sum_gx = 0;
        for (int64_t i = 0; i < n; ++i) {
          const T *gi = gradient_of(i), *xi = xv + (i * channels + c) * plane;
          sum_g += lane_sum(plane, [gi](int64_t k) { return four(gi + k); }, [gi](int64_t k) { return double(gi[k]); });
          sum_gx += lane_sum(
              plane, [gi, xi, mc, rc](int64_t k) { return four(gi + k) * four_normalised(xi + k, mc, rc); },
              [gi, xi, mc, rc](int64_t k) { return double(gi[k]) * double((xi[k] - mc) * rc); });
        }
        if (gw) gw[c] += T(sum_gx);
        if (gb) gb[c] += T(sum_g);
        if (!gx) return;
        const double mg = sum_g / double(count), mgx = sum_gx / double(count), wr = double(wv[c]) * double(rc);
        for (int64_t i = 0; i < n; ++i) {
          const int64_t at = (i * channels + c) * plane;
          const T *__restrict gi = then_relu ? masked.data() + i * plane : g + at, *__restrict xi = xv + at;
          T* __restrict out_i = gx + at;
          const auto d = [&](int64_t k) { return T(wr * (double(gi[k]) - mg - double((xi[k] - mc) * rc) * mgx)); };
          if (fresh)  // 0 + d, the bits of a cleared buffer added to
            for (int64_t k = 0; k < plane; ++k) out_i[k] = T(0) + d(k);
          else
            for (int64_t k = 0; k < plane; ++k) out_i[k] += d(k);
        }
      };
      FirstException error;  // the thread's buffer may fail to grow
#pragma omp parallel for schedule(static) if (channels > 1 && work >= kParallelWork)
      for (int64_t c = 0; c < channels; ++c) error.run([&] { batch_norm_channel_backward(c); });
      error.rethrow();
    });
  return out;
}

#define INTEGRAD_INSTANTIATE(T)                                  \
  template Var<T> layer_norm(Var<T>, Var<T>, Var<T>, T);         \
  template Var<T> layer_norm_naive(Var<T>, Var<T>, Var<T>, T);  \
  template Var<T> channel_affine(Var<T>, Var<T>, Var<T>);        \
  template Var<T> batch_norm_train(Var<T>, Var<T>, Var<T>, T, Tensor<T>&, Tensor<T>&, bool);
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)
#undef INTEGRAD_INSTANTIATE

}  // namespace integrad::ad
