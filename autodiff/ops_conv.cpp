// conv2d: checks shapes, computes the output and records the backward, by one of the two
// kernels of conv_kernels.h: the padded-row unfolding for stride 1 (conv_rows.cpp), or here the
// classic im2col + GEMM (as in Caffe and ggml) for any stride. The patches of the whole batch are
// unfolded once into cols [C·kh·kw, N·Ho·Wo]; then, per image, out_n = W·cols_n, and in the backward
//   dW += dY·colsᵀ over the whole batch in one GEMM (rows of dW split over threads, so the sum
//         over images has a fixed order whatever the thread count), and
//   dx_n = col2im(Wᵀ·dY_n) per image (images are independent, so they run in parallel).
// conv_naive.h holds the direct-loop reference the tests compare both with.
#include <algorithm>
#include <cstring>

#include <omp.h>

#include "autodiff/conv_kernels.h"
#include "autodiff/gemm.h"
#include "autodiff/ops.h"
#include "autodiff/parallel.h"

namespace integrad::ad {

ConvGeometry conv_geometry(const Shape& x, const Shape& w, int stride, int padding) {
  if (x.rank() != 4 || w.rank() != 4 || x[1] != w[1])
    throw std::invalid_argument("conv2d: input " + x.str() + " and weight " + w.str() + " do not fit ([N, C, H, W] and [O, C, kh, kw])");
  if (stride < 1 || padding < 0) throw std::invalid_argument("conv2d: stride must be >= 1 and padding >= 0");
  ConvGeometry g{x[0], x[1], x[2], x[3], w[0], w[2], w[3], 0, 0, stride, padding};
  if (g.h + 2 * padding < g.kh || g.w + 2 * padding < g.kw)
    throw std::invalid_argument("conv2d: kernel " + w.str() + " larger than padded input " + x.str());
  g.ho = (g.h + 2 * padding - g.kh) / stride + 1;
  g.wo = (g.w + 2 * padding - g.kw) / stride + 1;
  // Unfolded, the patches take patch·N·Ho·Wo values (the stride-2 path holds them all at once, the
  // stride-1 path an image's at a time): refuse what no memory holds rather than die.
  if (double(g.patch()) * double(g.n * g.ho * g.wo) > double(int64_t(1) << 31))
    throw std::invalid_argument("conv2d: input " + x.str() + " with weight " + w.str() + " would unfold to more than 2^31 values");
  return g;
}

namespace {

// The output columns ox whose input column ox·stride − padding + j lies inside [0, w): [lo, hi).
// Computing the range once keeps bounds checks out of the inner loops.
struct ValidRange {
  int64_t lo, hi;
};
ValidRange valid_outputs(int64_t j, int64_t w, int64_t wo, int stride, int padding) {
  const int64_t first = padding - j;  // ox·stride ≥ first
  const int64_t lo = first <= 0 ? 0 : (first + stride - 1) / stride;
  const int64_t last = w - 1 + padding - j;  // ox·stride ≤ last
  const int64_t hi = last < 0 ? 0 : std::min(wo, last / stride + 1);
  return {std::min(lo, hi), hi};
}

// Unfold image x [C, H, W] into columns cols[row, col0 + p] (row = (ic·kh + i)·kw + j, p = output pixel).
template <Scalar T>
void im2col(const ConvGeometry& g, const T* x, T* cols, int64_t ld, int64_t col0) {
  for (int64_t ic = 0; ic < g.c; ++ic)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        T* row = cols + ((ic * g.kh + i) * g.kw + j) * ld + col0;
        const T* plane = x + ic * g.h * g.w;
        const ValidRange r = valid_outputs(j, g.w, g.wo, g.stride, g.padding);
        for (int64_t oy = 0; oy < g.ho; ++oy) {
          const int64_t iy = oy * g.stride - g.padding + i;
          T* dst = row + oy * g.wo;
          if (iy < 0 || iy >= g.h) {
            std::fill_n(dst, g.wo, T(0));
            continue;
          }
          const T* src = plane + iy * g.w - g.padding + j;  // src[ox·stride] is pixel (iy, ox·stride − padding + j)
          std::fill_n(dst, r.lo, T(0));
          if (g.stride == 1) std::copy(src + r.lo, src + r.hi, dst + r.lo);
          else
            for (int64_t ox = r.lo; ox < r.hi; ++ox) dst[ox] = src[ox * g.stride];
          std::fill_n(dst + r.hi, g.wo - r.hi, T(0));
        }
      }
}

// The adjoint of im2col: add column entries back to the pixels they came from.
template <Scalar T>
void col2im_add(const ConvGeometry& g, const T* cols, T* dx) {
  for (int64_t ic = 0; ic < g.c; ++ic)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        const T* row = cols + ((ic * g.kh + i) * g.kw + j) * g.pixels();
        T* plane = dx + ic * g.h * g.w;
        const ValidRange r = valid_outputs(j, g.w, g.wo, g.stride, g.padding);
        for (int64_t oy = 0; oy < g.ho; ++oy) {
          const int64_t iy = oy * g.stride - g.padding + i;
          if (iy < 0 || iy >= g.h) continue;
          T* dst = plane + iy * g.w - g.padding + j;
          const T* src = row + oy * g.wo;
          if (g.stride == 1)
            for (int64_t ox = r.lo; ox < r.hi; ++ox) dst[ox] += src[ox];
          else
            for (int64_t ox = r.lo; ox < r.hi; ++ox) dst[ox * g.stride] += src[ox];
        }
      }
}

// The stride-1 path: both directions in conv_rows.cpp, optionally with a ReLU (and a 2×2 max
// pooling after it) fused in. A pooled forward keeps each window's winner for the backward.
template <Scalar T>
void conv2d_rows(const ConvGeometry& g, Var<T> x, Var<T> weight, Var<T> bias, ConvOutput how, Var<T> out) {
  Tape<T>& tape = x.tape();
  if (how.pool && out.requires_grad()) how.winners = tape.template scratch<int32_t>(static_cast<size_t>(out.numel()));
  conv_rows_forward(g, x.value().data(), weight.value().data(), bias.valid() ? bias.value().data() : nullptr, how, tape.write(out));
  if (out.requires_grad())
    tape.on_backward(out, [x, weight, bias, how, out, g](Tape<T>& t) {
      const auto [dx, fresh] = t.grad_slot(x);
      conv_rows_backward(g, x.value().data(), weight.value().data(), t.grad(out), how.relu ? out.value().data() : nullptr, how.winners, dx, fresh,
                         t.grad_to(weight), bias.valid() ? t.grad_to(bias) : nullptr);
    });
}

template <Scalar T>
void conv2d_im2col(const ConvGeometry& g, Var<T> x, Var<T> weight, Var<T> bias, Var<T> out) {
  Tape<T>& tape = x.tape();
  const bool has_bias = bias.valid();
  // cols holds the whole batch side by side when the backward needs it for dW. Otherwise (any
  // attribution: the weights are constants) each thread unfolds one image at a time into a buffer
  // of its own, which stays in L2 where the whole batch's patches did not.
  const bool keep_cols = weight.requires_grad();
  const int64_t ld = keep_cols ? g.n * g.pixels() : g.pixels();
  const int64_t buffers = keep_cols ? 1 : std::max(1, omp_get_max_threads());
  T* cols = tape.template scratch<T>(static_cast<size_t>(g.patch() * ld * buffers));
  const T *xv = x.value().data(), *wv = weight.value().data();
  const T* bv = has_bias ? bias.value().data() : nullptr;
  T* y = tape.write(out);
  // Multiply-adds of the whole convolution (and of each of its two backward GEMMs).
  const int64_t work = g.n * g.o * g.pixels() * g.patch();
  FirstException error;  // gemm allocates its packing buffers
#pragma omp parallel for schedule(static) if (g.n > 1 && work >= kParallelWork)
  for (int64_t b = 0; b < g.n; ++b) error.run([&] {
    T* mine = keep_cols ? cols + b * g.pixels() : cols + std::min<int64_t>(omp_get_thread_num(), buffers - 1) * g.patch() * ld;
    im2col(g, xv + b * g.c * g.h * g.w, mine, ld, 0);
    T* yb = y + b * g.o * g.pixels();
    gemm(false, false, g.o, g.pixels(), g.patch(), T(1), wv, g.patch(), mine, ld, T(0), yb, g.pixels());
    if (bv)
      for (int64_t oc = 0; oc < g.o; ++oc)
        for (int64_t p = 0; p < g.pixels(); ++p) yb[oc * g.pixels() + p] += bv[oc];
  });
  error.rethrow();

  if (out.requires_grad()) {
    tape.on_backward(out, [x, weight, bias, out, g, cols, ld, work](Tape<T>& t) {
      const T* dy = t.grad(out);
      // Each output channel's bias gradient sums its images in order: one writer, a fixed order.
      if (T* db = bias.valid() ? t.grad_to(bias) : nullptr) {
#pragma omp parallel for schedule(static) if (g.o > 1 && g.n * g.o * g.pixels() >= kParallelWork)
        for (int64_t oc = 0; oc < g.o; ++oc)
          for (int64_t b = 0; b < g.n; ++b) {
            T s = 0;
            for (int64_t p = 0; p < g.pixels(); ++p) s += dy[(b * g.o + oc) * g.pixels() + p];
            db[oc] += s;
          }
      }
      if (T* dw = t.grad_to(weight)) {
        // dY as [O, N·Ho·Wo] so that one GEMM sums over the batch: dW += dYᵀ-layout · colsᵀ.
        T* dy_t = t.template scratch<T>(static_cast<size_t>(g.o * ld));
#pragma omp parallel for schedule(static) if (g.n > 1 && g.n * g.o * g.pixels() >= kParallelWork)
        for (int64_t b = 0; b < g.n; ++b)
          for (int64_t oc = 0; oc < g.o; ++oc)
            std::memcpy(dy_t + oc * ld + b * g.pixels(), dy + (b * g.o + oc) * g.pixels(), sizeof(T) * static_cast<size_t>(g.pixels()));
        gemm(false, true, g.o, g.patch(), ld, T(1), dy_t, ld, cols, ld, T(1), dw, g.patch());
      }
      if (T* dx = t.grad_to(x)) {
        const T* wv = weight.value().data();
        T* dcols = t.template scratch<T>(static_cast<size_t>(g.patch() * g.n * g.pixels()));
        FirstException error;  // gemm allocates its packing buffers
#pragma omp parallel for schedule(static) if (g.n > 1 && work >= kParallelWork)
        for (int64_t b = 0; b < g.n; ++b) error.run([&] {
          T* dcols_b = dcols + b * g.patch() * g.pixels();
          gemm(true, false, g.patch(), g.pixels(), g.o, T(1), wv, g.patch(), dy + b * g.o * g.pixels(), g.pixels(), T(0), dcols_b, g.pixels());
          col2im_add(g, dcols_b, dx + b * g.c * g.h * g.w);
        });
        error.rethrow();
      }
    });
  }
}

// conv2d, conv2d_relu or conv2d_relu_max_pool2d: checks the shapes, then takes the path the stride
// allows (the stride-1 kernel fuses the ReLU and the pooling; the other runs them as ops after it).
template <Scalar T>
Var<T> convolve(Var<T> x, Var<T> weight, Var<T> bias, int stride, int padding, bool relu, bool pool) {
  const ConvGeometry g = conv_geometry(x.shape(), weight.shape(), stride, padding);
  if (bias.valid() && (bias.rank() != 1 || bias.shape()[0] != g.o))
    throw std::invalid_argument("conv2d: bias " + bias.shape().str() + " does not match " + std::to_string(g.o) + " output channels");
  const bool needs_grad = x.requires_grad() || weight.requires_grad() || (bias.valid() && bias.requires_grad());
  if (stride != 1) {
    Var<T> out = x.tape().make(Shape{g.n, g.o, g.ho, g.wo}, needs_grad);
    conv2d_im2col(g, x, weight, bias, out);
    if (relu) out = ad::relu(out);
    return pool ? max_pool2d(out, 2, 2) : out;
  }
  if (pool && (g.ho < 2 || g.wo < 2))
    throw std::invalid_argument("max_pool2d: kernel 2 larger than input " + Shape{g.n, g.o, g.ho, g.wo}.str());
  Var<T> out = x.tape().make(pool ? Shape{g.n, g.o, g.ho / 2, g.wo / 2} : Shape{g.n, g.o, g.ho, g.wo}, needs_grad);
  conv2d_rows(g, x, weight, bias, ConvOutput{.relu = relu, .pool = pool}, out);
  return out;
}

}  // namespace

template <Scalar T>
Var<T> conv2d(Var<T> x, Var<T> weight, Var<T> bias, int stride, int padding) {
  return convolve(x, weight, bias, stride, padding, false, false);
}

template <Scalar T>
Var<T> conv2d_relu(Var<T> x, Var<T> weight, Var<T> bias, int stride, int padding) {
  return convolve(x, weight, bias, stride, padding, true, false);
}

template <Scalar T>
Var<T> conv2d_relu_max_pool2d(Var<T> x, Var<T> weight, Var<T> bias, int stride, int padding) {
  return convolve(x, weight, bias, stride, padding, true, true);
}

template Var<float> conv2d(Var<float>, Var<float>, Var<float>, int, int);
template Var<double> conv2d(Var<double>, Var<double>, Var<double>, int, int);
template Var<float> conv2d_relu(Var<float>, Var<float>, Var<float>, int, int);
template Var<double> conv2d_relu(Var<double>, Var<double>, Var<double>, int, int);
template Var<float> conv2d_relu_max_pool2d(Var<float>, Var<float>, Var<float>, int, int);
template Var<double> conv2d_relu_max_pool2d(Var<double>, Var<double>, Var<double>, int, int);

}  // namespace integrad::ad
