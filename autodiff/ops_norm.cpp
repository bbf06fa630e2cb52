// Layer normalisation over the last dimension, as torch.nn.functional.layer_norm: per row
// x̂ = (x − μ)·rstd with μ the mean, rstd = 1/sqrt(σ² + eps) and σ² the biased variance; y = x̂·w + b.
// The fused op keeps μ and rstd per row and writes the backward in closed form:
//   dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = g·w,  dw = Σ_rows g·x̂,  db = Σ_rows g.
// layer_norm_naive builds the same function from element-wise ops; the tests compare the two.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "autodiff/batch_norm_kernels.h"
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

namespace {

// T's lanes in one 32-byte vector (8 floats, 4 doubles): the partial sums of BatchNorm's passes.
template <Scalar T>
using Lanes [[gnu::vector_size(32)]] = T;
template <Scalar T>
inline constexpr int64_t kLanes = 32 / sizeof(T);
template <Scalar T>
Lanes<T> load_lanes(const T* p) {
  Lanes<T> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
// The lanes added in double, in a fixed order.
template <Scalar T>
double lanes_total(Lanes<T> v) {
  double s = 0;
  for (int64_t l = 0; l < kLanes<T>; ++l) s += double(v[l]);
  return s;
}

// Σ f(k) over k in [0, len), where f4(k) gives f(k .. k + kLanes − 1) as one vector in T and f(k)
// one value in double. Runs of kBlock values are summed in T, in two vectors of lanes (a lane adds
// at most 64 values), and the runs in double: the statistics of a large batch do not drift as a
// float sum would, and no value is converted to double one by one (converting each was most of
// BatchNorm's time, and BatchNorm a quarter of a ResNet's training). A fixed order: the same bits
// on every run and for any thread count.
inline constexpr int64_t kBlock = 1024;
template <Scalar T, class F4, class F>
double blocked_sum(int64_t len, F4&& f4, F&& f) {
  constexpr int64_t w = kLanes<T>;
  double total = 0;
  for (int64_t at = 0; at < len; at += kBlock) {
    const int64_t end = std::min(len, at + kBlock);
    Lanes<T> a{}, b{};
    int64_t k = at;
    for (; k + 2 * w <= end; k += 2 * w) {
      a += f4(k);
      b += f4(k + w);
    }
    double run = lanes_total<T>(a + b);
    for (; k < end; ++k) run += f(k);
    total += run;
  }
  return total;
}

}  // namespace

// In two passes over the plane (in L1). The squares are taken about the mean rounded to T, as the
// lanes hold it, and corrected to the exact mean.
template <Scalar T>
PlaneMoments plane_moments(const T* p, int64_t len) {
  const double mean = blocked_sum<T>(len, [p](int64_t k) { return load_lanes(p + k); }, [p](int64_t k) { return double(p[k]); }) / double(len);
  const T m = T(mean);
  const double about_m = blocked_sum<T>(
      len,
      [p, m](int64_t k) {
        const Lanes<T> d = load_lanes(p + k) - m;
        return d * d;
      },
      [p, m](int64_t k) {
        const double d = double(p[k] - m);
        return d * d;
      });
  const double off = mean - double(m), squares = about_m - double(len) * off * off;
  return {mean, squares < 0 ? 0.0 : squares};  // rounding may take it below 0; NaN stays
}

namespace {

// BatchNorm's output before any ReLU, y = x·scale + shift: one expression for the forward and the
// backward's ReLU mask, so that both round it alike.
template <Scalar T>
T normalised(T x, T scale, T shift) {
  return x * scale + shift;
}

// Per-thread buffers, grown as needed and kept: a plane's worth for the gradient after
// BatchNorm's ReLU (and residual sum); an image's worth for dx handed to a fused producer
// (batch_norm_train_with's sink).
enum class Buffer { plane, image };
template <Scalar T, Buffer role>
T* thread_buffer(int64_t values) {
  static thread_local std::vector<T> buffer;
  if (buffer.size() < size_t(values)) buffer.resize(size_t(values));
  return buffer.data();
}

}  // namespace

// Every pass is split by images, as the convolutions and add_relu split theirs (static schedule,
// the first half of the batch to the first thread): each thread finds the slice of the batch that
// it wrote or read in the op before in its own L2. Split by channels, every pass read the other
// core's slice from L3, and a ResNet's activations at batch 64 (3.2 MB) outgrow an L2 (2 MB).
// The statistics are per (image, channel) first, then merged in image order: the same bits for
// any thread count.
template <Scalar T>
Var<T> batch_norm_train(Var<T> x, Var<T> weight, Var<T> bias, T eps, Tensor<T>& batch_mean, Tensor<T>& batch_var, bool then_relu, Var<T> residual) {
  return batch_norm_train_with(x, weight, bias, eps, batch_mean, batch_var, then_relu, residual, nullptr, {});
}

template <Scalar T>
Var<T> batch_norm_train_with(Var<T> x, Var<T> weight, Var<T> bias, T eps, Tensor<T>& batch_mean, Tensor<T>& batch_var, bool then_relu, Var<T> residual,
                             const PlaneMoments* moments_given, InputGradientSink<T> sink) {
  const int64_t channels = x.rank() >= 2 ? x.shape()[1] : 0;
  if (x.rank() < 2 || weight.numel() != channels || bias.numel() != channels)
    throw std::invalid_argument("batch_norm_train: x " + x.shape().str() + " needs weight and bias of its " + std::to_string(channels) +
                                " channels, got " + weight.shape().str() + " and " + bias.shape().str());
  Tape<T>& tape = x.tape();
  const int64_t n = x.shape()[0], plane = channels && n ? x.numel() / (n * channels) : 0, count = n * plane;
  if (count == 0) throw std::invalid_argument("batch_norm_train: x " + x.shape().str() + " has no values per channel");
  const bool with_residual = residual.valid();
  if (with_residual && residual.shape() != x.shape())
    throw std::invalid_argument("batch_norm_train: the residual " + residual.shape().str() + " must have x's shape " + x.shape().str());
  Var<T> out = tape.make(x.shape(), x.requires_grad() || sink || weight.requires_grad() || bias.requires_grad() || (with_residual && residual.requires_grad()));
  T* mean = tape.template scratch<T>(static_cast<size_t>(channels));
  T* rstd = tape.template scratch<T>(static_cast<size_t>(channels));
  T* scale = tape.template scratch<T>(static_cast<size_t>(channels));  // y = x·scale + shift
  T* shift = tape.template scratch<T>(static_cast<size_t>(channels));
  batch_mean = Tensor<T>(Shape{channels});
  batch_var = Tensor<T>(Shape{channels});
  const T *xv = x.value().data(), *wv = weight.value().data(), *bv = bias.value().data();
  const T* rv = with_residual ? residual.value().data() : nullptr;
  T* y = tape.write(out);
  // The work, as parallel.h counts it: seven passes over x, three forward and four backward.
  // Counted as x.numel() alone, a ResNet's BatchNorm at batch 64 (800k values) ran on one thread
  // while the other waited: a fifth of its epoch.
  const int64_t work = 7 * kPassCost * x.numel();
  const bool share = work >= kParallelWork;

  std::vector<PlaneMoments> moments_here(moments_given ? 0 : size_t(n * channels));
  if (!moments_given)
    parallel_for(n, share, [&](int64_t i) {
      for (int64_t c = 0; c < channels; ++c) moments_here[size_t(i * channels + c)] = plane_moments(xv + (i * channels + c) * plane, plane);
    });
  const PlaneMoments* moments = moments_given ? moments_given : moments_here.data();
  for (int64_t c = 0; c < channels; ++c) {
    // Chan's merge of equal-sized parts: the mean of the means; the squares within each plane plus
    // each plane's mean's squared distance from the whole, times its size.
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += moments[i * channels + c].mean;
    const double mu = sum / double(n);
    double within = 0, between = 0;
    for (int64_t i = 0; i < n; ++i) {
      const PlaneMoments& m = moments[i * channels + c];
      within += m.squares;
      between += (m.mean - mu) * (m.mean - mu);
    }
    const double var = (within + double(plane) * between) / double(count);
    mean[c] = T(mu);
    rstd[c] = T(1.0 / std::sqrt(var + double(eps)));
    batch_mean[c] = T(mu);
    batch_var[c] = T(var);
    scale[c] = rstd[c] * wv[c];
    shift[c] = bv[c] - mean[c] * scale[c];
  }
  parallel_for(n, share, [&](int64_t i) {
    for (int64_t c = 0; c < channels; ++c) {
      const int64_t at = (i * channels + c) * plane;
      const T a = scale[c], b = shift[c];
      T* __restrict yi = y + at;
      const T* __restrict xi = xv + at;
      if (rv) {  // the sum rounded as add's, then the ReLU
        const T* __restrict ri = rv + at;
        if (then_relu)
          for (int64_t k = 0; k < plane; ++k) yi[k] = relu_value(normalised(xi[k], a, b) + ri[k]);
        else
          for (int64_t k = 0; k < plane; ++k) yi[k] = normalised(xi[k], a, b) + ri[k];
      } else if (then_relu) {
        for (int64_t k = 0; k < plane; ++k) yi[k] = relu_value(normalised(xi[k], a, b));
      } else {
        for (int64_t k = 0; k < plane; ++k) yi[k] = normalised(xi[k], a, b);
      }
    }
  });
  if (out.requires_grad())
    tape.on_backward(out, [x, weight, bias, residual, out, mean, rstd, scale, shift, n, channels, plane, count, share, then_relu, sink](Tape<T>& t) {
      const T *xv = x.value().data(), *wv = weight.value().data(), *g = t.grad(out), *yv = out.value().data();
      // dx written outright when it is x's first gradient (0 + d, the bits of a cleared buffer
      // added to): clearing it first was a tenth of the training epoch's memset.
      const auto slot = t.grad_slot(x);
      T* const gx = slot.data;
      const bool fresh = slot.fresh;
      T* gw = t.grad_to(weight);
      T* gb = t.grad_to(bias);
      const bool with_residual = residual.valid();
      const auto residual_slot = with_residual ? t.grad_slot(residual) : typename Tape<T>::GradSlot{nullptr, false};
      T* const gr = residual_slot.data;
      const bool gr_fresh = residual_slot.fresh;
      // The gradient reaching BatchNorm's output in plane (i, c): g itself, or g through the fused
      // ReLU's select, into the thread's plane buffer in a straight loop of its own (the select
      // inside the loops below was a branch per element, mispredicted half the time). Without a
      // residual the select's y <= 0 is worked out again from x, which this backward reads anyway,
      // as the forward computed it (y = relu(x·scale + shift) <= 0 exactly when x·scale + shift
      // <= 0, NaN passing both): reading y was a quarter of its traffic. With a residual the
      // select reads y, and what passes it is also the residual's gradient, as add_relu's backward
      // gives it (0 + g, as the Add's cleared gradient slot held it); written in the first sweep.
      const auto gradient_of = [&](int64_t i, int64_t c, bool first_sweep) -> const T* {
        const int64_t at = (i * channels + c) * plane;
        const T* __restrict gi = g + at;
        if (!then_relu && !with_residual) return gi;
        T* __restrict m = thread_buffer<T, Buffer::plane>(plane);
        if (!with_residual) {
          const T* __restrict xi = xv + at;
          const T a = scale[c], b = shift[c];
          for (int64_t k = 0; k < plane; ++k) m[k] = relu_grad(gi[k], normalised(xi[k], a, b));
          return m;
        }
        const T* __restrict yi = yv + at;
        if (then_relu)
          for (int64_t k = 0; k < plane; ++k) m[k] = relu_grad(gi[k], yi[k]);
        else
          std::copy_n(gi, plane, m);
        if (T* __restrict ri = gr && first_sweep ? gr + at : nullptr) {
          if (gr_fresh)
            for (int64_t k = 0; k < plane; ++k) ri[k] = T(0) + m[k];
          else
            for (int64_t k = 0; k < plane; ++k) ri[k] += m[k];
        }
        for (int64_t k = 0; k < plane; ++k) m[k] = T(0) + m[k];
        return m;
      };
      // Σ g and Σ g·(x − mean) per plane, merged per channel in image order; then
      // dx = w·rstd·(g − mean(g) − x̂·mean(g·x̂)), all in T as PyTorch computes it.
      struct Sums {
        double g, gd;
      };
      std::vector<Sums> sums(size_t(n * channels));
      FirstException error;  // a thread's plane buffer may fail to grow
      parallel_for(n, share, [&](int64_t i) {
        error.run([&] {
          for (int64_t c = 0; c < channels; ++c) {
            const T *gi = gradient_of(i, c, true), *xi = xv + (i * channels + c) * plane;
            const T mc = mean[c];
            sums[size_t(i * channels + c)] = {
                blocked_sum<T>(plane, [gi](int64_t k) { return load_lanes(gi + k); }, [gi](int64_t k) { return double(gi[k]); }),
                blocked_sum<T>(
                    plane, [gi, xi, mc](int64_t k) { return load_lanes(gi + k) * (load_lanes(xi + k) - mc); },
                    [gi, xi, mc](int64_t k) { return double(gi[k] * (xi[k] - mc)); })};
          }
        });
      });
      error.rethrow();
      const size_t per_channel = static_cast<size_t>(channels);
      std::vector<T> wr(per_channel), mg(per_channel), k_x(per_channel);
      for (int64_t c = 0; c < channels; ++c) {
        double sum_g = 0, sum_gd = 0;
        for (int64_t i = 0; i < n; ++i) {
          sum_g += sums[size_t(i * channels + c)].g;
          sum_gd += sums[size_t(i * channels + c)].gd;
        }
        const double rc = double(rstd[c]), sum_gx = rc * sum_gd;  // Σ g·x̂
        if (gw) gw[c] += T(sum_gx);
        if (gb) gb[c] += T(sum_g);
        // dx = w·rstd·(g − mg − (x − mean)·k), k = rstd·mean(g·x̂)
        wr[size_t(c)] = T(double(wv[c]) * rc);
        mg[size_t(c)] = T(sum_g / double(count));
        k_x[size_t(c)] = T(rc * sum_gx / double(count));
      }
      // dx of plane (i, c) into `to` (fresh: 0 + d, the bits of a cleared buffer added to).
      const auto dx_plane = [&](int64_t i, int64_t c, T* __restrict to, bool to_fresh) {
        const int64_t at = (i * channels + c) * plane;
        const T *__restrict gi = gradient_of(i, c, false), *__restrict xi = xv + at;
        const T a = wr[size_t(c)], m = mg[size_t(c)], k = k_x[size_t(c)], mc = mean[c];
        if (to_fresh)
          for (int64_t j = 0; j < plane; ++j) to[j] = T(0) + a * (gi[j] - m - (xi[j] - mc) * k);
        else
          for (int64_t j = 0; j < plane; ++j) to[j] += a * (gi[j] - m - (xi[j] - mc) * k);
      };
      if (sink) {  // x's producer takes dx image by image, from this thread's buffer
        sink.take(t, sink.context, [&](int64_t i) -> const T* {
          T* image = thread_buffer<T, Buffer::image>(channels * plane);
          for (int64_t c = 0; c < channels; ++c) dx_plane(i, c, image + c * plane, true);
          return image;
        });
        return;
      }
      if (!gx) return;
      parallel_for(n, share, [&](int64_t i) {
        error.run([&] {
          for (int64_t c = 0; c < channels; ++c) dx_plane(i, c, gx + (i * channels + c) * plane, fresh);
        });
      });
      error.rethrow();
    });
  return out;
}

#define INTEGRAD_INSTANTIATE(T)                                  \
  template Var<T> layer_norm(Var<T>, Var<T>, Var<T>, T);         \
  template Var<T> layer_norm_naive(Var<T>, Var<T>, Var<T>, T);  \
  template Var<T> channel_affine(Var<T>, Var<T>, Var<T>);        \
  template Var<T> batch_norm_train(Var<T>, Var<T>, Var<T>, T, Tensor<T>&, Tensor<T>&, bool, Var<T>); \
  template Var<T> batch_norm_train_with(Var<T>, Var<T>, Var<T>, T, Tensor<T>&, Tensor<T>&, bool, Var<T>, const PlaneMoments*, InputGradientSink<T>); \
  template PlaneMoments plane_moments(const T*, int64_t);
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)
#undef INTEGRAD_INSTANTIATE

}  // namespace integrad::ad
